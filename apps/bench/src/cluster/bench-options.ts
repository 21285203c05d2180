import { parseArgs } from 'node:util';

/** Which protocol variants a run measures. */
export type ClusterBenchMode = 'plumtree' | 'flood';

/** The options of `bench:cluster`, validated. */
export interface ClusterBenchOptions {
  /** Subscriber processes (besides the publisher). */
  readonly nodes: number;
  /** Payload bytes of each message (at least {@link PAYLOAD_HEADER_BYTES}). */
  readonly payload: number;
  /** Length of the saturation measurement, ms. */
  readonly seconds: number;
  /** Messages published but not yet delivered at every subscriber (the closed loop's window). */
  readonly window: number;
  /** Variants to run, in order. */
  readonly modes: readonly ClusterBenchMode[];
  /** Write the figures as JSON here. */
  readonly json: string | undefined;
  readonly help: boolean;
}

/** A command line the bench refuses (exit code 2). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Bytes at the start of each payload: sequence (u32), phase (u8), padding, publish time (f64). */
export const PAYLOAD_HEADER_BYTES = 16;

/** The `--help` text. */
export const USAGE = `Usage: npm run bench:cluster -- [options]

One publisher and N subscriber processes (forked workers, each a PlumtreeNode on 127.0.0.1) on
one topic; the publisher is in the topic's tree too. For each mode (plumtree, then flood: every
link eager, no IHAVE/GRAFT/PRUNE) it measures, in the same run:
  - saturating throughput: a closed loop keeps --window messages in flight (published, not yet
    delivered at every subscriber); messages/s delivered to every subscriber over --seconds;
  - over that window: wire bytes sent per delivery, CPU ms per delivery (process.cpuUsage summed
    over every worker; this parent process excluded) and RMR (payload frames received /
    deliveries - 1);
  - p50/p99 publish-to-last-delivery latency at half the saturating rate (high-resolution
    timestamps in the payload, one host clock).

  --nodes N       subscriber processes (default 8)
  --payload B     payload bytes, >= ${PAYLOAD_HEADER_BYTES.toString()} (default 1024)
  --seconds S     saturation measurement length (default 5)
  --window W      closed-loop in-flight messages (default 1000)
  --modes LIST    comma list of plumtree,flood (default plumtree,flood)
  --json FILE     also write the figures as JSON
  --help          this text
`;

function int(name: string, raw: string | undefined, def: number, min: number, max: number): number {
  if (raw === undefined) return def;
  if (!/^\d+$/.test(raw.trim())) {
    throw new UsageError(`--${name} must be an integer, got ${JSON.stringify(raw)}`);
  }
  const v = Number(raw);
  if (v < min || v > max) {
    throw new UsageError(`--${name} must be in [${min.toString()}, ${max.toString()}], got ${raw}`);
  }
  return v;
}

/** Parses and validates the command line; throws {@link UsageError} listing every problem. */
export function parseClusterBenchArgs(argv: readonly string[]): ClusterBenchOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        nodes: { type: 'string' },
        payload: { type: 'string' },
        seconds: { type: 'string' },
        window: { type: 'string' },
        modes: { type: 'string' },
        json: { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const problems: string[] = [];
  const attempt = <T>(f: () => T, fallback: T): T => {
    try {
      return f();
    } catch (e) {
      problems.push((e as Error).message);
      return fallback;
    }
  };
  const str = (k: string): string | undefined =>
    typeof values[k] === 'string' ? (values[k] as string) : undefined;
  const nodes = attempt(() => int('nodes', str('nodes'), 8, 1, 128), 8);
  const payload = attempt(
    () => int('payload', str('payload'), 1024, PAYLOAD_HEADER_BYTES, 60 * 1024),
    1024,
  );
  const seconds = attempt(() => int('seconds', str('seconds'), 5, 1, 600), 5);
  const window = attempt(() => int('window', str('window'), 1000, 1, 100_000), 1000);
  const modes = (str('modes') ?? 'plumtree,flood').split(',').map((s) => s.trim());
  for (const m of modes) {
    if (m !== 'plumtree' && m !== 'flood') {
      problems.push(`--modes: expected plumtree or flood, got ${JSON.stringify(m)}`);
    }
  }
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  return {
    nodes,
    payload,
    seconds,
    window,
    modes: modes as ClusterBenchMode[],
    json: str('json'),
    help: values['help'] === true,
  };
}

/** The q-quantile (0..1) of a sample by nearest rank; NaN when empty. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
  return s[rank] as number;
}
