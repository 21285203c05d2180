import type { GossipMessage, MessageId } from '../types.js';
import { IdStream } from './id-stream.js';

/** The bounds of an {@link IdMemory} (from the configuration). */
export interface IdMemoryLimits {
  /** An incarnation idle this long (nothing delivered, nothing cached or missing) is forgotten. */
  readonly seenTtlMs: number;
  /** Incarnations above which maintenance forgets the longest idle ones. */
  readonly seenSoftCap: number;
  /** Incarnations never exceeded: meeting a new one at the cap forgets the longest idle first. */
  readonly seenHardCap: number;
  readonly messageCacheTtlMs: number;
  readonly messageCacheMaxSize: number;
  readonly messageCacheMaxBytes: number;
}

/** One cached message in age order. */
interface CacheSlot {
  readonly stream: IdStream;
  readonly seq: number;
  readonly bytes: number;
  readonly expiresAtMs: number;
}

/** The incarnations of one topic: origin, then epoch. */
export type TopicIds = Map<string, Map<number, IdStream>>;

/**
 * The ids a node remembers, per topic and origin incarnation ({@link IdStream}): which were
 * delivered (deduplication), the delivered messages kept to answer GRAFTs, and the ids announced
 * but missing. No string key is built per message: a lookup is topic -> origin -> epoch -> seq.
 *
 * The cache is bounded by age (`messageCacheTtlMs`), count (`messageCacheMaxSize`) and payload
 * bytes (`messageCacheMaxBytes`), oldest evicted first. An incarnation is forgotten once it has
 * been idle for `seenTtlMs` with nothing cached or missing, so its ids are remembered at least
 * as long as any peer can answer a GRAFT for them; `seenSoftCap` / `seenHardCap` bound how many
 * incarnations are remembered.
 */
export class IdMemory {
  private readonly topics = new Map<string, TopicIds>();
  private streamCount = 0;
  private readonly slots: (CacheSlot | undefined)[] = [];
  private head = 0;
  private cacheBytes = 0;
  /** Cached messages evicted before their TTL by the count or byte bound. */
  evictedForSize = 0;
  /** Incarnations forgotten before their TTL by the caps. */
  evictedForCap = 0;

  constructor(private readonly limits: IdMemoryLimits) {}

  /** Remembered incarnations. */
  get streams(): number {
    return this.streamCount;
  }

  /** Cached messages. */
  get cacheSize(): number {
    return this.slots.length - this.head;
  }

  /** Payload bytes cached. */
  get cachedBytes(): number {
    return this.cacheBytes;
  }

  /** The incarnations of `topic` (kept when the node leaves the topic: dedup survives a re-join). */
  topic(topic: string): TopicIds {
    let t = this.topics.get(topic);
    if (t === undefined) this.topics.set(topic, (t = new Map()));
    return t;
  }

  /** The incarnation of `id` in `ids`, or undefined when none is remembered. */
  find(ids: TopicIds, id: MessageId): IdStream | undefined {
    return ids.get(id.origin)?.get(id.epoch);
  }

  /** The incarnation of `id` in `ids`, remembered from now on. */
  stream(ids: TopicIds, topic: string, id: MessageId, nowMs: number): IdStream {
    let byEpoch = ids.get(id.origin);
    if (byEpoch === undefined) ids.set(id.origin, (byEpoch = new Map()));
    let s = byEpoch.get(id.epoch);
    if (s === undefined) {
      if (this.streamCount >= this.limits.seenHardCap) this.forgetIdlest(1);
      s = new IdStream(topic, id, nowMs);
      // The eviction may have removed the origin's map.
      if (ids.get(id.origin) !== byEpoch) ids.set(id.origin, byEpoch);
      byEpoch.set(id.epoch, s);
      this.streamCount++;
    }
    return s;
  }

  /** Whether `id` was delivered. */
  seen(ids: TopicIds, id: MessageId): boolean {
    return this.find(ids, id)?.has(id.seq) ?? false;
  }

