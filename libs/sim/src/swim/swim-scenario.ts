/**
 * SWIM failure-detection scenarios on the {@link SwimSimulator}: N real cores, packet loss, a
 * crash schedule, optionally one lagging node, and what memberlist promises about them.
 *
 * Measured per crash: when the first live node suspected it, and when each never-crashed node
 * raised `member-failed` for it. Measured run-wide: every `member-failed` about a node that was
 * running at that instant (a false positive), and the suspicions the lagging node originated about
 * running nodes (its false accusations).
 */
import {
  resolveSwimConfig,
  suspicionTimeoutMs,
  type SwimConfigInput,
} from '@plumtree/swim/sans-io';
import { SeedStream, streamRng } from '../seeds.js';
import { SwimSimulator } from './swim-simulator.js';

/** What to run. */
export interface SwimScenarioConfig {
  readonly nodes: number;
  readonly seed: number;
  /** Packet loss probability. */
  readonly loss: number;
  /** Simulated duration. */
  readonly durationMs: number;
  /** Number of nodes crashed, at uniform random instants in the crash window. */
  readonly crashes: number;
  /** Node config (default the `lan` preset). */
  readonly config?: SwimConfigInput;
  /** Crashes happen no earlier than this (after the start-up alive burst). Default 30 s. */
  readonly warmupMs?: number;
  /** Lag of the lagging node, 0 for none. Default 0. */
  readonly lateMs?: number;
  /** Whether the lagging node also handles inbound traffic late. Default true. */
  readonly lateInbound?: boolean;
  /** Nodes start at uniform instants in [0, startSpreadMs). Default one probe interval. */
  readonly startSpreadMs?: number;
}

/** The detection of one crash. */
export interface CrashDetection {
  readonly node: string;
  readonly crashMs: number;
  /** Crash to the first `member-suspect` anywhere (probe detection), or null. */
  readonly firstSuspectAfterMs: number | null;
  /** Crash to the first and last `member-failed` among never-crashed nodes. */
  readonly firstFailedAfterMs: number | null;
  readonly lastFailedAfterMs: number | null;
  /** Never-crashed nodes that raised `member-failed` for it, of how many. */
  readonly observers: number;
  readonly liveNodes: number;
  /** The bound it had to meet (see {@link detectionBoundMs}). */
  readonly boundMs: number;
  /** Every never-crashed node marked it dead within the bound. */
  readonly withinBound: boolean;
}

/** A running node declared dead. */
export interface FalsePositive {
  readonly observer: string;
  readonly target: string;
  readonly atMs: number;
}

/** The result of {@link runSwimScenario}. */
export interface SwimScenarioResult {
  readonly config: Required<Omit<SwimScenarioConfig, 'config'>> & { preset: string };
  readonly crashes: CrashDetection[];
  readonly falsePositives: FalsePositive[];
  /** `member-suspect` events about running nodes, at any node (one per node that moved it to suspect). */
  readonly suspicionsOfLiveNodes: number;
  /** The lagging node's name, when there is one. */
  readonly lateNode: string | null;
  /**
   * Its false accusations: its own failed probes that turned a running member from alive to
   * suspect (each originates a suspect message; a failed probe of a member someone else already
   * suspects is a confirmation and is not counted).
   */
  readonly lateNodeAccusations: number;
  /** All probes of the lagging node that ended without an ack (core `stats.probeFailures`). */
  readonly lateNodeProbeFailures: number;
  /** Times another node's own failed probe turned the lagging node from alive to suspect. */
  readonly accusationsOfLateNode: number;
  /** The lagging node's Lifeguard health score at the end. */
  readonly lateNodeHealthScore: number;
  readonly bound: DetectionBound;
  readonly events: number;
  readonly packetsSent: number;
  readonly packetsLost: number;
}

/** The parts of the detection bound. */
export interface DetectionBound {
  /** Time allowed for some node's probe to hit the crashed node and fail. */
  readonly probeMs: number;
  /** memberlist's longest suspicion: `suspicionMaxTimeoutMult * suspicionTimeout(n)`. */
  readonly suspicionMaxMs: number;
  /** Time allowed to gossip the dead message to everyone. */
  readonly disseminationMs: number;
  readonly totalMs: number;
}

