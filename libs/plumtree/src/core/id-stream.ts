import type { GossipMessage, MessageId } from '../types.js';

/**
 * Delivered seqs tolerated out of order before the oldest gaps are given up: a bitmap of up to
 * this many bits (32 KiB) per origin incarnation. A message overtaken by more than this many
 * later messages of its origin is treated as seen (dropped if it still arrives).
 */
export const MAX_REORDER = 1 << 18;

/**
 * Seqs below an incarnation's first known seq that are still tracked: a node that meets an
 * origin mid-stream (it joined late) may still receive a few earlier messages out of order.
 */
export const JOIN_SLACK = 1024;

/** A missing id: announced by IHAVE, not yet received. Owned by the repair engine. */
export interface Missing {
  readonly stream: IdStream;
  readonly id: MessageId;
  readonly announcers: { readonly peer: string; readonly hops: number }[];
  /** Index of the next announcer to GRAFT. */
  next: number;
  /** GRAFTs sent so far. */
  attempts: number;
  deadlineMs: number;
  /** When the current wait started (a GRAFT timer deferred for stream progress restarts it). */
  armedAtMs: number;
  /** Times the timer was deferred because the stream was still arriving in order. */
  deferrals: number;
}

/**
 * What a node remembers of one origin incarnation's messages on one topic: the seqs delivered
 * (every seq up to `low`, and a bitmap of those above it), the messages cached to answer
 * GRAFTs, and the ids announced but missing. Sequence numbers count from 1 per topic within an
 * incarnation, so a burst of 20,000 messages costs one counter here, not 20,000 keys, and stays
 * remembered as long as the incarnation is active.
 */
export class IdStream {
  /** Every seq up to this was delivered (or given up, see {@link MAX_REORDER}). */
  low: number;
  /** Highest seq delivered. */
  high = 0;
  /** When a message of this stream was last delivered (progress and expiry). */
  lastDeliveredAtMs: number;
  /** Cached messages by seq (the memory's FIFO bounds them). */
  readonly cache = new Map<number, GossipMessage>();
  /** Announced but not yet delivered, by seq. */
  readonly missing = new Map<number, Missing>();
  /** Bit i: seq `base + i` delivered. Only while a gap sits above `low`. */
  private bits: Uint32Array | undefined;
  private base = 0;
  private bitsSet = 0;

  readonly origin: string;
  readonly epoch: number;

  /** The incarnation of `first` (the first id of it this node meets) on `topic`. */
  constructor(
    readonly topic: string,
    first: MessageId,
    nowMs: number,
  ) {
    this.origin = first.origin;
    this.epoch = first.epoch;
    this.low = Math.max(0, first.seq - 1 - JOIN_SLACK);
    this.lastDeliveredAtMs = nowMs;
  }

  /** Whether `seq` was delivered. */
  has(seq: number): boolean {
    if (seq <= this.low) return true;
    const bits = this.bits;
    if (bits === undefined) return false;
    const i = seq - this.base;
    return i < bits.length * 32 && (bits[i >>> 5]! & (1 << (i & 31))) !== 0;
  }

  /** Record `seq` as delivered (a no-op when it was). */
  add(seq: number, nowMs: number): void {
    this.lastDeliveredAtMs = nowMs;
    if (seq > this.high) this.high = seq;
    if (seq <= this.low) return;
    if (seq === this.low + 1 && this.bitsSet === 0) {
      this.low = seq;
      return;
    }
    this.setBit(seq);
    this.advance();
  }

  /** Whether anything still needs this stream: cached messages or missing ids. */
  get busy(): boolean {
    return this.cache.size > 0 || this.missing.size > 0;
  }

  private setBit(seq: number): void {
    if (this.bits === undefined || this.bitsSet === 0) {
      this.base = this.low + 1;
      this.bits ??= new Uint32Array(64);
    }
    let i = seq - this.base;
    if (i >= MAX_REORDER) {
      // Too far ahead: give up the oldest gaps (treated as seen) to keep the bitmap bounded.
      this.giveUpBelow(seq - MAX_REORDER / 2);
      if (this.has(seq)) return;
      i = seq - this.base;
    }
    if (i >= this.bits!.length * 32) this.grow(i);
    const w = i >>> 5;
    const m = 1 << (i & 31);
    if ((this.bits![w]! & m) === 0) {
      this.bits![w]! |= m;
      this.bitsSet++;
    }
  }

  private grow(i: number): void {
    let words = this.bits!.length;
    while (words * 32 <= i) words *= 2;
    const next = new Uint32Array(Math.min(words, MAX_REORDER / 32));
    next.set(this.bits!);
    this.bits = next;
  }

  /** Move `low` past every delivered seq that follows it, then re-base the bitmap. */
  private advance(): void {
    const bits = this.bits!;
    let i = this.low + 1 - this.base;
    const end = bits.length * 32;
    while (i < end && (bits[i >>> 5]! & (1 << (i & 31))) !== 0) {
      bits[i >>> 5]! &= ~(1 << (i & 31));
      this.bitsSet--;
      i++;
    }
    this.low = this.base + i - 1;
    if (this.bitsSet === 0) {
      bits.fill(0);
      return;
    }
    // Re-base in whole words once the watermark is far into the bitmap.
    const shift = (this.low + 1 - this.base) >>> 5;
    if (shift >= bits.length >>> 1) {
      bits.copyWithin(0, shift);
      bits.fill(0, bits.length - shift);
      this.base += shift * 32;
    }
  }

  /** Treat every seq below `seq` as delivered. */
  private giveUpBelow(seq: number): void {
    const bits = this.bits!;
    for (let s = this.low + 1; s < seq; s++) {
      const i = s - this.base;
      if (i >= bits.length * 32) break;
      if ((bits[i >>> 5]! & (1 << (i & 31))) !== 0) {
        bits[i >>> 5]! &= ~(1 << (i & 31));
        this.bitsSet--;
      }
    }
    this.low = seq - 1;
    if (this.bitsSet === 0) {
      bits.fill(0);
      this.base = this.low + 1;
      return;
    }
    const shift = Math.min(bits.length, (this.low + 1 - this.base) >>> 5);
    bits.copyWithin(0, shift);
    bits.fill(0, bits.length - shift);
    this.base += shift * 32;
    this.advance();
  }
}
