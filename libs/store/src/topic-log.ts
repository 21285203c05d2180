/**
 * The durable log of one topic on one node: records keyed by (origin, epoch, seq), a delivered
 * mark per stream (origin, epoch), retention by age and by count, and catch-up reads.
 *
 * In memory, per stream: the contiguous high-water mark `hwm` (every seq <= hwm was appended or
 * given up by retention) and the set of stored seqs above it. `has` is two map lookups and a set
 * lookup. The set only holds seqs of records still in the log, so memory is bounded by retention.
 * On open the index is rebuilt from the stored marks, the record keys and the time index (no
 * payload is read).
 *
 * Durability: an append writes the records, their time-index entries, the updated marks of the
 * touched streams and the records' unhandled keys in ONE LevelDB batch, so after any crash the
 * marks and the log agree. The node marks a record handled once its observers have seen it
 * (unhandled-index.ts); the ones still unhandled at the next open are handed again.
 *
 * Retention measures age by APPEND time (the local clock when this node stored the record), not
 * publishedAtMs: publishers' clocks may be skewed, and a record caught up late should be kept a
 * full retention period for the peers that still lack it. Trimming removes the oldest records
 * first (time index) while they are older than `retentionMs` or the log holds more than
 * `maxMessages`. A trimmed seq above a stream's hwm lifts the hwm to it: gaps below a trimmed
 * record are given up (they are older than what the log keeps anyway), and everything trimmed
 * stays `has`. A stream with no records left whose newest append is older than 2x `retentionMs`
 * is forgotten entirely (mark deleted, memory freed): a redelivery of one of its messages after
 * that would be appended again.
 * */
import type { ClassicLevel } from 'classic-level';
import { StoreError } from './store-errors.js';
import { UnhandledIndex } from './unhandled-index.js';
import {
  logKey,
  logStreamPrefix,
  logStreamRangeFrom,
  logTopicRange,
  markKey,
  markTopicRange,
  parseLogKey,
  parseMarkKey,
  parseTimeKey,
  timeKey,
  timeTopicRange,
  type KeyRange,
} from './store-keys.js';
import {
  decodeMarkValue,
  decodeRecordValue,
  decodeTimeValue,
  encodeMarkValue,
  encodeRecordValue,
  encodeTimeValue,
} from './value-codec.js';

/** One durable message as the node keeps it. */
export interface DurableRecord {
  /** Publishing node name. */
  readonly origin: string;
  /** Publisher's start time (safe integer >= 0): a restarted publisher starts a new stream. */
  readonly epoch: number;
  /** 1.. per (origin, epoch, topic). */
  readonly seq: number;
  /** Publisher's clock at publish. */
  readonly publishedAtMs: number;
  /** Wire headers, may hold content-type. */
  readonly headers: Readonly<Record<string, string>> | undefined;
  /** Encoded payload bytes. */
  readonly payload: Uint8Array;
}

/** Retention of one topic log. */
export interface TopicLogOptions {
  /** Records appended longer ago than this are trimmed. */
  readonly retentionMs: number;
  /** At most this many records are kept (oldest trimmed first). */
  readonly maxMessages: number;
}

/** Per stream (origin, epoch): the contiguous high-water mark and the highest seq seen. */
export interface StreamMark {
  readonly origin: string;
  readonly epoch: number;
  /** Every seq <= hwm is `has`. */
  readonly hwm: number;
  /** Highest seq ever appended. */
  readonly lastSeq: number;
}

/** A peer's position in one stream, as sent in a catch-up request. */
export interface PeerMark {
  readonly origin: string;
  readonly epoch: number;
  readonly hwm: number;
}

/** Counters of one topic log. */
export interface TopicLogStats {
  /** Records in the log now. */
  messages: number;
  /** Payload bytes in the log now. */
  bytes: number;
  /** Streams (origin, epoch) remembered. */
  streams: number;
  /** Records appended since open. */
  appended: number;
  /** Records removed by retention since open. */
  trimmed: number;
  /** Stored keys or values that did not decode (skipped, never thrown). */
  corruptRecords: number;
}

/** LevelDB handle as the store opens it. */
export type StoreDb = ClassicLevel<string, Uint8Array>;

type BatchOp = { type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string };

interface Stream {
  readonly origin: string;
  readonly epoch: number;
  hwm: number;
  lastSeq: number;
  /** Stored seqs above hwm. */
  readonly above: Set<number>;
  /** Records of this stream in the log. */
  count: number;
  newestAppendMs: number;
}

