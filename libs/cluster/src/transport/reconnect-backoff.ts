/**
 * Delay before redialing a peer whose connection failed: the shared exponential backoff with
 * equal jitter (`@plumtree/common` `backoffDelayMs`),
 *
 *   delay(attempt) = min(maxMs, initialMs * 2^(attempt - 1)) * (0.5 + random / 2)
 *
 * so the first retry comes quickly, a peer that stays away costs at most one dial per `maxMs`,
 * and nodes that lost the same peer at the same moment do not redial in lockstep.
 */
export { backoffDelayMs as reconnectDelayMs, type BackoffBounds } from '@plumtree/common';
