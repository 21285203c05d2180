/**
 * The simulator's event queue: a 4-ary min-heap ordered by (time, insertion sequence).
 *
 * Ties pop in insertion order, so two runs that schedule the same events in the same order pop
 * them in the same order: that is what makes a seed reproduce a run. Events live in a pool of
 * parallel typed arrays (structure of arrays); the heap holds each event's time inline next to
 * its pool slot, so a sift compares contiguous doubles (four children share a cache line) and
 * reads the sequence number only on equal times. Scheduling allocates nothing once the pool
 * has grown.
 */
export class EventHeap {
  private hTime: Float64Array;
  private hSlot: Int32Array;
  private seqs: Float64Array;
  private kinds: Uint8Array;
  private as: Int32Array;
  private bs: Int32Array;
  private objs: unknown[];
  private freeSlots: Int32Array;
  private freeCount = 0;
  private nextSlot = 0;
  private length = 0;
  private counter = 0;

  /** Time of the event returned by the last {@link pop}. */
  time = 0;
  /** Kind of the popped event (the caller's enumeration). */
  kind = 0;
  /** First integer argument of the popped event. */
  a = 0;
  /** Second integer argument of the popped event. */
  b = 0;
  /** Object argument of the popped event (undefined when none). */
  obj: unknown = undefined;

  constructor(initialCapacity = 1024) {
    const c = Math.max(16, initialCapacity);
    this.hTime = new Float64Array(c);
    this.hSlot = new Int32Array(c);
    this.seqs = new Float64Array(c);
    this.kinds = new Uint8Array(c);
    this.as = new Int32Array(c);
    this.bs = new Int32Array(c);
    this.objs = new Array<unknown>(c).fill(undefined);
    this.freeSlots = new Int32Array(c);
  }

  /** Number of queued events. */
  get size(): number {
    return this.length;
  }

  /** Time of the earliest event, or `Infinity` when empty. */
  peekTime(): number {
    return this.length === 0 ? Infinity : this.hTime[0]!;
  }

  /** Queue an event. `kind` must fit in a byte; `a` and `b` in an int32. */
  push(time: number, kind: number, a: number, b: number, obj?: unknown): void {
    let slot: number;
    if (this.freeCount > 0) slot = this.freeSlots[--this.freeCount]!;
    else {
      if (this.nextSlot === this.seqs.length) this.grow();
      slot = this.nextSlot++;
    }
    const seq = this.counter++;
    this.seqs[slot] = seq;
    this.kinds[slot] = kind;
    this.as[slot] = a;
    this.bs[slot] = b;
    this.objs[slot] = obj;
    // Sift up: a later push never beats an equal time, so only strictly smaller parents stop it.
    const hTime = this.hTime;
    const hSlot = this.hSlot;
    let i = this.length++;
    while (i > 0) {
      const p = (i - 1) >> 2;
      const pt = hTime[p]!;
      if (pt <= time) break;
      hTime[i] = pt;
      hSlot[i] = hSlot[p]!;
      i = p;
    }
    hTime[i] = time;
    hSlot[i] = slot;
  }

  /**
   * Remove the earliest event and expose it through {@link time}, {@link kind}, {@link a},
   * {@link b} and {@link obj}. Returns false when the heap is empty.
   */
  pop(): boolean {
    if (this.length === 0) return false;
    const hTime = this.hTime;
    const hSlot = this.hSlot;
    const seqs = this.seqs;
    const top = hSlot[0]!;
    this.time = hTime[0]!;
    this.kind = this.kinds[top]!;
    this.a = this.as[top]!;
    this.b = this.bs[top]!;
    this.obj = this.objs[top];
    this.objs[top] = undefined;
    this.freeSlots[this.freeCount++] = top;
    const n = --this.length;
    if (n === 0) return true;
    const lt = hTime[n]!;
    const ls = hSlot[n]!;
    const lseq = seqs[ls]!;
    let i = 0;
    for (;;) {
      const first = 4 * i + 1;
      if (first >= n) break;
      // Smallest (time, seq) among up to four children.
      let c = first;
      let ct = hTime[first]!;
      const end = first + 4 < n ? first + 4 : n;
      for (let k = first + 1; k < end; k++) {
        const kt = hTime[k]!;
        if (kt < ct || (kt === ct && seqs[hSlot[k]!]! < seqs[hSlot[c]!]!)) {
          c = k;
          ct = kt;
        }
      }
      if (ct > lt || (ct === lt && seqs[hSlot[c]!]! > lseq)) break;
      hTime[i] = ct;
      hSlot[i] = hSlot[c]!;
      i = c;
    }
    hTime[i] = lt;
    hSlot[i] = ls;
    return true;
  }

  private grow(): void {
    const c = this.seqs.length * 2;
    const grow32 = (old: Int32Array): Int32Array => {
      const x = new Int32Array(c);
      x.set(old);
      return x;
    };
    const grow64 = (old: Float64Array): Float64Array => {
      const x = new Float64Array(c);
      x.set(old);
      return x;
    };
    this.hTime = grow64(this.hTime);
    this.hSlot = grow32(this.hSlot);
    this.seqs = grow64(this.seqs);
    const kinds = new Uint8Array(c);
    kinds.set(this.kinds);
    this.kinds = kinds;
    this.as = grow32(this.as);
    this.bs = grow32(this.bs);
    this.freeSlots = grow32(this.freeSlots);
    const objs = new Array<unknown>(c).fill(undefined);
    for (let i = 0; i < this.objs.length; i++) objs[i] = this.objs[i];
    this.objs = objs;
  }
}
