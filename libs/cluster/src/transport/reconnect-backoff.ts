/**
 * Delay before redialing a peer whose connection failed: exponential with "equal jitter",
 *
 *   delay(attempt) = min(maxMs, initialMs * 2^(attempt - 1)) * (0.5 + random / 2)
 *
 * so the first retry comes quickly, a peer that stays away costs at most one dial per `maxMs`,
 * and nodes that lost the same peer at the same moment do not redial in lockstep.
 */

/** Backoff bounds in milliseconds. */
export interface BackoffBounds {
  readonly initial: number;
  readonly max: number;
}

/**
 * The delay before redial number `attempt` (1 = first retry after a failure); `random` in
 * [0, 1) picks the jitter.
 */
export function reconnectDelayMs(attempt: number, bounds: BackoffBounds, random: number): number {
  const exp = Math.min(Math.max(attempt, 1) - 1, 30);
  const base = Math.min(bounds.max, bounds.initial * 2 ** exp);
  return base * (0.5 + random / 2);
}
