import { BenchArgs, UsageError } from '../bench-args.js';

/** A command line the bench refuses (exit code 2). */
export { UsageError };

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
  /** Open loop instead of the closed loop: publish this many messages as fast as the node accepts them. */
  readonly burst: number | undefined;
  /** Variants to run, in order. */
  readonly modes: readonly ClusterBenchMode[];
  /** Every node with one keyring (a random key per run): frames and SWIM sealed. */
  readonly keys: boolean;
  /** Write the figures as JSON here. */
  readonly json: string | undefined;
  readonly help: boolean;
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
    over every worker; this parent process excluded) and RMR (duplicate payload messages
    received / deliveries, counted in messages: a GOSSIP_RUN frame carries many);
  - p50/p99 publish-to-last-delivery latency at half the saturating rate (high-resolution
    timestamps in the payload, one host clock).
With --burst N the closed loop is replaced by an open-loop burst: the publisher publishes N
messages as fast as node.publish returns (a setImmediate every 200), nothing waits for delivery;
throughput, bytes, CPU and RMR are measured from the first publish to the last delivery, and lost
counts the burst's messages that never reached every subscriber (after 5 s without a delivery).

  --nodes N       subscriber processes (default 8)
  --payload B     payload bytes, >= ${PAYLOAD_HEADER_BYTES.toString()} (default 1024)
  --seconds S     saturation measurement length (default 5)
  --window W      closed-loop in-flight messages (default 1000)
  --burst N       open loop: a burst of N messages instead of the closed loop
  --modes LIST    comma list of plumtree,flood (default plumtree,flood)
  --keys          every node with a keyring (one random key per run): SWIM and frames sealed
  --json FILE     also write the figures as JSON
  --help          this text
`;

/** Parses and validates the command line; throws {@link UsageError} listing every problem. */
export function parseClusterBenchArgs(argv: readonly string[]): ClusterBenchOptions {
  const args = new BenchArgs(
    argv,
    ['nodes', 'payload', 'seconds', 'window', 'burst', 'modes'],
    ['keys'],
  );
  const burst = args.optionalInt('burst', 1, 1_000_000);
  if (args.string('burst') !== undefined) {
    for (const k of ['window', 'seconds']) {
      if (args.string(k) !== undefined) args.problem(`--${k} is for the closed loop, not --burst`);
    }
  }
  return args.options({
    nodes: args.int('nodes', 8, 1, 128),
    payload: args.int('payload', 1024, PAYLOAD_HEADER_BYTES, 60 * 1024),
    seconds: args.int('seconds', 5, 1, 600),
    window: args.int('window', 1000, 1, 100_000),
    burst,
    modes: args.list<ClusterBenchMode>('modes', ['plumtree', 'flood'], ['plumtree', 'flood']),
    keys: args.flag('keys'),
  });
}

/** The q-quantile (0..1) of a sample by nearest rank; NaN when empty. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
  return s[rank] as number;
}
