/**
 * Every process `bench:compare` starts (subscribers, publisher, brokers) is tracked here, so
 * that none outlives the bench: each run stops its own in a `finally`, and Ctrl-C (SIGINT),
 * SIGTERM, SIGHUP or an uncaught error kills whatever is left before the bench exits.
 */
import type { ChildProcess } from 'node:child_process';

const live = new Set<ChildProcess>();

/** Tracks `child` until it exits; returns it. */
export function track<C extends ChildProcess>(child: C): C {
  if (child.exitCode === null && child.signalCode === null) {
    live.add(child);
    child.once('exit', () => live.delete(child));
  }
  return child;
}

/** Processes started and not yet exited. */
export function liveProcesses(): number {
  return live.size;
}

/** SIGKILL to every tracked process (synchronous: usable from a signal handler). */
export function killAllNow(): number {
  let n = 0;
  for (const c of live) {
    if (c.kill('SIGKILL')) n++;
  }
  return n;
}

/** Resolves when `child` has exited (at once if it has). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Asks `child` to stop with `ask()` (an IPC message, a signal), and kills it after `timeoutMs`
 * if it is still there; resolves once it has exited.
 */
export async function stopProcess(
  child: ChildProcess,
  ask: () => void,
  timeoutMs: number,
): Promise<void> {
  const done = exited(child);
  if (child.exitCode !== null || child.signalCode !== null) return done;
  try {
    ask();
  } catch {
    // The channel or process is gone already: the kill below settles it.
  }
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await done;
  clearTimeout(timer);
}

/**
 * On SIGINT, SIGTERM, SIGHUP, an uncaught exception or an unhandled rejection: kill every
 * tracked process, say so with `log`, and exit (130 for Ctrl-C, 1 otherwise).
 */
export function killAllOnExit(log: (line: string) => void): void {
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      const n = killAllNow();
      log(`${sig}: stopped ${n.toString()} process(es) of the run; exiting`);
      process.exit(sig === 'SIGINT' ? 130 : 1);
    });
  }
  const fatal = (e: unknown): void => {
    const n = killAllNow();
    log(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    log(`stopped ${n.toString()} process(es) of the run; exiting`);
    process.exit(1);
  };
  process.once('uncaughtException', fatal);
  process.once('unhandledRejection', fatal);
}
