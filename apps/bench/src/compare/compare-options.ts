/**
 * The command line of `npm run bench:compare` (see {@link USAGE}), parsed with the benches'
 * shared strict parser: every problem reported at once in one `UsageError`.
 */
import { intArg, parseStrictArgs, Problems, stringArg, UsageError } from '../bench-args.js';

export { UsageError };

/** The transports the bench compares, in their default order. */
export const TRANSPORTS = ['nats', 'redis', 'ours-tree', 'ours-handoff'] as const;
/** One transport of a run: Nest's NATS or Redis transport, or ours with the publisher in or outside the tree. */
export type TransportName = (typeof TRANSPORTS)[number];

/** The options of `bench:compare`, validated. */
export interface CompareOptions {
  /** Subscriber processes per run. */
  readonly subs: number;
  /** Messages the publisher emits per run. */
  readonly messages: number;
  /** Bytes of the `pad` string in each message. */
  readonly payload: number;
  /** Messages per second; `undefined` = burst (open loop, as fast as `emit` returns). */
  readonly rate: number | undefined;
  /** Runs, in this order. */
  readonly transports: readonly TransportName[];
  /** Also write the figures as JSON here. */
  readonly json: string | undefined;
  /** Where the SVG chart of the table is written. */
  readonly chart: string;
  /** Ours with a keyring (one random key per run): SWIM and frames sealed. */
  readonly keys: boolean;
  readonly help: boolean;
}

/** Default path of the chart (bench-results/ is ignored by git). */
export const DEFAULT_CHART = 'bench-results/bench-compare.svg';

/** The `--help` text. */
export const USAGE = `Usage: npm run bench:compare -- [options]

Our Nest transport against Nest 12's own NATS and Redis transports, one run after the other in one
invocation, each run with fresh processes (and a fresh broker, started and stopped by the bench).
A run: N subscriber processes, each a Nest transport server with one 'bench' event handler
(server.addHandler('bench', handler, true)), and one publisher process calling
ClientProxy.emit('bench', { t, i, pad }) --messages times, all on 127.0.0.1.
  nats          ServerNats / ClientNats and the Debian nats-server
  redis         ServerRedis / ClientRedis and the Debian redis-server
  ours-tree     PlumtreeServer / PlumtreeClient, the publisher in the topic's tree (topics: ['bench'])
  ours-handoff  PlumtreeServer / PlumtreeClient, the publisher outside it (hand-off to a subscriber)

Columns: deliveries/s (from the first emit to the last delivery), p50/p99/max latency (t in the
payload to the handler call), CPU ms per 1k deliveries and bytes written per delivery (every
process of the run, broker included, from /proc), peak subscriber RSS (VmHWM), lost, duplicates,
emit errors, and the ratio to NATS. docs/performance.md says how each figure is measured.

  --subs N          subscriber processes (default 8)
  --messages M      messages per run (default 20000)
  --payload B       bytes of the pad string in each message (default 1024)
  --rate R          emit R messages/s; omitted: burst (open loop, a setImmediate every 200 emits)
  --transports LIST comma list of ${TRANSPORTS.join(',')} (default all, in that order)
  --json FILE       also write the figures as JSON
  --chart FILE      where to write the SVG chart of the table (default ${DEFAULT_CHART})
  --keys            ours with a keyring (one random key per run): SWIM and frames sealed
  --help            this text
`;

/** Parses and validates the command line; throws {@link UsageError} listing every problem. */
export function parseCompareArgs(argv: readonly string[]): CompareOptions {
  const values = parseStrictArgs(argv, {
    subs: { type: 'string' },
    messages: { type: 'string' },
    payload: { type: 'string' },
    rate: { type: 'string' },
    transports: { type: 'string' },
    json: { type: 'string' },
    chart: { type: 'string' },
    keys: { type: 'boolean' },
    help: { type: 'boolean' },
  });
  const problems = new Problems();
  const str = (k: string): string | undefined => stringArg(values, k);
  const subs = problems.attempt(() => intArg('subs', str('subs'), 8, 1, 128), 8);
  const messages = problems.attempt(
    () => intArg('messages', str('messages'), 20_000, 1, 1_000_000),
    20_000,
  );
  const payload = problems.attempt(() => intArg('payload', str('payload'), 1024, 0, 60 * 1024), 0);
  const rawRate = str('rate');
  const rate =
    rawRate === undefined
      ? undefined
      : problems.attempt(() => intArg('rate', rawRate, 0, 1, 1_000_000), 1);
  const transports = parseTransports(str('transports'), problems);
  for (const k of ['json', 'chart'] as const) {
    if (str(k) === '') problems.list.push(`--${k} needs a file name`);
  }
  problems.throwIfAny();
  return {
    subs,
    messages,
    payload,
    rate,
    transports,
    json: str('json'),
    chart: str('chart') ?? DEFAULT_CHART,
    keys: values['keys'] === true,
    help: values['help'] === true,
  };
}

function parseTransports(raw: string | undefined, problems: Problems): TransportName[] {
  if (raw === undefined) return [...TRANSPORTS];
  const out: TransportName[] = [];
  for (const name of raw.split(',').map((s) => s.trim())) {
    if (!(TRANSPORTS as readonly string[]).includes(name)) {
      problems.list.push(
        `--transports: expected a comma list of ${TRANSPORTS.join(', ')}, got ${JSON.stringify(name)}`,
      );
    } else if (out.includes(name as TransportName)) {
      problems.list.push(`--transports: ${name} is listed twice`);
    } else {
      out.push(name as TransportName);
    }
  }
  return out;
}
