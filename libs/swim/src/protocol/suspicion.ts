import { remainingSuspicionTimeMs } from './formulas.js';

/**
 * One suspicion timer with Lifeguard's dynamic timeout (memberlist `suspicion.go`), sans-IO: it
 * holds a deadline instead of a running timer.
 *
 * It starts at `maxMs` when `k >= 1` confirmations are expected (at `minMs` otherwise). Each new,
 * distinct accuser shrinks the timeout logarithmically toward `minMs`
 * ({@link remainingSuspicionTimeMs}); the `k`-th confirmation brings it to `minMs`. The timeout
 * is measured from the start of the suspicion, so a shrink may make the deadline due at once.
 */
export class Suspicion {
  private confirmationCount = 0;
  private readonly accusers = new Set<string>();
  private deadline: number;

  /**
   * @param from the first accuser, which does not count as a confirmation
   * @param k confirmations expected before the timeout reaches `minMs`
   */
  constructor(
    from: string,
    readonly k: number,
    readonly minMs: number,
    readonly maxMs: number,
    readonly startMs: number,
  ) {
    this.accusers.add(from);
    this.deadline = startMs + (k < 1 ? minMs : maxMs);
  }

  /** When the suspected member is to be declared dead. */
  get deadlineMs(): number {
    return this.deadline;
  }

  /** Independent confirmations received so far (the first accuser excluded). */
  get confirmations(): number {
    return this.confirmationCount;
  }

  /**
   * Record an accusation from `from`. Returns true when it is new information (a distinct accuser
   * while fewer than `k` confirmations are in): only then is the suspicion worth re-gossiping, and
   * only then does the deadline move.
   */
  confirm(from: string, nowMs: number): boolean {
    if (this.confirmationCount >= this.k) return false;
    if (this.accusers.has(from)) return false;
    this.accusers.add(from);
    this.confirmationCount++;
    const elapsed = nowMs - this.startMs;
    const remaining = remainingSuspicionTimeMs(
      this.confirmationCount,
      this.k,
      elapsed,
      this.minMs,
      this.maxMs,
    );
    this.deadline = nowMs + Math.max(0, remaining);
    return true;
  }
}
