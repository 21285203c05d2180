/**
 * The at-least-once half of a durable topic log: which stored records have not been handed to
 * the node's observers yet (docs/persistence.md, "Delivery across a crash").
 *
 * The log appends each record together with an empty key `u\0<topic>\0<origin>\0<epoch>\0<seq>`
 * in the same LevelDB batch. Once every observer of the record's delivery has returned, the node
 * calls {@link UnhandledIndex.markHandled}; the key is deleted in a later batch (the marks of one
 * turn of the event loop go out as one batch, through the log's serialized queue). The keys
 * still on disk after a crash name exactly the records that may not have reached a handler: on
 * open they are read back ({@link UnhandledIndex.takeRecovered}) and the node hands them again,
 * flagged `redelivered`. A record whose key is gone is never handed again. So the crash window
 * shows as flagged duplicates, never as a loss.
 *
 * Memory: one key string per record stored and not yet handled (the node's delivery queue and
 * its parked deliveries), plus the records recovered at open until they are taken.
 */
import type { ClassicLevel } from 'classic-level';
import { StoreError } from './store-errors.js';
import {
  logKey,
  parseUnhandledKey,
  unhandledKey,
  unhandledTopicRange,
  type RecordId,
} from './store-keys.js';
import { decodeRecordValue } from './value-codec.js';

/** A stored record as the log returns it (see topic-log.ts `DurableRecord`). */
export interface RecoveredRecord extends RecordId {
  readonly publishedAtMs: number;
  readonly headers: Readonly<Record<string, string>> | undefined;
  readonly payload: Uint8Array;
}

/** One LevelDB batch operation. */
export type UnhandledOp =
  { type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string };

const EMPTY = new Uint8Array(0);

/** See the file header. One per topic log. */
export class UnhandledIndex {
  /** Unhandled keys of records stored in this life or recovered at open. */
  private readonly keys = new Set<string>();
  private deletes: UnhandledOp[] = [];
  private flushScheduled = false;
  private recovered: RecoveredRecord[] = [];
  /** Keys that did not parse or named a record no longer stored (deleted at open). */
  corrupt = 0;

  constructor(
    private readonly db: ClassicLevel<string, Uint8Array>,
    private readonly dir: string,
    private readonly topic: string,
    /** Runs a job on the log's serialized queue (so a delete never overtakes its append). */
    private readonly enqueue: (job: () => Promise<void>) => Promise<void>,
  ) {}

  /** Records stored and not yet marked handled now. */
  get size(): number {
    return this.keys.size;
  }

  /** The op that records `id` as unhandled, for the append batch that stores it. */
  putOp(id: RecordId): UnhandledOp {
    return { type: 'put', key: unhandledKey(this.topic, id), value: EMPTY };
  }

  /** Once the append batch holding {@link putOp}s is written. */
  stored(ids: readonly RecordId[]): void {
    for (const id of ids) this.keys.add(unhandledKey(this.topic, id));
  }

  /** Adds to `ops` the delete of `id`'s key when it is unhandled (the record is being trimmed). */
  trimmed(id: RecordId, ops: UnhandledOp[]): void {
    const key = unhandledKey(this.topic, id);
    if (this.keys.delete(key)) ops.push({ type: 'del', key });
  }

  /**
   * Every observer has returned from the delivery of `id`: its key is deleted in the next batch.
   * Unknown or already handled ids are ignored.
   */
  markHandled(id: RecordId): void {
    const key = unhandledKey(this.topic, id);
    if (!this.keys.delete(key)) return;
    this.deletes.push({ type: 'del', key });
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // After the current macrotask: one delivery slice's marks become one batch.
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.flush().catch(() => undefined);
    });
  }

  /** Enqueues the pending deletes now (also called by the log's close). */
  flush(): Promise<void> {
    if (this.deletes.length === 0) return Promise.resolve();
    const ops = this.deletes;
    this.deletes = [];
    return this.enqueue(async () => {
      try {
        await this.db.batch(ops);
      } catch (e) {
        // The keys stay: those records are handed again after a restart (at least once).
        throw new StoreError(this.dir, `handled marks of topic ${this.topic} failed`, {
          cause: e,
        });
      }
    });
  }

  /**
   * The records stored but never marked handled before this open, in (origin, epoch, seq) order;
   * returns them once (later calls return []). Their keys stay until they are marked handled.
   */
  takeRecovered(): RecoveredRecord[] {
    const out = this.recovered;
    this.recovered = [];
    return out;
  }

  /** Reads the unhandled keys left on disk and their records; drops keys of records gone. */
  async load(): Promise<void> {
    const stale: UnhandledOp[] = [];
    for await (const key of this.db.keys(unhandledTopicRange(this.topic))) {
      const id = parseUnhandledKey(key);
      const value =
        id === null
          ? undefined
          : await this.db.get(logKey(this.topic, id.origin, id.epoch, id.seq));
      const v = value === undefined ? null : decodeRecordValue(value);
      if (id === null || v === null) {
        this.corrupt++;
        stale.push({ type: 'del', key });
        continue;
      }
      this.keys.add(key);
      this.recovered.push({
        ...id,
        publishedAtMs: v.publishedAtMs,
        headers: v.headers,
        payload: v.payload,
      });
    }
    if (stale.length > 0) await this.db.batch(stale);
  }
}
