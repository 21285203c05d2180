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
  private readonly entries = new Map<string, SeenEntry>();
  /** Entries evicted before their TTL because of the caps. */
  evictedForCap = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly softCap: number,
    private readonly hardCap: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  get(key: string): SeenEntry | undefined {
    return this.entries.get(key);
  }

  add(key: string, entry: SeenEntry): void {
    if (this.entries.size >= this.hardCap) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
      this.evictedForCap++;
    }
    this.entries.set(key, entry);
  }

  /** Drop entries older than the TTL, then the oldest beyond the soft cap; returns how many. */
  expire(nowMs: number): number {
    let n = 0;
    const cutoff = nowMs - this.ttlMs;
    for (const [key, e] of this.entries) {
      if (e.atMs > cutoff && this.entries.size <= this.softCap) break;
      if (e.atMs > cutoff) this.evictedForCap++;
      this.entries.delete(key);
      n++;
    }
    return n;
  }
}
