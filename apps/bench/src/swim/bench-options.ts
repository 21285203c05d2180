import { BenchArgs, UsageError } from '../bench-args.js';
import type { AgentKind } from './agent-process.js';

/** A command line the bench refuses (exit code 2). */
export { UsageError };

/** The options of `bench:swim`, validated. */
export interface SwimBenchOptions {
  /** Members of each cluster before a trial's node joins. */
  readonly nodes: number;
  /** Trials per implementation; each is one join and one SIGKILL. */
  readonly trials: number;
  /** Formation trials per implementation and start mode (0: none; see formation.ts). */
  readonly formationTrials: number;
  /** Agents started together in a formation trial. */
  readonly formationNodes: number;
  /** Implementations to run, in order. */
  readonly impls: readonly AgentKind[];
  /** Write the figures as JSON here. */
  readonly json: string | undefined;
  readonly help: boolean;
}

/** The `--help` text. */
export const USAGE = `Usage: npm run bench:swim -- [options]

Starts a cluster of Go memberlist agents (test/go/bin/peer, Debian's memberlist) and a cluster of
our agents (apps/cli/dist agent), one after the other, same config (--profile local on both) on
127.0.0.1. Each trial starts one more node joining the seed and measures the time from its
"ready" line to the last existing member printing its join, then SIGKILLs it and measures the time
to the last member printing its failure. Prints the medians and the ratio ours/Go.
Then formation: F agents started at once (the seed first, then the others together in random
order; ours also all at once with the seed among them), the time from the last one joined to all
listing all F alive; p50 and max over the trials, ours and Go side by side.

  --nodes N      cluster size before each trial's node joins (default 10)
  --trials T     trials per implementation; figures are medians (default 5)
  --formation-trials T  formation trials per implementation and mode, 0 for none (default 5)
  --formation-nodes F   agents started together in a formation trial (default 10)
  --impl LIST    comma list of go,ours (default go,ours)
  --json FILE    also write the figures as JSON
  --help         this text
`;

/** Parses and validates the command line; throws {@link UsageError} listing every problem. */
export function parseSwimBenchArgs(argv: readonly string[]): SwimBenchOptions {
  const args = new BenchArgs(argv, [
    'nodes',
    'trials',
    'impl',
    'formation-trials',
    'formation-nodes',
  ]);
  return args.options({
    nodes: args.int('nodes', 10, 2, 64),
    trials: args.int('trials', 5, 1, 100),
    formationTrials: args.int('formation-trials', 5, 0, 100),
    formationNodes: args.int('formation-nodes', 10, 2, 64),
    impls: args.list<AgentKind>('impl', ['go', 'ours'], ['go', 'ours']),
  });
}

/** Median of a non-empty sample (mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1
    ? (s[mid] as number)
    : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}
