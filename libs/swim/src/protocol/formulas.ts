/**
 * memberlist's scaling formulas (`util.go`, `suspicion.go`), pure and in milliseconds.
 *
 * Each reproduces Go's arithmetic, including its truncations, so a TypeScript node and a Go node
 * of the same cluster size time out and retransmit alike. The spec checks them against values
 * printed by the Go functions themselves.
 */

/** Member count above which the push-pull interval starts to grow (memberlist `pushPullScaleThreshold`). */
export const PUSH_PULL_SCALE_THRESHOLD = 32;

/**
 * Minimum suspicion timeout for a cluster of `n` members:
 *
 * `suspicionMult * floor(1000 * max(1, log10(max(1, n)))) * probeIntervalMs / 1000`
 *
 * The node scale is truncated to thousandths as memberlist does (it keeps three decimals of
 * `log10(n)` in an integer duration). The result may have a fractional millisecond; memberlist's
 * is exact to the nanosecond and so is this one for whole-millisecond intervals.
 */
export function suspicionTimeoutMs(
  suspicionMult: number,
  n: number,
  probeIntervalMs: number,
): number {
  const nodeScale = Math.max(1, Math.log10(Math.max(1, n)));
  return (suspicionMult * Math.trunc(nodeScale * 1000) * probeIntervalMs) / 1000;
}

/**
 * How many times a broadcast is piggybacked before it is dropped from the queue, for `n` members:
 *
 * `retransmitMult * ceil(log10(n + 1))`
 */
export function retransmitLimit(retransmitMult: number, n: number): number {
  return retransmitMult * Math.ceil(Math.log10(n + 1));
}

/**
 * Push-pull period for `n` members: `intervalMs` up to 32 members, then
 *
 * `(ceil(log2(n) - log2(32)) + 1) * intervalMs`
 *
 * so the 33rd member doubles the interval and the 65th triples it, keeping full state exchange
 * from saturating the network as the cluster grows.
 */
export function pushPullScaleMs(intervalMs: number, n: number): number {
  if (n <= PUSH_PULL_SCALE_THRESHOLD) return intervalMs;
  const multiplier = Math.ceil(Math.log2(n) - Math.log2(PUSH_PULL_SCALE_THRESHOLD)) + 1;
  return multiplier * intervalMs;
}

/**
 * Lifeguard's suspicion timeout after `confirmations` independent confirmations out of the `k`
 * expected, minus the time already elapsed (memberlist `remainingSuspicionTime`):
 *
 * `timeout = max(minMs, floor(maxMs - (ln(c + 1) / ln(k + 1)) * (maxMs - minMs)))`, result
 * `timeout - elapsedMs` (negative when the timer is already overdue).
 *
 * With no confirmation the timeout is `maxMs`; each confirmation shrinks it logarithmically and `k`
 * confirmations bring it to `minMs`. Callers never pass `k = 0` (no confirmation is then accepted).
 */
export function remainingSuspicionTimeMs(
  confirmations: number,
  k: number,
  elapsedMs: number,
  minMs: number,
  maxMs: number,
): number {
  const frac = Math.log(confirmations + 1) / Math.log(k + 1);
  // memberlist works in seconds and floors to whole milliseconds.
  const raw = maxMs / 1000 - frac * (maxMs / 1000 - minMs / 1000);
  let timeout = Math.floor(1000 * raw);
  if (timeout < minMs) timeout = minMs;
  return timeout - elapsedMs;
}
