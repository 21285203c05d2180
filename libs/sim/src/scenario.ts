import { randomInt } from '@plumtree/common';
import type { LatencyConfig } from './latency-model.js';
import type { CrashBatch, DetectionConfig } from './membership-oracle.js';
import type { SimProtocol } from './protocol-adapter.js';
import {
  broadcastMetrics,
  summarizeRun,
  type BroadcastMetrics,
  type RunSummary,
} from './run-metrics.js';
import { SeedStream, streamRng } from './seeds.js';
import { Simulator } from './simulator.js';

/** How each broadcast picks its topic. */
export type TopicChoice = 'uniform' | 'zipf';

/** A benchmark scenario: topology, workload and failure schedule. */
export interface ScenarioConfig {
  readonly nodes: number;
  readonly broadcasts: number;
  readonly seed: number;
  /** Simulated time between broadcasts. Default 100 ms. */
  readonly intervalMs: number;
  /** Time of the first broadcast (subscriptions and link requests happen at 0). Default 1,000 ms. */
  readonly startMs: number;
  /** Number of topics, Zipf-sized (see `zipfSubscriberCounts`). Default 1. */
  readonly topics: number;
  /**
   * `uniform` (default): every topic equally likely, so small topics are exercised too;
   * `zipf`: topic k with weight 1/k, like its subscriber count.
   */
  readonly topicChoice: TopicChoice;
  /** Per-message loss probability. Default 0. */
  readonly lossRate: number;
  /** Percentage of nodes crashed at once, 0 for a stable run. Default 0. */
  readonly failPercent: number;
  /**
   * The crash happens half an interval after this broadcast (1-based). Default
   * `ceil(broadcasts / 2)`.
   */
  readonly crashAfterBroadcast?: number;
  /** Warm-up broadcasts at the start of the run (see `RunSummary.warmup`). Default 20. */
  readonly warmup: number;
  /** After the last broadcast, stop once no frame was sent for this long. Default 3,000 ms. */
  readonly quietMs: number;
  /** Hard bound on the time run after the last broadcast. Default 30,000 ms. */
  readonly maxDrainMs: number;
  readonly payloadBytes: number;
  readonly rttSamples: number;
  readonly latency?: Partial<LatencyConfig>;
  readonly detection?: Partial<DetectionConfig>;
}

/** Defaults of every optional scenario field. */
export const SCENARIO_DEFAULTS: Omit<ScenarioConfig, 'nodes' | 'broadcasts'> = {
  seed: 1,
  intervalMs: 100,
  startMs: 1_000,
  topics: 1,
  topicChoice: 'uniform',
  lossRate: 0,
  failPercent: 0,
  warmup: 20,
  quietMs: 3_000,
  maxDrainMs: 30_000,
  payloadBytes: 64,
  rttSamples: 32,
};

/** A finished run: per-broadcast metrics, the summary and (when a clock was given) wall time. */
export interface ScenarioResult {
  readonly config: ScenarioConfig;
  readonly summary: RunSummary;
  readonly broadcasts: readonly BroadcastMetrics[];
  /** Wall-clock milliseconds, measured with the clock passed in (NaN without one). */
  readonly wallMs: number;
}

/**
 * Run one scenario with one protocol: start the simulator, issue `broadcasts` broadcasts every
 * `intervalMs` from a random live subscriber of the chosen topic, crash `failPercent` % of the
 * nodes half an interval after broadcast `crashAfterBroadcast`, then drain until quiet.
 *
 * `clock` (e.g. `performance.now`) is only used to measure wall time; libs/sim never reads one.
 */
export function runScenario<M>(
  protocol: SimProtocol<M>,
  input: Partial<ScenarioConfig> & Pick<ScenarioConfig, 'nodes' | 'broadcasts'>,
  clock?: () => number,
): ScenarioResult {
  const config: ScenarioConfig = { ...SCENARIO_DEFAULTS, ...input };
  const t0 = clock?.() ?? NaN;
  const sim = new Simulator(protocol, {
    nodes: config.nodes,
    seed: config.seed,
    topics: config.topics,
    lossRate: config.lossRate,
    rttSamples: config.rttSamples,
    ...(config.latency ? { latency: config.latency } : {}),
    ...(config.detection ? { detection: config.detection } : {}),
  });
  sim.start();
  const workload = streamRng(config.seed, SeedStream.Workload);
  const topics = sim.topics.topics;
  let zipfTotal = 0;
  for (let k = 1; k <= topics.length; k++) zipfTotal += 1 / k;
  const pickTopic = (): number => {
    if (config.topicChoice === 'uniform' || topics.length === 1)
      return randomInt(workload, topics.length);
    let u = workload.next() * zipfTotal;
    for (let k = 1; k <= topics.length; k++) {
      u -= 1 / k;
      if (u < 0) return k - 1;
    }
    return topics.length - 1;
  };
  const crashed = sim.oracle.crashed;
  const pickOrigin = (t: number): number | undefined => {
    const subs = topics[t]!.subscribers;
    for (let a = 0; a < 64; a++) {
      const s = subs[randomInt(workload, subs.length)]!;
      if (crashed[s] === 0) return s;
    }
    const live = Array.from(subs).filter((s) => crashed[s] === 0);
    return live.length === 0 ? undefined : live[randomInt(workload, live.length)];
  };
  for (let b = 0; b < config.broadcasts; b++) {
    sim.at(config.startMs + b * config.intervalMs, (s) => {
      const t = pickTopic();
      const origin = pickOrigin(t);
      if (origin === undefined) return;
      const payload = new Uint8Array(config.payloadBytes);
      new DataView(payload.buffer).setUint32(0, b);
      s.broadcast(origin, t, payload);
    });
  }
  let crash: CrashBatch | undefined;
  if (config.failPercent > 0) {
    const after = config.crashAfterBroadcast ?? Math.ceil(config.broadcasts / 2);
    const atMs = config.startMs + (after - 1) * config.intervalMs + config.intervalMs / 2;
    const count = Math.round((config.nodes * config.failPercent) / 100);
    sim.at(atMs, (s) => {
      crash = s.crashRandom(count);
    });
  }
  const lastIssue = config.startMs + (config.broadcasts - 1) * config.intervalMs;
  sim.runUntilQuiet(lastIssue, config.quietMs, config.maxDrainMs);
  const metrics = broadcastMetrics(sim.log, sim.topics, sim.names, crashed, crash, config.warmup);
  const summary = summarizeRun(
    protocol.name,
    metrics,
    sim.log,
    sim.counters,
    sim.now,
    config.warmup,
    crash,
  );
  const wallMs = clock ? clock() - t0 : NaN;
  return { config, summary, broadcasts: metrics, wallMs };
}
