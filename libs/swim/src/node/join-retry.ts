/**
 * Joining a cluster whose seeds may not be listening yet (a whole deployment started at once, in
 * any order): memberlist's `Join` is one attempt; {@link retryJoin} repeats it with exponential
 * backoff until a seed answers or a deadline passes, as Serf's `retry_join` does.
 */
import { backoffDelayMs, type BackoffBounds } from '@plumtree/common';

/**
 * Thrown by `SwimNode.join` when no seed could be joined, and by `SwimNode.start` when none could
 * be joined within its `joinTimeoutMs` (then `attempts` > 1 and `errors` are the last attempt's).
 */
export class JoinError extends Error {
  override readonly name = 'JoinError';
  constructor(
    readonly errors: readonly string[],
    /** Join attempts made (each one push-pull per seed). */
    readonly attempts = 1,
    /** Time spent trying, ms (0 for a single attempt). */
    readonly elapsedMs = 0,
  ) {
    super(
      attempts > 1
        ? `failed to join any seed in ${attempts} attempts over ${Math.round(elapsedMs)} ms: ${errors.join('; ')}`
        : `failed to join any seed: ${errors.join('; ')}`,
    );
  }
}

/** How {@link retryJoin} keeps trying. */
export interface JoinRetryOptions {
  /** Give up (reject) once this has passed without an answer; 0 makes one attempt. */
  readonly timeoutMs: number;
  /** Backoff between attempts (equal jitter, `backoffDelayMs` of `@plumtree/common`). */
  readonly backoff: BackoffBounds;
}

/**
 * `join(seeds)` again and again while no seed answers: after a failed attempt (a
 * {@link JoinError}) it waits `backoff` and tries every seed again, until one answers (resolves
 * with the number that answered in that attempt) or `timeoutMs` has passed since the call
 * (rejects with a {@link JoinError} carrying the last attempt's errors, the attempt count and
 * the time spent). Any other error, or `closed` aborting, ends it at once.
 */
export async function retryJoin(
  join: (seeds: readonly string[]) => Promise<number>,
  seeds: readonly string[],
  options: JoinRetryOptions,
  closed: AbortSignal,
): Promise<number> {
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await join(seeds);
    } catch (e) {
      if (!(e instanceof JoinError) || closed.aborted) throw e;
      const delay = backoffDelayMs(attempt, options.backoff, Math.random());
      if (Date.now() + delay > deadline)
        throw new JoinError(e.errors, attempt, Date.now() - started);
      await pause(delay, closed);
      if (closed.aborted) throw new JoinError(['node closed'], attempt, Date.now() - started);
    }
  }
}

/** Resolves after `ms`, or as soon as `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}
