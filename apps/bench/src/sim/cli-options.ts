import { availableParallelism } from 'node:os';
import { parseStrictArgs, stringArg, stringOptions, UsageError } from '../bench-args.js';

/** The options of `bench:sim`, validated. */
export interface SimBenchOptions {
  readonly nodes: number;
  readonly broadcasts: number;
  /** Crash percentages, one run per entry; `[0]` for a stable run. */
  readonly fail: readonly number[];
  /** Per-message loss probability (from a percentage on the command line). */
  readonly lossRate: number;
  readonly topics: number;
  readonly topicChoice: 'uniform' | 'zipf';
  readonly seed: number;
  readonly intervalMs: number;
  readonly detectionDelayMs: number;
  readonly detectionJitterMs: number;
  readonly warmup: number;
  readonly latency: {
    readonly baseMs: number;
    readonly msPerUnit: number;
    readonly jitterMs: number;
  };
  readonly protocols: readonly ProtocolName[];
  readonly preset: 'default' | 'lan' | 'wan' | 'largeCluster';
  readonly json: string | undefined;
  readonly demo: boolean;
  /** Runs at once, each in a worker thread when > 1. */
  readonly jobs: number;
  readonly help: boolean;
}

/** Protocols the bench can run. */
export const PROTOCOLS = ['plumtree', 'flood', 'gossipsub'] as const;
/** One of {@link PROTOCOLS}. */
export type ProtocolName = (typeof PROTOCOLS)[number];

/** A command line the bench refuses (exit code 2). */
export { UsageError };

/** The `--help` text. */
export const USAGE = `Usage: npm run bench:sim -- [options]

Simulates Plumtree, eager-push flooding and a gossipsub-style mesh on the same topology,
latency model and failure schedule, and prints the paper's metrics per run.

  --nodes N              cluster size (default 10000)
  --broadcasts B         broadcasts per run, one every --interval ms (default 200)
  --fail P[,P...]        percent of nodes crashed after broadcast ceil(B/2); one run per value
                         (0 = stable run; default 0)
  --loss P               per-message loss, percent (default 0)
  --topics T             topics with Zipf subscriber counts (count_k = max(2, round(N/(2k))));
                         1 = every node subscribes (default 1)
  --topic-choice C       uniform | zipf: how a broadcast picks its topic (default uniform)
  --seed S               integer seed; same seed => identical run (default 1; negative: --seed=-3)
  --interval MS          simulated ms between broadcasts (default 100)
  --detection-delay MS   time until live nodes learn of a crash (default 5000)
  --detection-jitter MS  per-node extra detection time, uniform in [0, MS) (default 2000)
  --latency-base MS      one-way latency = base + per-unit * distance (nodes in the unit square)
                         + jitter * u; defaults 0.2 / 2 / 0.1 ms (a datacenter: 0.2-3 ms)
  --latency-per-unit MS
  --latency-jitter MS
  --warmup W             broadcasts 1..W (and each topic's first) count as warm-up (default 20)
  --protocols LIST       comma list of plumtree,flood,gossipsub (default all three)
  --preset NAME          Plumtree config preset: default | lan | wan | largeCluster
                         (default: largeCluster from 1,000 nodes, as its docs advise, else lan)
  --jobs N               runs at once, in worker threads when > 1 (default min(2, cores));
                         --jobs 1 also reports CPU seconds per run
  --json FILE            also write every figure as JSON
  --demo                 short comparison: 1000 nodes, 80 broadcasts, a stable and a 20% crash
                         run, crashes detected after 1.5 s + up to 1 s (flags still override)
  --help                 this text
`;

function int(name: string, raw: string | undefined, def: number, min: number, max: number): number {
  if (raw === undefined) return def;
  if (!/^-?\d+$/.test(raw.trim()))
    throw new UsageError(`--${name} must be an integer, got ${JSON.stringify(raw)}`);
  const v = Number(raw);
  if (v < min || v > max)
    throw new UsageError(`--${name} must be between ${min} and ${max}, got ${v}`);
  return v;
}

function ms(name: string, raw: string | undefined, def: number): number {
  if (raw === undefined) return def;
  if (!/^\d+(\.\d+)?$/.test(raw.trim()))
    throw new UsageError(`--${name} must be a number of ms >= 0, got ${JSON.stringify(raw)}`);
  const v = Number(raw);
  if (v > 60_000) throw new UsageError(`--${name} must be at most 60000, got ${v}`);
  return v;
}

