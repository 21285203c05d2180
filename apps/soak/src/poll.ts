/**
 * The one fixed wait of the fault harness: a fault that IS a duration (a 10 s pause, a partition).
 * Everything else waits by bounded polling on observable state (`waitUntil` of apps/bench/src/wait-until.ts).
 */
export function faultDuration(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
