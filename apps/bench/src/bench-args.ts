/**
 * Command-line parsing shared by the benches: strict `node:util` parseArgs, integer options with
 * bounds, and every problem collected into one {@link UsageError} (exit code 2).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A command line a bench refuses (exit code 2). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Parsed option values, by name. */
export type ArgValues = Record<string, string | boolean | undefined>;

/** Strict parse (unknown flags and positionals refused) of `argv` against `options`. */
export function parseStrictArgs(
  argv: readonly string[],
  options: NonNullable<ParseArgsConfig['options']>,
): ArgValues {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false })
      .values as ArgValues;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** The string value of option `k`, if given. */
export function stringArg(values: ArgValues, k: string): string | undefined {
  const v = values[k];
  return typeof v === 'string' ? v : undefined;
}

/** A non-negative integer option within `[min, max]`; `def` when absent. */
export function intArg(
  name: string,
  raw: string | undefined,
  def: number,
  min: number,
  max: number,
): number {
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

/** Collects problems so that one {@link UsageError} can name them all. */
export class Problems {
  readonly list: string[] = [];
  /** The value of `f()`, or `fallback` with its error recorded. */
  attempt<T>(f: () => T, fallback: T): T {
    try {
      return f();
    } catch (e) {
      this.list.push((e as Error).message);
      return fallback;
    }
  }
  /** Throws one {@link UsageError} when anything was recorded. */
  throwIfAny(): void {
    if (this.list.length > 0) throw new UsageError(this.list.join('\n'));
  }
}