  /** Keep `msg` (as this node received it) to answer GRAFTs. */
  cache(s: IdStream, msg: GossipMessage, nowMs: number): void {
    const seq = msg.id.seq;
    if (s.cache.has(seq)) return;
    const bytes = msg.payload.length;
    const l = this.limits;
    while (
      this.cacheSize > 0 &&
      (this.cacheSize >= l.messageCacheMaxSize || this.cacheBytes + bytes > l.messageCacheMaxBytes)
    ) {
      this.evictOldest();
      this.evictedForSize++;
    }
    s.cache.set(seq, msg);
    this.slots.push({ stream: s, seq, bytes, expiresAtMs: nowMs + l.messageCacheTtlMs });
    this.cacheBytes += bytes;
  }

  /** The cached message of `id`, or undefined. */
  cached(ids: TopicIds, id: MessageId): GossipMessage | undefined {
    return this.find(ids, id)?.cache.get(id.seq);
  }

  /** Whether maintenance has anything to expire. */
  get isEmpty(): boolean {
    return this.streamCount === 0 && this.cacheSize === 0;
  }

  /**
   * Drop expired cache entries, then forget incarnations idle for `seenTtlMs` with nothing
   * cached or missing, then the idlest beyond the soft cap.
   */
  expire(nowMs: number): void {
    for (let s = this.slots[this.head]; s !== undefined && s.expiresAtMs <= nowMs;) {
      this.evictOldest();
      s = this.slots[this.head];
    }
    const cutoff = nowMs - this.limits.seenTtlMs;
    for (const ids of this.topics.values()) {
      for (const [origin, byEpoch] of ids) {
        for (const [epoch, s] of byEpoch) {
          if (s.lastDeliveredAtMs <= cutoff && !s.busy) {
            byEpoch.delete(epoch);
            this.streamCount--;
          }
        }
        if (byEpoch.size === 0) ids.delete(origin);
      }
    }
    if (this.streamCount > this.limits.seenSoftCap) {
      this.forgetIdlest(this.streamCount - this.limits.seenSoftCap);
    }
  }

  /**
   * Forget `s` when it holds nothing: no message of it was delivered, none is cached or missing
   * (an incarnation met only through an announcement given up). Not counted as an eviction.
   */
  forgetUnused(s: IdStream): void {
    if (s.high === 0 && !s.busy) this.forget(s, false);
  }

  /** Every remembered incarnation of `ids` with missing ids. */
  *withMissing(ids: TopicIds): Iterable<IdStream> {
    for (const byEpoch of ids.values()) {
      for (const s of byEpoch.values()) if (s.missing.size > 0) yield s;
    }
  }

  private evictOldest(): void {
    const slot = this.slots[this.head]!;
    this.slots[this.head++] = undefined;
    slot.stream.cache.delete(slot.seq);
    this.cacheBytes -= slot.bytes;
    if (this.head === this.slots.length) {
      this.slots.length = 0;
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.slots.length) {
      this.slots.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Forget the `n` incarnations delivered to longest ago (their cache entries stay until evicted). */
  private forgetIdlest(n: number): void {
    const all: IdStream[] = [];
    for (const ids of this.topics.values()) {
      for (const byEpoch of ids.values()) for (const s of byEpoch.values()) all.push(s);
    }
    // Forget a tenth at once, so meeting new incarnations at the cap costs O(1) amortised.
    const count = Math.min(all.length, Math.max(n, Math.ceil(all.length / 10)));
    all.sort((a, b) => a.lastDeliveredAtMs - b.lastDeliveredAtMs);
    for (let i = 0; i < count; i++) this.forget(all[i]!, true);
  }

  private forget(s: IdStream, evicted: boolean): void {
    const ids = this.topics.get(s.topic);
    const byEpoch = ids?.get(s.origin);
    if (byEpoch?.get(s.epoch) !== s) return;
    byEpoch.delete(s.epoch);
    if (byEpoch.size === 0) ids!.delete(s.origin);
    this.streamCount--;
    if (evicted) this.evictedForCap++;
  }
}
