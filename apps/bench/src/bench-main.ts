/**
 * The entry of a bench's `main.ts`: the command line refused, `--help`, the run, the exit code.
 */
import { UsageError } from './bench-args.js';

/**
 * Parses `argv` with `parse`: a {@link UsageError} prints `<name>: <problems>` and `usage` to
 * stderr and gives exit code 2; `--help` prints `usage` to stdout and gives 0; otherwise the
 * exit code is what `run` resolves to.
 */
export async function runBench<O extends { readonly help: boolean }>(
  name: string,
  usage: string,
  parse: (argv: readonly string[]) => O,
  run: (options: O) => Promise<number>,
  argv: readonly string[] = process.argv.slice(2),
): Promise<number> {
  let options: O;
  try {
    options = parse(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`${name}: ${e.message}\n\n${usage}`);
      return 2;
    }
    throw e;
  }
  if (options.help) {
    process.stdout.write(usage);
    return 0;
  }
  return run(options);
}

/**
 * Exits with the code `main` resolves to (child processes and sockets do not hold the exit up);
 * a rejection prints `<name>: <error>` to stderr and exits with 1.
 */
export function exitWhenDone(name: string, main: Promise<number>): void {
  main.then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`${name}: ${String(e)}\n`);
      process.exit(1);
    },
  );
}
