import { AgeOrderedMap } from './age-ordered-map.js';

/** What a node remembers about a delivered id: when, at what distance, and from whom. */
export interface SeenEntry {
  readonly atMs: number;
  /** Hop count of the copy that was delivered (0 for the node's own broadcast). */
  readonly hops: number;
  /** Peer it came from (the node itself for its own broadcast). */
  readonly from: string;
}

/**
 * Ids already delivered, for at-most-once delivery. Entries live `ttlMs`; above `softCap`,
 * maintenance evicts the oldest; `hardCap` is never exceeded (insert evicts the oldest at once).
 */
export class SeenSet {
  private readonly entries: AgeOrderedMap<SeenEntry>;
  private evictedAboveSoftCap = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly softCap: number,
    hardCap: number,
  ) {
    this.entries = new AgeOrderedMap(hardCap);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Entries evicted before their TTL because of the caps. */
  get evictedForCap(): number {
    return this.entries.evicted + this.evictedAboveSoftCap;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  get(key: string): SeenEntry | undefined {
    return this.entries.get(key);
  }

  add(key: string, entry: SeenEntry): void {
    this.entries.set(key, entry);
  }

  /** Drop entries older than the TTL, then the oldest beyond the soft cap; returns how many. */
  expire(nowMs: number): number {
    const cutoff = nowMs - this.ttlMs;
    return this.entries.expireWhile((e) => {
      if (e.atMs <= cutoff) return true;
      if (this.entries.size <= this.softCap) return false;
      this.evictedAboveSoftCap++;
      return true;
    });
  }
}
