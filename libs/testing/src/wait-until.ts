/**
 * Bounded polling: the one way the test cluster waits for a distributed condition. It never
 * sleeps a fixed time in place of a condition; the poll period only bounds how late the
 * condition is noticed. {@link pollUntil} is the one polling loop of the repository: the test
 * cluster's waits and the repository's own test support (`test/support/wait-for.ts`) build on it.
 */

/** Thrown when a cluster condition did not hold in time; `message` says what was still missing. */
export class TestClusterTimeoutError extends Error {
  override readonly name = 'TestClusterTimeoutError';
}

/** Poll period of {@link waitUntil}, ms: short next to the fast SWIM timers of the test cluster. */
export const POLL_INTERVAL_MS = 10;

/** How long and how often {@link pollUntil} polls, and what it reports on a timeout. */
export interface PollOptions {
  /** Reject after this many ms. */
  readonly timeoutMs: number;
  /** Poll period, ms (default {@link POLL_INTERVAL_MS}). */
  readonly intervalMs?: number;
  /** What was last observed, added to the timeout's message (called once, on the timeout). */
  readonly lastSeen?: () => string;
}

/**
 * Resolve with the first value `probe()` gives that is not `undefined` (`probe` may be async);
 * reject with a {@link TestClusterTimeoutError} `"<what>: not reached after <timeoutMs> ms"`,
 * followed by `lastSeen()` on the next line, once `timeoutMs` has passed. `probe` runs at least
 * once, and once more at or after the deadline, so a condition that holds by then is not missed.
 */
export async function pollUntil<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  options: PollOptions,
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) {
      const seen = options.lastSeen?.();
      throw new TestClusterTimeoutError(
        `${what}: not reached after ${options.timeoutMs} ms${seen ? `\n  ${seen}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? POLL_INTERVAL_MS));
  }
}

/**
 * Resolve once `problems()` returns an empty list; reject with a {@link TestClusterTimeoutError}
 * listing the last problems after `timeoutMs`.
 */
export async function waitUntil(
  what: string,
  problems: () => readonly string[],
  timeoutMs: number,
): Promise<void> {
  let left: readonly string[] = [];
  await pollUntil(what, () => ((left = problems()).length === 0 ? true : undefined), {
    timeoutMs,
    lastSeen: () => left.slice(0, 20).join('\n  '),
  });
}
