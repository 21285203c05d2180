/**
 * The soak: a fault cluster (fault-cluster.ts) under steady publishing on several topics for
 * `minutes`, one fault a minute (cycling through every kind), memory and file descriptors of
 * every node sampled every 10 s, then the checker over the whole history and a least-squares
 * trend of each node's heap after warm-up.
 *
 * Heap samples are taken after a full collection (agents run with `--expose-gc`; the agent's
 * `memory` command collects first), so they show what is retained, not when V8 last collected.
 * Warm-up: the node's bounded caches fill by design for the message cache TTL (120 s, the
 * node's default `messageCacheTtlMs`), so the trend is fitted from then on, per process life
 * (a killed node starts a new life with a fresh heap and its own warm-up). A short soak (CI's 3
 * minutes) sets a shorter TTL (`cacheTtlMs`, the agents' hidden `--message-cache-ttl-ms`) so the
 * caches are full and the fit has minutes, not seconds, of samples: with the default TTL a 3-minute
 * run fits 5 samples over 50 s, still on the fill curve and right after the partition's heal.
 */
import { cpus, loadavg } from 'node:os';
import { describeFault, formatViolations, type Violation } from './checker.js';
import { FaultCluster } from './fault-cluster.js';
import type { Fault, History } from './history.js';
import { slopePerMinute } from './trend.js';
import { faultDuration } from './poll.js';

/** How a soak runs. */
export interface SoakOptions {
  readonly minutes: number;
  readonly repoRoot: string;
  /** Fit the heap trend from this long after each life started. */
  readonly warmupMs: number;
  /** Largest heap slope (MB per minute, after warm-up) that passes. */
  readonly heapSlopeBoundMbPerMin: number;
  /** Every agent's message cache TTL; undefined: the node's default (120 s). */
  readonly cacheTtlMs?: number;
  /** Progress lines (stderr). */
  readonly log: (line: string) => void;
}

/** One sample of one node. */
export interface Sample {
  /** ms since the soak started. */
  readonly t: number;
  readonly node: string;
  /** The node's process life (1 = first start). */
  readonly life: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly heapTotalBytes: number;
  readonly fds: number;
}

/** The heap trend of one life of one node after warm-up. */
export interface LifeTrend {
  readonly node: string;
  readonly life: number;
  readonly samples: number;
  /** MB per minute; undefined with fewer than 3 samples after warm-up. */
  readonly heapSlopeMbPerMin: number | undefined;
  readonly rssSlopeMbPerMin: number | undefined;
}

/** What a soak measured. */
export interface SoakResult {
  readonly minutes: number;
  readonly startedAt: number;
  readonly samples: readonly Sample[];
  readonly faults: readonly { readonly t: number; readonly label: string }[];
  readonly trends: readonly LifeTrend[];
  readonly violations: readonly Violation[];
  readonly violationText: string;
  /** The whole history (written next to the chart when a violation was found). */
  readonly history: History;
  readonly counts: Readonly<Record<string, number>>;
  readonly passed: boolean;
  readonly bound: number;
  readonly warmupMs: number;
  /** The agents' message cache TTL; undefined: the node's default. */
  readonly cacheTtlMs: number | undefined;
  /** The machine's 1-minute load average at each sampling round (other work shares the CPUs). */
  readonly machineLoad: readonly number[];
  readonly cpus: number;
  /** Every life's heap slope after warm-up is under the bound (`passed` also needs no violation). */
  readonly heapPassed: boolean;
}

export const SAMPLE_INTERVAL_MS = 10_000;
const NAMES = ['n0', 'n1', 'n2', 'n3', 'n4'];
const PUBLISHERS = ['n0', 'n1', 'n2', 'n3'];
/** Each publisher sends one message per topic every 250 ms: 4 x 4 x 4 = 64 messages/s. */
const LOAD_INTERVAL_MS = 250;
const FAULT_MS = 10_000;

/** The k-th fault of the soak (k from 0): every kind in turn, on a node that rotates. */
export function soakFault(k: number): Fault {
  const node = NAMES[(k * 2 + 1) % NAMES.length]!;
  const other = NAMES[(k * 2 + 3) % NAMES.length]!;
  switch (k % 6) {
    case 0:
      return { type: 'link-down', node };
    case 1:
      return { type: 'partition', sides: [NAMES.slice(0, 2), NAMES.slice(2)] };
    case 2:
      return { type: 'pause', node };
    case 3:
      return { type: 'oneway', from: node, to: other };
    case 4:
      return { type: 'loss', node, percent: 20 };
    default:
      return { type: 'kill', node };
  }
}

