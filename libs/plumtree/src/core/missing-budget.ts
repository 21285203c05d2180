import { TokenBucket } from './token-bucket.js';

/**
 * The budget of new missing ids each announcing peer may create (repair.ts): a token bucket per
 * peer, time injected, holding `burst` ids and refilled at `ratePerSecond`. An IHAVE costs
 * little to send and a few microseconds per unknown id to track (an entry, a timer), so without
 * it one member announcing ids nobody has keeps this node busy at the rate of its link; with it
 * each peer costs at most `burst` ids at once and `ratePerSecond` after that. Ids over the budget
 * are not tracked (no GRAFT for them): they are counted, and an id that really exists still
 * arrives by eager push or from an announcer with budget left.
 *
 * Bounded by the peers: a peer's bucket goes when it goes down (`peerDown`), as the GRAFT
 * answer budgets do.
 */
export class MissingBudget {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
  ) {}

  /** `peer`'s bucket, created full on its first announcement. */
  of(peer: string, nowMs: number): TokenBucket {
    let bucket = this.buckets.get(peer);
    if (bucket === undefined) {
      bucket = new TokenBucket(this.ratePerSecond, this.burst, nowMs);
      this.buckets.set(peer, bucket);
    }
    return bucket;
  }

  /** A peer failed: its budget goes (a new one starts full). */
  peerDown(peer: string): void {
    this.buckets.delete(peer);
  }

  /** Peers with a budget. */
  get peers(): number {
    return this.buckets.size;
  }
}
