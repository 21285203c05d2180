import type { BroadcastLog } from './broadcast-log.js';
import type { CrashBatch } from './membership-oracle.js';
import type { SimCounters } from './simulator.js';
import type { TopicLayout } from './topic-layout.js';

/**
 * When a broadcast was issued relative to the run's crash: `stable` (no crash in the run),
 * `before` (issued before the crash and fully delivered before it), `during` (in flight at the
 * crash, or issued before the last live node learned of it), `after` (issued once every live
 * node knew).
 */
export type BroadcastPhase = 'stable' | 'before' | 'during' | 'after';

/** The paper's metrics for one broadcast. */
export interface BroadcastMetrics {
  readonly index: number;
  readonly topic: string;
  readonly origin: string;
  readonly issueMs: number;
  readonly phase: BroadcastPhase;
  /** False for warm-up broadcasts (see {@link RunSummary.warmup}). */
  readonly steady: boolean;
  /** Subscribers of the topic that never crashed during the run, the origin excluded. */
  readonly liveSubscribers: number;
  /** How many of those delivered. */
  readonly liveDelivered: number;
  /** liveDelivered / liveSubscribers (1 when there are none). */
  readonly reliability: number;
  /** Nodes that delivered, the origin included, crashed-later nodes included. */
  readonly deliveringNodes: number;
  /** Frames carrying the payload, GRAFT/IWANT answers included. */
  readonly payloadTransmissions: number;
  /** Relative Message Redundancy: payloadTransmissions / (deliveringNodes - 1) - 1; NaN if nobody but the origin delivered. */
  readonly rmr: number;
  /** Last Delivery Hop: hops of the latest delivery. */
  readonly ldh: number;
  readonly maxHops: number;
  /** Mean delivery latency over delivering nodes other than the origin (NaN if none). */
  readonly meanLatencyMs: number;
  readonly maxLatencyMs: number;
  /** Second deliveries of this broadcast at one node (a protocol bug when non-zero). */
  readonly duplicateDeliveries: number;
}

/** Min and mean of a set of values (NaN when empty). */
export interface MinMean {
  readonly count: number;
  readonly min: number;
  readonly mean: number;
}

/** Everything a run measured, aggregated. */
export interface RunSummary {
  readonly protocol: string;
  readonly broadcasts: number;
  /**
   * Warm-up rule: a broadcast is warm-up when it is among the first `warmup` of the run or the
   * first of its topic; every other broadcast is steady.
   */
  readonly warmup: number;
  readonly reliability: MinMean;
  readonly reliabilityByPhase: Readonly<Record<BroadcastPhase, MinMean>>;
  /** Mean per-broadcast RMR over warm-up broadcasts (1-20 with one topic). */
  readonly rmrWarmup: number;
  /** Mean per-broadcast RMR over steady broadcasts (21-end with one topic). */
  readonly rmrSteady: number;
  /** Mean per-broadcast RMR over all broadcasts. */
  readonly rmrAll: number;
  /** Sum of payload transmissions / sum of (deliveringNodes - 1), steady broadcasts. */
  readonly payloadPerDeliverySteady: number;
  /** Same over all broadcasts. */
  readonly payloadPerDeliveryAll: number;
  /** Mean LDH over all broadcasts, and the largest. */
  readonly ldhMean: number;
  readonly ldhMax: number;
  /** Mean LDH over steady broadcasts. */
  readonly ldhSteadyMean: number;
  /** Delivery-weighted mean latency over all broadcasts (origins excluded). */
  readonly meanLatencyMs: number;
  readonly maxLatencyMs: number;
  readonly duplicateDeliveries: number;
  readonly counters: Readonly<SimCounters>;
  /** Simulated time when the run stopped. */
  readonly simEndMs: number;
  readonly crash?: {
    readonly atMs: number;
    readonly nodes: number;
    readonly allLearnedAtMs: number;
  };
}

function minMean(values: readonly number[]): MinMean {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return { count: 0, min: NaN, mean: NaN };
  let min = Infinity;
  let sum = 0;
  for (const v of finite) {
    if (v < min) min = v;
    sum += v;
  }
  return { count: finite.length, min, mean: sum / finite.length };
}

function mean(values: readonly number[]): number {
  return minMean(values).mean;
}

/**
 * Per-broadcast metrics from the raw log. Reliability counts the origin out: the denominator is
 * the topic's subscribers that never crashed during the run, minus the origin.
 */
