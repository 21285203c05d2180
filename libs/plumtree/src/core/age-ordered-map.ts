/**
 * A map whose insertion order is its age order, the storage of the core's bounded memories (the
 * message cache, the seen set): inserting at the cap evicts the oldest entry first, and expiry
 * walks from the front and stops at the first entry that stays, so both cost O(1) per entry.
 */
export class AgeOrderedMap<V> {
  private readonly entries = new Map<string, V>();
  /** Entries evicted by {@link set} because the map was at its cap. */
  evicted = 0;

  constructor(private readonly cap: number) {}

  get size(): number {
    return this.entries.size;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  get(key: string): V | undefined {
    return this.entries.get(key);
  }

  /** Store `value` under `key`; at the cap the oldest entry is evicted first. */
  set(key: string, value: V): void {
    if (this.entries.size >= this.cap) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
      this.evicted++;
    }
    this.entries.set(key, value);
  }

  /** Remove entries, oldest first, while `stale` holds for them; returns how many. */
  expireWhile(stale: (value: V) => boolean): number {
    let n = 0;
    for (const [key, value] of this.entries) {
      if (!stale(value)) break;
      this.entries.delete(key);
      n++;
    }
    return n;
  }
}
