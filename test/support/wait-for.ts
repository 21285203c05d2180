/**
 * The one way the repository's tests wait (unit specs, sim, e2e, interop): bounded polling of a
 * condition, argument order `(what, condition, options)` as in `TestCluster.waitFor`. Built on the
 * product's loop (`pollUntil` of `@plumtree/testing`), so there is one polling loop, not two.
 * Nothing here sleeps a fixed time in place of a condition: the poll period only bounds how
 * late the condition is noticed, and the timeout only bounds how long a failing test hangs.
 *
 * Lives outside every `src/`: `tsconfig.build.json` compiles `libs/` and `apps/` only, so test
 * support never reaches `dist/`.
 */
import { pollUntil } from '../../libs/testing/src/wait-until.js';

/** Default bound of a wait, ms: generous next to the fast timers tests configure. */
export const WAIT_TIMEOUT_MS = 10_000;

/** How long and how often to poll, and what to report on a timeout. */
export interface WaitOptions {
  /** Fail after this many ms (default {@link WAIT_TIMEOUT_MS}). */
  readonly timeoutMs?: number;
  /** Poll period, ms (default `POLL_INTERVAL_MS` of `@plumtree/testing`, 10). */
  readonly intervalMs?: number;
  /** The last observed state, appended to the timeout's message (called once, on timeout). */
  readonly lastSeen?: () => string;
}

/**
 * Resolves once `condition()` holds (it may be async); rejects after `timeoutMs` with a
 * `TestClusterTimeoutError` whose message names `what` and, given `lastSeen`, what was observed.
 */
export async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  options: WaitOptions = {},
): Promise<void> {
  await waitForValue(what, async () => ((await condition()) ? true : undefined), options);
}

/**
 * Resolves with the first value `probe()` gives that is not `undefined` (it may be async);
 * rejects like {@link waitFor}. For waits whose result the test reads next (a stats snapshot,
 * an HTTP answer).
 */
export function waitForValue<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  options: WaitOptions = {},
): Promise<T> {
  return pollUntil(what, probe, { ...options, timeoutMs: options.timeoutMs ?? WAIT_TIMEOUT_MS });
}
