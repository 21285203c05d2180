/**
 * An in-memory {@link DurableLog}: what a node with `persistence: false` uses, and what the
 * replicator's tests run on. Same semantics as the LevelDB log: `has` is the delivered mark,
 * `append` skips records it has and is serialized, `readMissing` pages per stream in seq order.
 *
 * Retention by count: past `maxMessages` records the oldest appended lose their payload, but
 * their delivered marks stay (a stream's contiguous prefix collapses into its hwm), so an
 * evicted record is never delivered twice; it can just no longer be served to a peer.
 */
import { catchupRecordBytes } from './catchup-codec.js';
import type {
  DurableLog,
  DurableReadLimit,
  DurableReadResult,
  DurableRecord,
  DurableRequestMark,
  DurableStreamMark,
} from './durable-log.js';

/** Options of {@link MemoryDurableLog}. */
export interface MemoryDurableLogOptions {
  /** Records kept for serving catch-up; the oldest appended go first. Default 10,000. */
  readonly maxMessages?: number;
}

interface Stream {
  readonly origin: string;
  readonly epoch: number;
  /** Every seq in 1..hwm is delivered. */
  hwm: number;
  /** Delivered seqs above hwm. */
  readonly above: Set<number>;
  lastSeq: number;
  /** Stored records in ascending seq order, from index `head` (evicted ones are before it). */
  readonly records: DurableRecord[];
  head: number;
}

function streamKey(origin: string, epoch: number): string {
  return `${epoch}\u0000${origin}`;
}

/** A copy in Node's pooled allocator: a fresh ArrayBuffer per small payload costs several µs. */
function copyBytes(b: Uint8Array): Uint8Array {
  const out = Buffer.allocUnsafe(b.length);
  out.set(b);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/** Index of the first record with seq above `seq` at or after `lo` (records ascending). */
function firstAbove(records: readonly DurableRecord[], seq: number, lo: number): number {
  let hi = records.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (records[mid]!.seq <= seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The in-memory durable log of one topic. */
export class MemoryDurableLog implements DurableLog {
  private readonly streams = new Map<string, Stream>();
  /** Stored records, oldest appended first, for eviction. */
  private readonly fifo: { stream: Stream; seq: number }[] = [];
  private fifoHead = 0;
  private stored = 0;
  private readonly maxMessages: number;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    readonly topic: string,
    options: MemoryDurableLogOptions = {},
  ) {
    const max = options.maxMessages ?? 10_000;
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new RangeError(`maxMessages must be an integer >= 1 (got ${max})`);
    }
    this.maxMessages = max;
  }

  /** Records kept for serving (at most `maxMessages`). */
  get size(): number {
    return this.stored;
  }

  has(origin: string, epoch: number, seq: number): boolean {
    const s = this.streams.get(streamKey(origin, epoch));
    return s !== undefined && (seq <= s.hwm || s.above.has(seq));
  }

  marks(): DurableStreamMark[] {
    const out: DurableStreamMark[] = [];
    for (const s of this.streams.values()) {
      out.push({ origin: s.origin, epoch: s.epoch, hwm: s.hwm, lastSeq: s.lastSeq });
    }
    return out;
  }

  append(records: readonly DurableRecord[]): Promise<DurableRecord[]> {
    // Serialized like the LevelDB log: each batch applies after the previous one.
    const batch = [...records];
    const next = this.chain.then(() => this.applyBatch(batch));
    this.chain = next.catch(() => undefined);
    return next;
  }

  readMissing(
    marks: readonly DurableRequestMark[],
    limit: DurableReadLimit,
  ): Promise<DurableReadResult> {
    const from = new Map<string, number>();
    for (const m of marks) from.set(streamKey(m.origin, m.epoch), m.hwm);
    const keys = [...this.streams.keys()].sort();
    const records: DurableRecord[] = [];
    let bytes = 0;
    for (const key of keys) {
      const s = this.streams.get(key)!;
      for (let i = firstAbove(s.records, from.get(key) ?? 0, s.head); i < s.records.length; i++) {
        const r = s.records[i]!;
        const size = catchupRecordBytes(r);
        if (
          records.length >= limit.maxMessages ||
          (records.length > 0 && bytes + size > limit.maxBytes)
        ) {
          return Promise.resolve({ records, more: true });
        }
        records.push(r);
        bytes += size;
      }
    }
    return Promise.resolve({ records, more: false });
  }

  private applyBatch(batch: readonly DurableRecord[]): DurableRecord[] {
    const appended: DurableRecord[] = [];
    for (const r of batch) {
      if (this.has(r.origin, r.epoch, r.seq)) continue;
      const key = streamKey(r.origin, r.epoch);
      let s = this.streams.get(key);
      if (s === undefined) {
        s = {
          origin: r.origin,
          epoch: r.epoch,
          hwm: 0,
          above: new Set(),
          lastSeq: 0,
          records: [],
          head: 0,
        };
        this.streams.set(key, s);
      }
      // Copy: the record may be a view of a received frame the transport reuses.
      const stored: DurableRecord = {
        origin: r.origin,
        epoch: r.epoch,
        seq: r.seq,
        publishedAtMs: r.publishedAtMs,
        headers: r.headers === undefined ? undefined : { ...r.headers },
        payload: copyBytes(r.payload),
      };
      if (r.seq === s.hwm + 1) {
        s.hwm = r.seq;
        while (s.above.delete(s.hwm + 1)) s.hwm++;
      } else {
        s.above.add(r.seq);
      }
      s.lastSeq = Math.max(s.lastSeq, r.seq);
      const at = firstAbove(s.records, r.seq, s.head);
      if (at === s.records.length) s.records.push(stored);
      else s.records.splice(at, 0, stored);
      this.fifo.push({ stream: s, seq: r.seq });
      this.stored++;
      appended.push(r);
    }
    this.evict();
    return appended;
  }

  private evict(): void {
    while (this.stored > this.maxMessages) {
      const { stream, seq } = this.fifo[this.fifoHead++]!;
      const at = firstAbove(stream.records, seq, stream.head) - 1;
      if (at >= stream.head && stream.records[at]!.seq === seq) {
        // Usually the stream's oldest record: move the head instead of shifting the array.
        if (at === stream.head) stream.head++;
        else stream.records.splice(at, 1);
        if (stream.head > 1024 && stream.head * 2 > stream.records.length) {
          stream.records.splice(0, stream.head);
          stream.head = 0;
        }
      }
      this.stored--;
    }
    // Compact the queue now and then instead of shifting on every eviction.
    if (this.fifoHead > 1024 && this.fifoHead * 2 > this.fifo.length) {
      this.fifo.splice(0, this.fifoHead);
      this.fifoHead = 0;
    }
  }
}
