/**
 * Bounded polling: the one way the test cluster waits for a distributed condition. It never
 * sleeps a fixed time in place of a condition; the poll period only bounds how late the
 * condition is noticed.
 */

/** Thrown when a cluster condition did not hold in time; `message` says what was still missing. */
export class TestClusterTimeoutError extends Error {
  override readonly name = 'TestClusterTimeoutError';
}

/** Poll period of {@link waitUntil}, ms: short next to the fast SWIM timers of the test cluster. */
export const POLL_INTERVAL_MS = 10;

/**
 * Resolve once `problems()` returns an empty list; reject with a {@link TestClusterTimeoutError}
 * listing the last problems after `timeoutMs`.
 */
export async function waitUntil(
  what: string,
  problems: () => readonly string[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = problems();
    if (left.length === 0) return;
    if (Date.now() >= deadline) {
      throw new TestClusterTimeoutError(
        `${what}: not reached after ${timeoutMs} ms\n  ${left.slice(0, 20).join('\n  ')}`,
      );
    }
    await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
  }
}
