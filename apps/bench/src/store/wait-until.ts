/** Bounded polling for the store benches: resolves when `cond` holds, throws after `maxMs`. */
import { performance } from 'node:perf_hooks';

/** Polls `cond` every 5 ms; rejects naming `what` after `maxMs`. */
export async function waitUntil(cond: () => boolean, what: string, maxMs = 20_000): Promise<void> {
  const until = performance.now() + maxMs;
  while (!cond()) {
    if (performance.now() > until) throw new Error(`bench:store: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