/**
 * The bound a crash must be detected within by every live node:
 *
 * - probe: `10 * probeIntervalMs`. Each live node probes one member per interval round-robin, so
 *   with n - 1 probers some node probes the crashed one about once per interval; the probe then
 *   fails within one more interval (probe timeout, indirect probes, TCP fallback). Ten intervals
 *   leave a margin of e^-9 for the first hit.
 * - suspicion: `suspicionMaxTimeoutMult * suspicionMult * max(1, log10(n)) * probeIntervalMs`,
 *   the timeout of a suspicion nobody confirms (memberlist `suspicionMaxTimeoutMult`); every
 *   node that hears the suspect message arms its own timer, and the first to expire declares
 *   the death.
 * - dissemination: `(ceil(log_fanout(n)) + 2 * retransmitMult) * gossipIntervalMs`: the dead
 *   message reaches everybody in about log_fanout(n) gossip rounds; the extra rounds cover loss.
 */
export function detectionBoundMs(n: number, config: SwimConfigInput = {}): DetectionBound {
  const c = resolveSwimConfig({ name: 'bound', ...config });
  const probeMs = 10 * c.probeIntervalMs;
  const suspicionMaxMs =
    c.suspicionMaxTimeoutMult * suspicionTimeoutMs(c.suspicionMult, n, c.probeIntervalMs);
  const rounds =
    Math.ceil(Math.log(Math.max(2, n)) / Math.log(Math.max(2, c.gossipNodes))) +
    2 * c.retransmitMult;
  const disseminationMs = rounds * c.gossipIntervalMs;
  return {
    probeMs,
    suspicionMaxMs,
    disseminationMs,
    totalMs: probeMs + suspicionMaxMs + disseminationMs,
  };
}

