import { retransmitLimit } from './formulas.js';

/** An entry of a {@link TransmitLimitedQueue}. */
export interface QueuedBroadcast<M> {
  /** The message to piggyback (decoded; the codec encodes it). */
  readonly message: M;
  /** Its encoded size in bytes, as counted against the packet budget. */
  readonly size: number;
  /**
   * Named broadcasts replace any queued broadcast of the same name (memberlist `NamedBroadcast`:
   * membership messages are named after the member they are about, so an alive about X drops a
   * queued suspect about X).
   */
  readonly name?: string;
  /** Unique broadcasts never invalidate and are never invalidated (memberlist `UniqueBroadcast`). */
  readonly unique?: boolean;
  /** For unnamed, non-unique broadcasts: whether this one makes the queued `other` obsolete. */
  invalidates?(other: QueuedBroadcast<M>): boolean;
  /**
   * Sends at least this many times, whatever the cluster size gives (ours: a floor for `alive`,
   * see `SwimConfig.aliveRetransmitFloor`). Default 0: the limit alone.
   */
  readonly minTransmits?: number;
  /** Called once when the broadcast leaves the queue: sent its last time, invalidated, pruned or reset. */
  finished?(): void;
}

interface Entry<M> {
  transmits: number;
  readonly id: number;
  readonly b: QueuedBroadcast<M>;
}

/**
 * memberlist's `TransmitLimitedQueue`: broadcasts waiting to be piggybacked, each sent at most
 * `retransmitMult * ceil(log10(n + 1))` times.
 *
 * Order (memberlist's btree order): fewest transmits first; within that, larger messages first;
 * within that, newest first. {@link getBroadcasts} walks the tiers from the fewest transmits and
 * takes, each time, the first (largest) message that still fits the remaining budget.
 */
export class TransmitLimitedQueue<M> {
  /** Sorted by (transmits asc, size desc, id desc). */
  private entries: Entry<M>[] = [];
  private readonly named = new Map<string, Entry<M>>();
  private idGen = 0;

  /**
   * @param retransmitMult memberlist `RetransmitMult`
   * @param numNodes current member estimate, read at every {@link getBroadcasts}
   */
  constructor(
    private readonly retransmitMult: number,
    private readonly numNodes: () => number,
  ) {}

  /** Broadcasts queued. */
  get length(): number {
    return this.entries.length;
  }

  /**
   * Queue a broadcast, dropping the broadcasts it invalidates. `initialTransmits` (default 0) lets
   * a caller requeue a broadcast that was already sent.
   */
  queueBroadcast(b: QueuedBroadcast<M>, initialTransmits = 0): void {
    this.idGen = this.idGen === Number.MAX_SAFE_INTEGER ? 1 : this.idGen + 1;
    const entry: Entry<M> = { transmits: initialTransmits, id: this.idGen, b };
    if (b.name !== undefined) {
      const old = this.named.get(b.name);
      if (old) {
        this.deleteEntry(old);
        old.b.finished?.();
      }
    } else if (!b.unique && b.invalidates) {
      const stale = this.entries.filter(
        (cur) => cur.b.name === undefined && !cur.b.unique && b.invalidates!(cur.b),
      );
      for (const cur of stale) {
        this.deleteEntry(cur);
        cur.b.finished?.();
      }
    }
    this.insert(entry);
  }

  /**
   * Take broadcasts for one packet: at most `limitBytes` in total, counting `overheadBytes` per
   * message on top of its size. Each returned broadcast's transmit count goes up by one; those that
   * reach the retransmit limit leave the queue.
   */
  getBroadcasts(overheadBytes: number, limitBytes: number): M[] {
    return this.takeBroadcasts(overheadBytes, limitBytes).messages;
  }

  /** {@link getBroadcasts}, also giving the bytes used (sizes plus overheads). */
  takeBroadcasts(overheadBytes: number, limitBytes: number): { messages: M[]; bytesUsed: number } {
    if (this.entries.length === 0) return { messages: [], bytesUsed: 0 };
    const transmitLimit = retransmitLimit(this.retransmitMult, this.numNodes());
    const out: M[] = [];
    const reinsert: Entry<M>[] = [];
    let bytesUsed = 0;
    let transmits = this.entries[0]!.transmits;
    const maxTransmits = this.entries[this.entries.length - 1]!.transmits;
    while (transmits <= maxTransmits) {
      const free = limitBytes - bytesUsed - overheadBytes;
      if (free <= 0) break;
      const keep = this.firstFitting(transmits, free);
      if (!keep) {
        transmits++;
        continue;
      }
      out.push(keep.b.message);
      bytesUsed += overheadBytes + keep.b.size;
      this.deleteEntry(keep);
      if (keep.transmits + 1 >= Math.max(transmitLimit, keep.b.minTransmits ?? 0)) {
        keep.b.finished?.();
      } else {
        keep.transmits++;
        reinsert.push(keep);
      }
    }
    for (const e of reinsert) this.insert(e);
    return { messages: out, bytesUsed };
  }

  /** Drop the broadcasts sent most often until at most `maxRetain` remain. */
  prune(maxRetain: number): void {
    while (this.entries.length > maxRetain) {
      const last = this.entries[this.entries.length - 1]!;
      this.deleteEntry(last);
      last.b.finished?.();
    }
  }

  /** Drop everything. */
  reset(): void {
    const all = this.entries;
    this.entries = [];
    this.named.clear();
    this.idGen = 0;
    for (const e of all) e.b.finished?.();
  }

  /** The queue in transmit order with transmit counts (for inspection and tests). */
  orderedView(): Array<{ transmits: number; broadcast: QueuedBroadcast<M> }> {
    return this.entries.map((e) => ({ transmits: e.transmits, broadcast: e.b }));
  }

  private firstFitting(transmits: number, free: number): Entry<M> | undefined {
    for (let i = this.lowerBound(transmits); i < this.entries.length; i++) {
      const e = this.entries[i]!;
      if (e.transmits !== transmits) return undefined;
      if (e.b.size <= free) return e;
    }
    return undefined;
  }

  /** Index of the first entry with at least `transmits` transmits. */
  private lowerBound(transmits: number): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.entries[mid]!.transmits < transmits) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Position of `e` in the sorted entries: (transmits, size, id) is unique. */
  private position(e: Entry<M>): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (before(this.entries[mid]!, e)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private insert(e: Entry<M>): void {
    this.entries.splice(this.position(e), 0, e);
    if (e.b.name !== undefined) this.named.set(e.b.name, e);
  }

  private deleteEntry(e: Entry<M>): void {
    const i = this.position(e);
    if (this.entries[i] === e) this.entries.splice(i, 1);
    if (e.b.name !== undefined && this.named.get(e.b.name) === e) this.named.delete(e.b.name);
    if (this.entries.length === 0) this.idGen = 0;
  }
}

/** memberlist's `limitedBroadcast.Less`. */
function before<M>(a: Entry<M>, b: Entry<M>): boolean {
  if (a.transmits !== b.transmits) return a.transmits < b.transmits;
  if (a.b.size !== b.b.size) return a.b.size > b.b.size;
  return a.id > b.id;
}