/** Runs a soak; see the file header. */
export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const c = await FaultCluster.start({
    names: NAMES,
    topics: ['orders', 'chat'],
    durable: ['ledger', 'audit'],
    profile: 'local',
    repoRoot: o.repoRoot,
    nodeFlags: ['--expose-gc'],
    ...(o.cacheTtlMs !== undefined
      ? {
          extraArgs: Object.fromEntries(
            NAMES.map((n) => [n, ['--message-cache-ttl-ms', o.cacheTtlMs!.toString()]]),
          ),
        }
      : {}),
  });
  const t0 = Date.now();
  const samples: Sample[] = [];
  const faults: { t: number; label: string }[] = [];
  let sampling = Promise.resolve();
  const machineLoad: number[] = [];
  const sampleAll = async (): Promise<void> => {
    const t = Date.now() - t0;
    machineLoad.push(loadavg()[0]!);
    await Promise.all(
      [...c.agents.values()].map(async (a) => {
        if (!a.running || a.paused) return;
        const m = await a.request('memory');
        const p = a.sample();
        if (m === undefined || p === undefined) return;
        samples.push({
          t,
          node: a.name,
          life: a.lives,
          rssBytes: p.rssBytes,
          heapUsedBytes: m['heapUsed'] as number,
          heapTotalBytes: m['heapTotal'] as number,
          fds: p.fds,
        });
      }),
    );
  };
  const sampler = setInterval(() => {
    sampling = sampling.then(sampleAll);
  }, SAMPLE_INTERVAL_MS);
  const load = c.startLoad(PUBLISHERS, LOAD_INTERVAL_MS);
  let violations: Violation[];
  try {
    sampling = sampling.then(sampleAll);
    for (let k = 0; k < o.minutes - 1; k++) {
      // The schedule: fault k starts at minute k + 1.
      await faultDuration(Math.max(0, t0 + (k + 1) * 60_000 - Date.now()));
      const f = soakFault(k);
      faults.push({ t: Date.now() - t0, label: describeFault(f) });
      o.log(`soak: minute ${(k + 1).toString()}: ${describeFault(f)}`);
      if (f.type === 'pause') await c.pause(f.node, FAULT_MS);
      else if (f.type === 'kill') await c.kill(f.node, 3_000);
      else await c.network(f, FAULT_MS);
    }
    await faultDuration(Math.max(0, t0 + o.minutes * 60_000 - Date.now()));
    load.stop();
    clearInterval(sampler);
    await sampling;
    o.log('soak: load stopped; waiting for every required delivery');
    violations = await c.drain(120_000);
  } finally {
    load.stop();
    clearInterval(sampler);
    await c.close();
  }
  const trends = lifeTrends(samples, o.warmupMs);
  const counts: Record<string, number> = {};
  for (const e of c.history.events) {
    const key = e.kind === 'deliver' && e.redelivered ? 'redelivered' : e.kind;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  const worst = Math.max(-Infinity, ...trends.map((t) => t.heapSlopeMbPerMin ?? -Infinity));
  const heapPassed = worst < o.heapSlopeBoundMbPerMin && trends.length > 0;
  return {
    minutes: o.minutes,
    startedAt: t0,
    samples,
    faults,
    trends,
    violations,
    violationText: formatViolations(c.history.events, violations),
    history: c.history,
    counts,
    passed: violations.length === 0 && heapPassed,
    heapPassed,
    bound: o.heapSlopeBoundMbPerMin,
    warmupMs: o.warmupMs,
    cacheTtlMs: o.cacheTtlMs,
    machineLoad,
    cpus: cpus().length,
  };
}

/** The heap and RSS slope of each life of each node, from `warmupMs` after the life started. */
export function lifeTrends(samples: readonly Sample[], warmupMs: number): LifeTrend[] {
  const byLife = new Map<string, Sample[]>();
  for (const s of samples) {
    const key = `${s.node}\0${s.life.toString()}`;
    const l = byLife.get(key) ?? [];
    l.push(s);
    byLife.set(key, l);
  }
  const out: LifeTrend[] = [];
  for (const list of byLife.values()) {
    const born = list[0]!.t;
    const after = list.filter((s) => s.t - born >= warmupMs);
    const mb = (pick: (s: Sample) => number): number | undefined => {
      const v = slopePerMinute(after.map((s) => ({ t: s.t, v: pick(s) })));
      return v === undefined ? undefined : v / (1024 * 1024);
    };
    out.push({
      node: list[0]!.node,
      life: list[0]!.life,
      samples: after.length,
      heapSlopeMbPerMin: mb((s) => s.heapUsedBytes),
      rssSlopeMbPerMin: mb((s) => s.rssBytes),
    });
  }
  return out;
}