/** Run one scenario. Deterministic for a given config. */
export function runSwimScenario(cfg: SwimScenarioConfig): SwimScenarioResult {
  const warmupMs = cfg.warmupMs ?? 30_000;
  const lateMs = cfg.lateMs ?? 0;
  const lateInbound = cfg.lateInbound ?? true;
  const config = cfg.config ?? { preset: 'lan' };
  const n = cfg.nodes;
  const bound = detectionBoundMs(n, config);
  const startSpreadMs =
    cfg.startSpreadMs ?? resolveSwimConfig({ name: 'spread', ...config }).probeIntervalMs;
  const sim = new SwimSimulator({
    nodes: n,
    seed: cfg.seed,
    loss: cfg.loss,
    config,
    startSpreadMs,
  });
  sim.lagInbound = lateInbound;

  // Crash set and instants, from their own stream; the lagging node (n - 1 when any) never crashes.
  const crashRng = streamRng(cfg.seed, SeedStream.Crashes);
  const lateIndex = lateMs > 0 ? n - 1 : -1;
  if (lateIndex >= 0) sim.lagMs[lateIndex] = lateMs;
  const latest = cfg.durationMs - bound.totalMs;
  const crashCount = Math.min(cfg.crashes, Math.max(0, n - 2));
  if (crashCount > 0 && latest < warmupMs)
    throw new RangeError(
      `duration ${cfg.durationMs} ms leaves no room for a crash after the ${warmupMs} ms warm-up ` +
        `and before the end minus the ${bound.totalMs} ms detection bound`,
    );
  const candidates = Array.from({ length: n }, (_, i) => i).filter((i) => i !== lateIndex);
  const crashed: number[] = [];
  for (let k = 0; k < crashCount; k++) {
    const j = k + Math.floor(crashRng.next() * (candidates.length - k));
    [candidates[k], candidates[j]] = [candidates[j]!, candidates[k]!];
    const node = candidates[k]!;
    crashed.push(node);
    sim.scheduleCrash(node, warmupMs + crashRng.next() * (latest - warmupMs));
  }
  const crashAt = new Float64Array(n).fill(Infinity);
  const crashIndex = new Map<number, number>();
  crashed.forEach((node, k) => crashIndex.set(node, k));
  const failedAt = crashed.map(() => new Float64Array(n).fill(NaN));
  const firstSuspect = new Float64Array(crashed.length).fill(NaN);
  const falsePositives: FalsePositive[] = [];
  let suspicionsOfLive = 0;
  let lateAccusations = 0;
  let accusationsOfLate = 0;
  const lateName = lateIndex >= 0 ? sim.names[lateIndex]! : null;
  const indexOf = (name: string): number => Number(name.slice(1));

  sim.onEvent = (observer, e, now) => {
    if (e.type === 'member-failed') {
      const t = indexOf(e.member.name);
      if (!sim.isCrashed(t)) {
        falsePositives.push({ observer: sim.names[observer]!, target: e.member.name, atMs: now });
        return;
      }
      const k = crashIndex.get(t);
      if (k !== undefined && Number.isNaN(failedAt[k]![observer]!)) failedAt[k]![observer] = now;
    } else if (e.type === 'member-suspect') {
      const t = indexOf(e.member.name);
      if (sim.isCrashed(t)) {
        const k = crashIndex.get(t);
        if (k !== undefined && Number.isNaN(firstSuspect[k]!)) firstSuspect[k] = now;
        return;
      }
      suspicionsOfLive++;
      if (e.from === lateName && observer === lateIndex) lateAccusations++;
      if (e.member.name === lateName && e.from === sim.names[observer]) accusationsOfLate++;
    }
  };
  sim.startWithFullMembership();
  sim.runUntil(cfg.durationMs);
  for (let i = 0; i < n; i++) if (sim.crashedAtMs[i]! < Infinity) crashAt[i] = sim.crashedAtMs[i]!;

  const live = Array.from({ length: n }, (_, i) => i).filter((i) => crashAt[i] === Infinity);
  const crashes: CrashDetection[] = crashed.map((node, k) => {
    const c = crashAt[node]!;
    let first = Infinity;
    let last = -Infinity;
    let observers = 0;
    let missing = false;
    for (const o of live) {
      const t = failedAt[k]![o]!;
      if (Number.isNaN(t)) {
        missing = true;
        continue;
      }
      observers++;
      first = Math.min(first, t);
      last = Math.max(last, t);
    }
    const lastAfter = observers > 0 ? last - c : null;
    return {
      node: sim.names[node]!,
      crashMs: c,
      firstSuspectAfterMs: Number.isNaN(firstSuspect[k]!) ? null : firstSuspect[k]! - c,
      firstFailedAfterMs: observers > 0 ? first - c : null,
      lastFailedAfterMs: lastAfter,
      observers,
      liveNodes: live.length,
      boundMs: bound.totalMs,
      withinBound: !missing && lastAfter !== null && lastAfter <= bound.totalMs,
    };
  });
  crashes.sort((a, b) => a.crashMs - b.crashMs);
  const preset = (config as { preset?: string }).preset ?? 'lan';
  return {
    config: {
      nodes: n,
      seed: cfg.seed,
      loss: cfg.loss,
      durationMs: cfg.durationMs,
      crashes: crashCount,
      warmupMs,
      lateMs,
      lateInbound,
      startSpreadMs,
      preset,
    },
    crashes,
    falsePositives,
    suspicionsOfLiveNodes: suspicionsOfLive,
    lateNode: lateName,
    lateNodeAccusations: lateAccusations,
    accusationsOfLateNode: accusationsOfLate,
    lateNodeProbeFailures: lateIndex >= 0 ? sim.cores[lateIndex]!.stats.probeFailures : 0,
    lateNodeHealthScore: lateIndex >= 0 ? sim.cores[lateIndex]!.healthScore : 0,
    bound,
    events: sim.counters.events,
    packetsSent: sim.counters.packetsSent,
    packetsLost: sim.counters.packetsLost,
  };
}

/** The lagging node's false accusations with Lifeguard awareness and without. */
export interface AwarenessComparison {
  /** `awarenessMaxMultiplier` 8 (memberlist's default). */
  readonly withAwareness: SwimScenarioResult;
  /** `awarenessMaxMultiplier` 1: the score is pinned at 0, the probe interval never stretches. */
  readonly withoutAwareness: SwimScenarioResult;
}

/**
 * Run the same scenario (same seed, so the same latencies, losses drawn from the same stream and
 * the same crash set) twice, once with awareness and once without, on every node.
 */
export function compareAwareness(
  cfg: SwimScenarioConfig,
  awarenessMaxMultiplier = 8,
): AwarenessComparison {
  const base = cfg.config ?? { preset: 'lan' };
  return {
    withAwareness: runSwimScenario({ ...cfg, config: { ...base, awarenessMaxMultiplier } }),
    withoutAwareness: runSwimScenario({
      ...cfg,
      config: { ...base, awarenessMaxMultiplier: 1 },
    }),
  };
}
