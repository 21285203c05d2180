/**
 * Command line of `npm run bench:store`: `--messages N` (default 20000), `--payload BYTES`
 * (default 1024), `--json FILE`, `--help`.
 */
import { BenchArgs, UsageError } from '../bench-args.js';

export { UsageError };

/** Options of the store bench. */
export interface StoreBenchOptions {
  /** Records appended per batch size. */
  readonly messages: number;
  /** Payload bytes per record. */
  readonly payload: number;
  /** Where to write the figures as JSON, if anywhere. */
  readonly json: string | undefined;
  readonly help: boolean;
}

/** Usage text. */
export const USAGE = `usage: npm run bench:store -- [--messages N] [--payload BYTES] [--json FILE]
  --messages N      records appended for each batch size (1, 16, 256); default 20000
  --payload BYTES   payload size per record; default 1024
  --json FILE       also write the figures as JSON to FILE`;

/** Parses the bench's argv (without node and script); throws one UsageError naming every problem. */
export function parseStoreBenchArgs(argv: readonly string[]): StoreBenchOptions {
  const args = new BenchArgs(argv, ['messages', 'payload']);
  return args.options({
    messages: args.int('messages', 20_000, 1, 10_000_000),
    payload: args.int('payload', 1024, 0, 16 << 20),
  });
}