function newStream(origin: string, epoch: number): Stream {
  return { origin, epoch, hwm: 0, lastSeq: 0, above: new Set(), count: 0, newestAppendMs: 0 };
}

/** Auto-trim on append once the log exceeds maxMessages by more than this fraction. */
const AUTO_TRIM_SLACK = 0.1;
/** Deletions per LevelDB batch while trimming. */
const TRIM_BATCH = 4096;
/** Entries per iterator read. */
const READ_CHUNK = 256;

function validateRecord(r: DurableRecord): string | null {
  if (typeof r.origin !== 'string') return 'origin must be a string';
  if (!Number.isSafeInteger(r.epoch) || r.epoch < 0) return 'epoch must be a safe integer >= 0';
  if (!Number.isSafeInteger(r.seq) || r.seq < 1) return 'seq must be a safe integer >= 1';
  if (!Number.isFinite(r.publishedAtMs)) return 'publishedAtMs must be finite';
  if (!(r.payload instanceof Uint8Array)) return 'payload must be a Uint8Array';
  if (r.headers !== undefined) {
    if (typeof r.headers !== 'object' || r.headers === null) return 'headers must be an object';
    for (const v of Object.values(r.headers)) {
      if (typeof v !== 'string') return 'header values must be strings';
    }
  }
  return null;
}

/** Validates topic log options; throws a RangeError naming every problem. */
export function validateTopicLogOptions(o: TopicLogOptions): void {
  const problems: string[] = [];
  if (!Number.isSafeInteger(o.retentionMs) || o.retentionMs < 1) {
    problems.push(`retentionMs must be an integer >= 1, got ${String(o.retentionMs)}`);
  }
  if (!Number.isSafeInteger(o.maxMessages) || o.maxMessages < 1) {
    problems.push(`maxMessages must be an integer >= 1, got ${String(o.maxMessages)}`);
  }
  if (problems.length > 0) throw new RangeError(`invalid TopicLogOptions: ${problems.join('; ')}`);
}

/** The durable log of one topic (see the file header). Obtain it from `NodeStore.openTopicLog`. */
export class TopicLog {
  /** The topic. */
  readonly topic: string;
  private readonly byOrigin = new Map<string, Map<number, Stream>>();
  private streamCount = 0;
  private readonly counters: TopicLogStats = {
    messages: 0,
    bytes: 0,
    streams: 0,
    appended: 0,
    trimmed: 0,
    corruptRecords: 0,
  };
  /** Serializes appends and trims. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly unhandled: UnhandledIndex;

  private constructor(
    private readonly db: StoreDb,
    private readonly dir: string,
    topic: string,
    private readonly options: TopicLogOptions,
    private readonly clock: () => number,
  ) {
    this.topic = topic;
    this.unhandled = new UnhandledIndex(db, dir, topic, (job) => this.enqueue(job));
  }

  /**
   * Opens the log of `topic` and rebuilds its in-memory index from the stored records.
   * @internal used by NodeStore.
   */
  static async load(
    db: StoreDb,
    dir: string,
    topic: string,
    options: TopicLogOptions,
    clock: () => number,
  ): Promise<TopicLog> {
    validateTopicLogOptions(options);
    const log = new TopicLog(db, dir, topic, options, clock);
    await log.rebuild();
    return log;
  }

  /** True when (origin, epoch, seq) was appended before (also after a restart or a trim). O(1). */
  has(origin: string, epoch: number, seq: number): boolean {
    const s = this.byOrigin.get(origin)?.get(epoch);
    return s !== undefined && seq >= 1 && (seq <= s.hwm || s.above.has(seq));
  }

  /** Every remembered stream's marks. */
  marks(): StreamMark[] {
    const out: StreamMark[] = [];
    for (const m of this.byOrigin.values()) {
      for (const s of m.values()) {
        out.push({ origin: s.origin, epoch: s.epoch, hwm: s.hwm, lastSeq: s.lastSeq });
      }
    }
    return out;
  }

  /**
   * Appends in ONE LevelDB batch the records not yet `has` (duplicates inside `records` count
   * once) plus the updated marks of their streams; resolves to the records actually appended, in
   * input order. Calls are serialized. Invalid records reject with a TypeError before anything is
   * written. Trims by itself when the log exceeds maxMessages by more than 10%.
   */
  append(records: readonly DurableRecord[]): Promise<DurableRecord[]> {
    for (const r of records) {
      const problem = validateRecord(r);
      if (problem !== null)
        return Promise.reject(new TypeError(`invalid DurableRecord: ${problem}`));
    }
    return this.enqueue(async () => {
      const appended = await this.appendNow(records);
      if (this.counters.messages > this.options.maxMessages * (1 + AUTO_TRIM_SLACK)) {
        await this.trimNow();
      }
      return appended;
    });
  }

