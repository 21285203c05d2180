/**
 * Bounded polling, the one wait of the benches (a bench is product code and cannot use the
 * repository's test support). The poll period only bounds how late a condition is noticed;
 * benches that measure through a wait pass a short one.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';

/** Thrown when a bench's wait runs out; the message says what was awaited and what was seen. */
export class WaitTimeoutError extends Error {
  override readonly name = 'WaitTimeoutError';
}

/** How long and how often {@link waitUntil} polls. */
export interface WaitUntilOptions {
  /** Give up after this many ms. */
  readonly timeoutMs: number;
  /** Poll period, ms (default 10). */
  readonly intervalMs?: number;
  /** The last observed state, for the timeout's message. */
  readonly lastSeen?: () => string;
}

/**
 * Resolves once `cond()` (sync or async) holds; rejects with a {@link WaitTimeoutError} naming
 * `what` after `timeoutMs`.
 */
export async function waitUntil(
  what: string,
  cond: () => boolean | Promise<boolean>,
  { timeoutMs, intervalMs = 10, lastSeen }: WaitUntilOptions,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await cond())) {
    if (performance.now() >= deadline) {
      const seen = lastSeen === undefined ? '' : `; last: ${lastSeen()}`;
      throw new WaitTimeoutError(`timed out after ${timeoutMs} ms waiting for ${what}${seen}`);
    }
    await sleep(intervalMs);
  }
}
