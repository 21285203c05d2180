/**
 * Shared by the node's spec files (not part of the public API): a SWIM configuration that
 * converges in a few hundred milliseconds on a `MemoryNetwork`, and bounded polling.
 */

/** SWIM timers for in-memory test clusters. */
export const FAST_SWIM = {
  preset: 'local',
  probeIntervalMs: 100,
  probeTimeoutMs: 50,
  gossipIntervalMs: 20,
  pushPullIntervalMs: 1_000,
} as const;

/** Polls `cond` every 10 ms; rejects naming `what` after `maxMs`. */
export async function waitFor(cond: () => boolean, what: string, maxMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > maxMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
