import type { GossipMessage } from '../types.js';

interface CacheEntry {
  readonly message: GossipMessage;
  readonly expiresAtMs: number;
}

/**
 * Delivered messages kept to answer GRAFTs: bounded by age (`ttlMs`) and by count (`maxSize`,
 * oldest evicted first). A Map's insertion order is its age order, so expiry walks from the front
 * and stops at the first live entry.
 */
export class MessageCache {
  private readonly entries = new Map<string, CacheEntry>();
  /** Entries evicted because the cache was full. */
  evictedForSize = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxSize: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** Store a message as this node received it (its `hops` are this node's distance). */
  put(key: string, message: GossipMessage, nowMs: number): void {
    if (this.entries.has(key)) return;
    if (this.entries.size >= this.maxSize) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
      this.evictedForSize++;
    }
    this.entries.set(key, { message, expiresAtMs: nowMs + this.ttlMs });
  }

  /** The cached message, or undefined when absent or expired. */
  get(key: string, nowMs: number): GossipMessage | undefined {
    const e = this.entries.get(key);
    if (e === undefined || e.expiresAtMs <= nowMs) return undefined;
    return e.message;
  }

  /** Drop expired entries; returns how many. */
  expire(nowMs: number): number {
    let n = 0;
    for (const [key, e] of this.entries) {
      if (e.expiresAtMs > nowMs) break;
      this.entries.delete(key);
      n++;
    }
    return n;
  }
}
