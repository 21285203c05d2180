/**
 * Exponential backoff with "equal jitter":
 *
 *   delay(attempt) = min(max, initial * 2^(attempt - 1)) * (0.5 + random / 2)
 *
 * so the first retry comes quickly, something that stays away costs at most one attempt per
 * `max`, and nodes that failed at the same moment do not retry in lockstep. The frame transport's
 * redial and SWIM's join retry both use it; `random` is passed in so sans-IO callers (the
 * simulator) draw it from their seeded RNG.
 */

/** Backoff bounds in milliseconds. */
export interface BackoffBounds {
  readonly initial: number;
  readonly max: number;
}

/**
 * The delay before retry number `attempt` (1 = the first retry after a failure); `random` in
 * [0, 1) picks the jitter.
 */
export function backoffDelayMs(attempt: number, bounds: BackoffBounds, random: number): number {
  const exp = Math.min(Math.max(attempt, 1) - 1, 30);
  const base = Math.min(bounds.max, bounds.initial * 2 ** exp);
  return base * (0.5 + random / 2);
}
