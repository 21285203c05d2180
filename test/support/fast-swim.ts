/**
 * SWIM timers for test clusters on a `MemoryNetwork` (or loopback): the `local` preset with
 * probes every 100 ms, so a cluster converges in a few hundred milliseconds and a crash is
 * detected in about a second, not the several seconds of `lan`.
 */
export const FAST_SWIM = {
  preset: 'local',
  probeIntervalMs: 100,
  probeTimeoutMs: 50,
  gossipIntervalMs: 20,
  pushPullIntervalMs: 1_000,
} as const;
