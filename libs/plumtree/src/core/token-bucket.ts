/**
 * Token bucket, time injected. `tryTake(nowMs)` refills `ratePerSecond * elapsed` tokens up to
 * `burst`, then takes one if available.
 */
export class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    nowMs: number,
  ) {
    this.tokens = burst;
    this.lastMs = nowMs;
  }

  /** Take one token if the bucket has one after refilling to `nowMs`. */
  tryTake(nowMs: number): boolean {
    if (nowMs > this.lastMs) {
      this.tokens = Math.min(
        this.burst,
        this.tokens + ((nowMs - this.lastMs) * this.ratePerSecond) / 1000,
      );
      this.lastMs = nowMs;
    }
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }

  /** Tokens available now (after refill), for stats and tests. */
  available(nowMs: number): number {
    const elapsed = Math.max(0, nowMs - this.lastMs);
    return Math.min(this.burst, this.tokens + (elapsed * this.ratePerSecond) / 1000);
  }
}