export function broadcastMetrics(
  log: BroadcastLog,
  topics: TopicLayout,
  names: readonly string[],
  crashed: Uint8Array,
  crash: CrashBatch | undefined,
  warmup: number,
): BroadcastMetrics[] {
  const out: BroadcastMetrics[] = [];
  const topicSeen = new Set<number>();
  for (let i = 0; i < log.count; i++) {
    const topic = topics.topics[log.topic[i]!]!;
    const origin = log.origin[i]!;
    const delivered = log.delivered[i]!;
    let live = 0;
    let liveDelivered = 0;
    for (const s of topic.subscribers) {
      if (s === origin || crashed[s] === 1) continue;
      live++;
      liveDelivered += delivered[s]!;
    }
    const issueMs = log.issueMs[i]!;
    let phase: BroadcastPhase = 'stable';
    if (crash !== undefined) {
      if (issueMs < crash.atMs) phase = log.lastDeliveryMs[i]! >= crash.atMs ? 'during' : 'before';
      else phase = issueMs < crash.allLearnedAtMs ? 'during' : 'after';
    }
    const firstOfTopic = !topicSeen.has(topic.index);
    topicSeen.add(topic.index);
    const deliveringNodes = log.deliveries[i]!;
    const payload = log.payloadTx[i]!;
    out.push({
      index: i,
      topic: topic.name,
      origin: names[origin]!,
      issueMs,
      phase,
      steady: i >= warmup && !firstOfTopic,
      liveSubscribers: live,
      liveDelivered,
      reliability: live === 0 ? 1 : liveDelivered / live,
      deliveringNodes,
      payloadTransmissions: payload,
      rmr: deliveringNodes > 1 ? payload / (deliveringNodes - 1) - 1 : NaN,
      ldh: log.lastDeliveryHops[i]!,
      maxHops: log.maxHops[i]!,
      meanLatencyMs: deliveringNodes > 1 ? log.latencySumMs[i]! / (deliveringNodes - 1) : NaN,
      maxLatencyMs: log.latencyMaxMs[i]!,
      duplicateDeliveries: log.duplicateDeliveries[i]!,
    });
  }
  return out;
}

/** Aggregate a run's per-broadcast metrics. */
export function summarizeRun(
  protocol: string,
  metrics: readonly BroadcastMetrics[],
  log: BroadcastLog,
  counters: SimCounters,
  simEndMs: number,
  warmup: number,
  crash: CrashBatch | undefined,
): RunSummary {
  const phases: BroadcastPhase[] = ['stable', 'before', 'during', 'after'];
  const byPhase = Object.fromEntries(
    phases.map((p) => [p, minMean(metrics.filter((m) => m.phase === p).map((m) => m.reliability))]),
  ) as Record<BroadcastPhase, MinMean>;
  const steady = metrics.filter((m) => m.steady);
  const warm = metrics.filter((m) => !m.steady);
  const perDelivery = (ms: readonly BroadcastMetrics[]): number => {
    let tx = 0;
    let d = 0;
    for (const m of ms) {
      tx += m.payloadTransmissions;
      d += m.deliveringNodes - 1;
    }
    return d > 0 ? tx / d : NaN;
  };
  let latSum = 0;
  let latCount = 0;
  let latMax = 0;
  for (let i = 0; i < log.count; i++) {
    latSum += log.latencySumMs[i]!;
    latCount += log.deliveries[i]! - 1;
    latMax = Math.max(latMax, log.latencyMaxMs[i]!);
  }
  return {
    protocol,
    broadcasts: metrics.length,
    warmup,
    reliability: minMean(metrics.map((m) => m.reliability)),
    reliabilityByPhase: byPhase,
    rmrWarmup: mean(warm.map((m) => m.rmr)),
    rmrSteady: mean(steady.map((m) => m.rmr)),
    rmrAll: mean(metrics.map((m) => m.rmr)),
    payloadPerDeliverySteady: perDelivery(steady),
    payloadPerDeliveryAll: perDelivery(metrics),
    ldhMean: mean(metrics.map((m) => m.ldh)),
    ldhMax: metrics.reduce((a, m) => Math.max(a, m.ldh), 0),
    ldhSteadyMean: mean(steady.map((m) => m.ldh)),
    meanLatencyMs: latCount > 0 ? latSum / latCount : NaN,
    maxLatencyMs: latMax,
    duplicateDeliveries: metrics.reduce((a, m) => a + m.duplicateDeliveries, 0),
    counters: { ...counters },
    simEndMs,
    ...(crash === undefined
      ? {}
      : {
          crash: {
            atMs: crash.atMs,
            nodes: crash.members.length,
            allLearnedAtMs: crash.allLearnedAtMs,
          },
        }),
  };
}