  /**
   * What a peer with `marks` lacks: records of streams where seq > its hwm (streams it does not
   * list: all retained), in (origin in UTF-8 byte order, epoch, seq) order, at most `maxMessages`
   * and about `maxBytes` of payload (always at least one record if any), and whether more remain.
   * Reads with LevelDB iterators, one stream at a time; never loads the whole log.
   */
  async readMissing(
    marks: readonly PeerMark[],
    limit: { maxMessages: number; maxBytes: number },
  ): Promise<{ records: DurableRecord[]; more: boolean }> {
    this.assertOpen();
    const maxMessages = Math.max(1, Math.floor(limit.maxMessages));
    const peer = new Map<string, Map<number, number>>();
    for (const m of marks) {
      let e = peer.get(m.origin);
      if (e === undefined) peer.set(m.origin, (e = new Map()));
      e.set(m.epoch, Math.max(e.get(m.epoch) ?? 0, m.hwm));
    }
    const peerHwm = (s: Stream): number => peer.get(s.origin)?.get(s.epoch) ?? 0;
    const candidates: { s: Stream; from: number; key: Buffer }[] = [];
    for (const m of this.byOrigin.values()) {
      for (const s of m.values()) {
        const from = peerHwm(s) + 1;
        if (s.count > 0 && s.lastSeq >= from) {
          candidates.push({
            s,
            from,
            key: Buffer.from(logStreamPrefix(this.topic, s.origin, s.epoch)),
          });
        }
      }
    }
    // LevelDB's order (UTF-8 bytes), not JS string order, so that pages follow the key order.
    candidates.sort((a, b) => Buffer.compare(a.key, b.key));

    const records: DurableRecord[] = [];
    let bytes = 0;
    for (const { s, from } of candidates) {
      const it = this.db.iterator(logStreamRangeFrom(this.topic, s.origin, s.epoch, from));
      try {
        for (;;) {
          const chunk = await it.nextv(Math.min(READ_CHUNK, maxMessages - records.length + 1));
          if (chunk.length === 0) break;
          for (const [key, value] of chunk) {
            const id = parseLogKey(key);
            const v = decodeRecordValue(value);
            if (id === null || v === null) {
              this.counters.corruptRecords++;
              continue;
            }
            const full =
              records.length >= maxMessages ||
              (records.length > 0 && bytes + v.payload.length > limit.maxBytes);
            if (full) return { records, more: true };
            records.push({
              origin: id.origin,
              epoch: id.epoch,
              seq: id.seq,
              publishedAtMs: v.publishedAtMs,
              headers: v.headers,
              payload: v.payload,
            });
            bytes += v.payload.length;
          }
        }
      } finally {
        await it.close();
      }
    }
    return { records, more: false };
  }

  /** Applies retention now (see the file header); resolves to the number of records removed. */
  trim(): Promise<number> {
    return this.enqueue(() => this.trimNow());
  }

  /** Counters of this log. */
  stats(): TopicLogStats {
    return { ...this.counters, streams: this.streamCount };
  }

  /** Every observer has seen the record: not handed again after a crash (unhandled-index.ts). */
  markHandled(origin: string, epoch: number, seq: number): void {
    if (!this.closed) this.unhandled.markHandled({ origin, epoch, seq });
  }

  /** Records appended before this open and never marked handled, once, in key order. */
  takeUnhandled(): DurableRecord[] {
    return this.unhandled.takeRecovered();
  }

  /**
   * Waits for pending appends, trims and handled marks, then refuses further calls.
   * @internal used by NodeStore.close.
   */
  async closeLog(): Promise<void> {
    void this.unhandled.flush().catch(() => undefined);
    this.closed = true;
    await this.queue.catch(() => undefined);
  }

  /** The injected clock as a whole number of ms >= 0 (it becomes a hex key field). */
  private nowMs(): number {
    const t = Math.floor(this.clock());
    return Number.isSafeInteger(t) && t > 0 ? t : 0;
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError(this.dir, `store ${this.dir} is closed`);
  }

