import type { GossipMessage } from '../types.js';
import { AgeOrderedMap } from './age-ordered-map.js';

interface CacheEntry {
  readonly message: GossipMessage;
  readonly expiresAtMs: number;
}

/**
 * Delivered messages kept to answer GRAFTs: bounded by age (`ttlMs`) and by count (`maxSize`,
 * oldest evicted first).
 */
export class MessageCache {
  private readonly entries: AgeOrderedMap<CacheEntry>;

  constructor(
    private readonly ttlMs: number,
    maxSize: number,
  ) {
    this.entries = new AgeOrderedMap(maxSize);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Entries evicted because the cache was full. */
  get evictedForSize(): number {
    return this.entries.evicted;
  }

  /** Store a message as this node received it (its `hops` are this node's distance). */
  put(key: string, message: GossipMessage, nowMs: number): void {
    if (this.entries.has(key)) return;
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
    return this.entries.expireWhile((e) => e.expiresAtMs <= nowMs);
  }
}