function percent(name: string, raw: string, max: number): number {
  if (!/^\d+(\.\d+)?$/.test(raw.trim()))
    throw new UsageError(`--${name} must be a percentage, got ${JSON.stringify(raw)}`);
  const v = Number(raw);
  if (v < 0 || v > max) throw new UsageError(`--${name} must be between 0 and ${max}, got ${v}`);
  return v;
}

/** Parse and validate argv (without the node and script entries). Throws {@link UsageError}. */
export function parseSimBenchArgs(argv: readonly string[]): SimBenchOptions {
  const v = parseStrictArgs(argv, {
    ...stringOptions(
      'nodes',
      'broadcasts',
      'fail',
      'loss',
      'topics',
      'topic-choice',
      'seed',
      'interval',
      'detection-delay',
      'detection-jitter',
      'warmup',
      'latency-base',
      'latency-per-unit',
      'latency-jitter',
      'protocols',
      'preset',
      'json',
      'jobs',
    ),
    demo: { type: 'boolean' },
    help: { type: 'boolean' },
  });
  const str = (k: string): string | undefined => stringArg(v, k);
  const demo = v.demo === true;
  const nodes = int('nodes', str('nodes'), demo ? 1000 : 10_000, 2, 1_000_000);
  const broadcasts = int('broadcasts', str('broadcasts'), demo ? 80 : 200, 1, 1_000_000);
  const failArg = str('fail');
  const fail =
    failArg === undefined
      ? demo
        ? [0, 20]
        : [0]
      : failArg.split(',').map((p) => {
          const x = percent('fail', p, 99);
          return x;
        });
  const lossArg = str('loss');
  const loss = lossArg === undefined ? 0 : percent('loss', lossArg, 99);
  const topics = int('topics', str('topics'), 1, 1, 100_000);
  const topicChoice = str('topic-choice') ?? 'uniform';
  if (topicChoice !== 'uniform' && topicChoice !== 'zipf') {
    throw new UsageError(
      `--topic-choice must be uniform or zipf, got ${JSON.stringify(topicChoice)}`,
    );
  }
  const protocols = (str('protocols') ?? PROTOCOLS.join(',')).split(',').map((p) => p.trim());
  for (const p of protocols) {
    if (!(PROTOCOLS as readonly string[]).includes(p)) {
      throw new UsageError(
        `--protocols: unknown protocol ${JSON.stringify(p)} (expected ${PROTOCOLS.join(', ')})`,
      );
    }
  }
  const preset = str('preset') ?? (nodes >= 1000 ? 'largeCluster' : 'lan');
  if (preset !== 'default' && preset !== 'lan' && preset !== 'wan' && preset !== 'largeCluster') {
    throw new UsageError(
      `--preset must be default, lan, wan or largeCluster, got ${JSON.stringify(preset)}`,
    );
  }
  const json = str('json');
  if (json !== undefined && json.trim() === '') throw new UsageError('--json needs a file name');
  return {
    nodes,
    broadcasts,
    fail,
    lossRate: loss / 100,
    topics,
    topicChoice,
    seed: int('seed', str('seed'), 1, -(2 ** 31), 2 ** 31 - 1),
    intervalMs: int('interval', str('interval'), 100, 1, 3_600_000),
    detectionDelayMs: int(
      'detection-delay',
      str('detection-delay'),
      demo ? 1_500 : 5_000,
      0,
      3_600_000,
    ),
    detectionJitterMs: int(
      'detection-jitter',
      str('detection-jitter'),
      demo ? 1_000 : 2_000,
      0,
      3_600_000,
    ),
    warmup: int('warmup', str('warmup'), 20, 0, 1_000_000),
    latency: {
      baseMs: ms('latency-base', str('latency-base'), 0.2),
      msPerUnit: ms('latency-per-unit', str('latency-per-unit'), 2),
      jitterMs: ms('latency-jitter', str('latency-jitter'), 0.1),
    },
    protocols: protocols as ProtocolName[],
    preset,
    json,
    demo,
    jobs: int('jobs', str('jobs'), Math.min(2, availableParallelism()), 1, 64),
    help: v.help === true,
  };
}