  private enqueue<T>(job: () => Promise<T>): Promise<T> {
    if (this.closed) {
      return Promise.reject(new StoreError(this.dir, `store ${this.dir} is closed`));
    }
    const run = this.queue.then(job, job);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private stream(origin: string, epoch: number, create: boolean): Stream | undefined {
    const s = this.byOrigin.get(origin)?.get(epoch);
    if (s !== undefined || !create) return s;
    return this.register(newStream(origin, epoch));
  }

  private register(s: Stream): Stream {
    let m = this.byOrigin.get(s.origin);
    if (m === undefined) this.byOrigin.set(s.origin, (m = new Map()));
    m.set(s.epoch, s);
    this.streamCount++;
    return s;
  }

  private forget(s: Stream): void {
    const m = this.byOrigin.get(s.origin);
    if (m?.delete(s.epoch) !== true) return;
    this.streamCount--;
    if (m.size === 0) this.byOrigin.delete(s.origin);
  }

  private markOp(s: Stream): BatchOp {
    return {
      type: 'put',
      key: markKey(this.topic, s.origin, s.epoch),
      value: encodeMarkValue({ hwm: s.hwm, lastSeq: s.lastSeq, newestAppendMs: s.newestAppendMs }),
    };
  }

  private async appendNow(records: readonly DurableRecord[]): Promise<DurableRecord[]> {
    const now = this.nowMs();
    const ops: BatchOp[] = [];
    const appended: DurableRecord[] = [];
    // New seqs per stream, applied to memory only once the batch is written.
    const pending = new Map<Stream, Set<number>>();
    const fresh = new Map<string, Stream>();
    let bytes = 0;
    for (const r of records) {
      if (this.has(r.origin, r.epoch, r.seq)) continue;
      // A new stream is registered only once its first batch is written.
      let s = this.stream(r.origin, r.epoch, false);
      if (s === undefined) {
        const key = `${r.epoch.toString()}/${r.origin}`;
        s = fresh.get(key);
        if (s === undefined) fresh.set(key, (s = newStream(r.origin, r.epoch)));
      }
      let p = pending.get(s);
      if (p === undefined) pending.set(s, (p = new Set()));
      if (p.has(r.seq)) continue;
      p.add(r.seq);
      appended.push(r);
      bytes += r.payload.length;
      const id = { origin: r.origin, epoch: r.epoch, seq: r.seq };
      ops.push(this.unhandled.putOp(id));
      ops.push({
        type: 'put',
        key: logKey(this.topic, r.origin, r.epoch, r.seq),
        value: encodeRecordValue({
          publishedAtMs: r.publishedAtMs,
          appendedAtMs: now,
          headers: r.headers,
          payload: r.payload,
        }),
      });
      ops.push({
        type: 'put',
        key: timeKey(this.topic, now, id),
        value: encodeTimeValue(r.payload.length),
      });
    }
    if (appended.length === 0) return appended;
    const next = new Map<Stream, { hwm: number; lastSeq: number }>();
    for (const [s, p] of pending) {
      let hwm = s.hwm;
      while (s.above.has(hwm + 1) || p.has(hwm + 1)) hwm++;
      let lastSeq = s.lastSeq;
      for (const q of p) if (q > lastSeq) lastSeq = q;
      next.set(s, { hwm, lastSeq });
      ops.push({
        type: 'put',
        key: markKey(this.topic, s.origin, s.epoch),
        value: encodeMarkValue({ hwm, lastSeq, newestAppendMs: now }),
      });
    }
    try {
      await this.db.batch(ops);
    } catch (e) {
      throw new StoreError(this.dir, `append to topic ${this.topic} failed`, { cause: e });
    }
    for (const s of fresh.values()) this.register(s);
    this.unhandled.stored(appended);
    for (const [s, p] of pending) {
      const n = next.get(s)!;
      for (let q = s.hwm + 1; q <= n.hwm; q++) s.above.delete(q);
      for (const q of p) if (q > n.hwm) s.above.add(q);
      s.hwm = n.hwm;
      s.lastSeq = n.lastSeq;
      s.count += p.size;
      s.newestAppendMs = now;
    }
    this.counters.messages += appended.length;
    this.counters.bytes += bytes;
    this.counters.appended += appended.length;
    return appended;
  }

  /** Lifts a stream's hwm over a trimmed seq (and over the stored seqs contiguous above it). */
  private static giveUpThrough(s: Stream, seq: number): void {
    if (seq <= s.hwm) return;
    s.hwm = seq;
    for (const q of s.above) if (q <= seq) s.above.delete(q);
    while (s.above.delete(s.hwm + 1)) s.hwm++;
  }

  private async trimNow(): Promise<number> {
    const now = this.nowMs();
    const cutoff = now - this.options.retentionMs;
    let removed = 0;
    let ops: BatchOp[] = [];
    let touched = new Set<Stream>();
    // Memory is updated before each batch is written: if the write fails, `has` only errs on
    // the side of "delivered" (hwm never moves back), and the records simply stay on disk.
    const flush = async (): Promise<void> => {
      for (const s of touched) ops.push(this.markOp(s));
      if (ops.length > 0) {
        try {
          await this.db.batch(ops);
        } catch (e) {
          throw new StoreError(this.dir, `trim of topic ${this.topic} failed`, { cause: e });
        }
      }
      ops = [];
      touched = new Set();
    };
    const it = this.db.iterator(timeTopicRange(this.topic));
    try {
      scan: for (;;) {
        const chunk = await it.nextv(READ_CHUNK);
        if (chunk.length === 0) break;
        for (const [key, value] of chunk) {
          const t = parseTimeKey(key);
          const overCount = this.counters.messages > this.options.maxMessages;
          if (t !== null && t.appendedAtMs >= cutoff && !overCount) break scan;
          ops.push({ type: 'del', key });
          if (t === null) {
            this.counters.corruptRecords++;
            continue;
          }
          ops.push({ type: 'del', key: logKey(this.topic, t.origin, t.epoch, t.seq) });
          this.unhandled.trimmed(t, ops);
          const s = this.stream(t.origin, t.epoch, false);
          if (s !== undefined) {
            TopicLog.giveUpThrough(s, t.seq);
            s.count = Math.max(0, s.count - 1);
            touched.add(s);
          }
          removed++;
          this.counters.messages = Math.max(0, this.counters.messages - 1);
          this.counters.bytes = Math.max(0, this.counters.bytes - (decodeTimeValue(value) ?? 0));
          if (ops.length >= TRIM_BATCH) await flush();
        }
      }
    } finally {
      await it.close();
    }
    const idleBefore = now - 2 * this.options.retentionMs;
    for (const m of [...this.byOrigin.values()]) {
      for (const s of [...m.values()]) {
        if (s.count === 0 && s.newestAppendMs < idleBefore) {
          touched.delete(s);
          ops.push({ type: 'del', key: markKey(this.topic, s.origin, s.epoch) });
          this.forget(s);
        }
      }
    }
    await flush();
    this.counters.trimmed += removed;
    return removed;
  }

  private async rebuild(): Promise<void> {
    const marks = this.validEntries(markTopicRange(this.topic), parseMarkKey, decodeMarkValue);
    for await (const [id, m] of marks) {
      const s = this.stream(id.origin, id.epoch, true)!;
      s.hwm = m.hwm;
      s.lastSeq = m.lastSeq;
      s.newestAppendMs = m.newestAppendMs;
    }
    // Keys only: opening never reads payloads (values are decoded, and counted when corrupt,
    // by readMissing). Sizes and append times come from the small time-index values.
    for await (const key of this.db.keys(logTopicRange(this.topic))) {
      const id = parseLogKey(key);
      if (id === null) {
        this.counters.corruptRecords++;
        continue;
      }
      const s = this.stream(id.origin, id.epoch, true)!;
      this.counters.messages++;
      s.count++;
      if (id.seq > s.hwm) s.above.add(id.seq);
      if (id.seq > s.lastSeq) s.lastSeq = id.seq;
    }
    const times = this.validEntries(timeTopicRange(this.topic), parseTimeKey, decodeTimeValue);
    for await (const [t, size] of times) {
      this.counters.bytes += size;
      const s = this.stream(t.origin, t.epoch, false);
      if (s !== undefined && t.appendedAtMs > s.newestAppendMs) s.newestAppendMs = t.appendedAtMs;
    }
    // A mark lost to corruption is rebuilt from the records: advance over what is stored.
    for (const m of this.byOrigin.values()) {
      for (const s of m.values()) while (s.above.delete(s.hwm + 1)) s.hwm++;
    }
    await this.unhandled.load();
    this.counters.corruptRecords += this.unhandled.corrupt;
  }

  /** The entries of `range` whose key and value both parse; the others are counted as corrupt. */
  private async *validEntries<K, V>(
    range: KeyRange,
    parseKey: (key: string) => K | null,
    decodeValue: (value: Uint8Array) => V | null,
  ): AsyncGenerator<[K, V]> {
    for await (const [key, value] of this.db.iterator(range)) {
      const k = parseKey(key);
      const v = decodeValue(value);
      if (k === null || v === null) this.counters.corruptRecords++;
      else yield [k, v];
    }
  }
}
