/**
 * The checker's bounds (checker.ts), computed from the SWIM configuration the agents run with
 * (memberlist's formulas in libs/swim/src/protocol/formulas.ts), never typed by hand.
 */
import { resolveSwimConfig, suspicionTimeoutMs, type SwimPresetName } from '@plumtree/swim';
import type { CheckerConfig } from './checker.js';

/** The bounds for a cluster of `n` agents on `preset`, and the SWIM figures they come from. */
export interface SwimBounds extends CheckerConfig {
  readonly probeIntervalMs: number;
  /** Suspicion timeout with no confirmation (`suspicionMaxTimeoutMult` x the minimum). */
  readonly suspicionMaxMs: number;
}

/**
 * - `suspicionMinMs = suspicionMult * max(1, log10(n)) * probeIntervalMs`: no member can be
 *   declared dead sooner after it stops answering (Lifeguard only shortens a suspicion to it).
 * - `refuteSlackMs = probeIntervalMs`: a paused member that resumes hears of its suspicion and
 *   refutes within about one probe round, so a fault shorter than the minimum minus that never
 *   ends in a death.
 * - `refuteGraceMs = suspicionMaxMs`: a suspicion started during a fault may still fire that
 *   long after it (its timer had the full, unconfirmed timeout).
 * - `detectionBoundMs = n * probeIntervalMs + suspicionMinMs`: every other member probes a
 *   paused one within n - 1 rounds (round robin) and its indirect probes end within one more;
 *   with the k = suspicionMult - 2 confirmations that n >= k + 2 members give, the timeout is
 *   the minimum. A longer pause is declared dead by everyone before it ends.
 * - `rejoinBoundMs = 2 * pushPullIntervalMs`: a member back from the dead refutes through gossip
 *   at once, and push-pull (full state exchange) repairs any member the gossip missed.
 * - `deliveryBoundMs`: 5 s, the repair time the Plumtree defaults allow (IHAVE, GRAFT retries).
 */
export function swimBounds(preset: SwimPresetName, n: number): SwimBounds {
  // The name is required by the config, not used by the formulas.
  const c = resolveSwimConfig({ preset, name: 'bounds' });
  const min = suspicionTimeoutMs(c.suspicionMult, n, c.probeIntervalMs);
  const max = c.suspicionMaxTimeoutMult * min;
  return {
    probeIntervalMs: c.probeIntervalMs,
    suspicionMinMs: min,
    suspicionMaxMs: max,
    refuteSlackMs: c.probeIntervalMs,
    refuteGraceMs: max,
    detectionBoundMs: n * c.probeIntervalMs + min,
    rejoinBoundMs: 2 * c.pushPullIntervalMs,
    deliveryBoundMs: 5_000,
  };
}
