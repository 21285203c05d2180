/**
 * Command-line parsing shared by the benches: strict `node:util` parseArgs, integer options with
 * bounds, and every problem collected into one {@link UsageError} (exit code 2). {@link BenchArgs}
 * puts these together for a bench's parser.
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

/** `{ name: { type: 'string' } }` for each name: the declaration of string-valued options. */
export function stringOptions<K extends string>(
  ...names: readonly K[]
): Record<K, { readonly type: 'string' }> {
  return Object.fromEntries(names.map((n) => [n, { type: 'string' } as const])) as Record<
    K,
    { readonly type: 'string' }
  >;
}

/**
 * One bench's command line, read option by option: every bench takes `--json FILE` and `--help`
 * besides the string-valued options it names; each problem is recorded and {@link options} throws
 * one {@link UsageError} naming them all, in the order they were read (see {@link options}).
 */
export class BenchArgs {
  private readonly values: ArgValues;
  private readonly problems = new Problems();

  /** Parses `argv` strictly; `names` are the bench's string-valued options, `flags` its boolean ones. */
  constructor(argv: readonly string[], names: readonly string[], flags: readonly string[] = []) {
    this.values = parseStrictArgs(argv, {
      ...stringOptions(...names, 'json'),
      ...Object.fromEntries(flags.map((f) => [f, { type: 'boolean' } as const])),
      help: { type: 'boolean' },
    });
  }

  /** Whether boolean option `name` was given. */
  flag(name: string): boolean {
    return this.values[name] === true;
  }

  /** The string value of option `name`, if given. */
  string(name: string): string | undefined {
    return stringArg(this.values, name);
  }

  /** Integer option `name` within `[min, max]`, `def` when absent (and when invalid: recorded). */
  int(name: string, def: number, min: number, max: number): number {
    return this.problems.attempt(() => intArg(name, this.string(name), def, min, max), def);
  }

  /** Integer option `name` within `[min, max]`, undefined when absent (and when invalid: recorded). */
  optionalInt(name: string, min: number, max: number): number | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    return this.problems.attempt(() => intArg(name, raw, min, min, max), undefined);
  }

  /** Records a problem found by the bench's own cross-checks. */
  problem(message: string): void {
    this.problems.list.push(message);
  }

  /** Comma list option `name` (`def` when absent); an entry not in `allowed` is recorded. */
  list<T extends string>(name: string, allowed: readonly T[], def: readonly T[]): T[] {
    const entries = (this.string(name) ?? def.join(',')).split(',').map((s) => s.trim());
    const expected = `${allowed.slice(0, -1).join(', ')} or ${allowed[allowed.length - 1]!}`;
    for (const e of entries) {
      if (!(allowed as readonly string[]).includes(e)) {
        this.problems.list.push(`--${name}: expected ${expected}, got ${JSON.stringify(e)}`);
      }
    }
    return entries as T[];
  }

  /**
   * The parsed options: `fields` (read through this object) with `json` and `help`; throws one
   * {@link UsageError} naming every problem recorded instead, if any.
   */
  options<T extends object>(fields: T): T & { json: string | undefined; help: boolean } {
    this.problems.throwIfAny();
    return { ...fields, json: this.string('json'), help: this.values['help'] === true };
  }
}
