/**
 * The per-topic log a durable topic writes every delivered message to, as the replicator sees
 * it. Declared structurally so the replicator does not depend on LevelDB: libs/store's
 * `TopicLog` and {@link MemoryDurableLog} both fit. The record type is the store's.
 *
 * A stream is one publisher incarnation, (origin, epoch); its seqs count 1, 2, ... so a gap is
 * visible. `has` is the delivered mark: a record the log has was accepted for the handlers, also
 * before a restart, and is never accepted again; a log that outlives the process also tracks
 * which of them the handlers have seen (`markHandled`) and gives back the others after a crash.
 */

import type { DurableRecord } from '@plumtree/store';

/** One message of a durable topic, as stored (libs/store) and as carried by catch-up frames. */
export type { DurableRecord };

/** What a log knows of one stream. */
export interface DurableStreamMark {
  readonly origin: string;
  readonly epoch: number;
  /** High-water mark: every seq in 1..hwm is in the log (0 when seq 1 is missing). */
  readonly hwm: number;
  /** The highest seq in the log (at least hwm; above it when there are gaps). */
  readonly lastSeq: number;
}

/** A requester's position in one stream: it wants the records with seq above `hwm`. */
export interface DurableRequestMark {
  readonly origin: string;
  readonly epoch: number;
  readonly hwm: number;
}

/** Bounds of one `readMissing` page. */
export interface DurableReadLimit {
  /** At most this many records. */
  readonly maxMessages: number;
  /** At most about this many bytes of records (always at least one record when any is missing). */
  readonly maxBytes: number;
}

/** One page of records a requester misses. */
export interface DurableReadResult {
  /** Per stream in ascending seq order. */
  readonly records: DurableRecord[];
  /** True when the limits cut the page short: more records are missing. */
  readonly more: boolean;
}

/** The log of one durable topic (structural: libs/store's `TopicLog` implements it). */
export interface DurableLog {
  readonly topic: string;
  /** Whether the record was appended (delivered) before. */
  has(origin: string, epoch: number, seq: number): boolean;
  /** One mark per stream the log knows. */
  marks(): DurableStreamMark[];
  /**
   * Persist one batch; records the log already has are skipped. Resolves to the appended ones,
   * in input order. Calls are serialized by the log.
   */
  append(records: readonly DurableRecord[]): Promise<DurableRecord[]>;
  /**
   * Records with seq above the requester's mark of their stream (every record of a stream the
   * marks do not name), per stream in ascending seq order, bounded by `limit`.
   */
  readMissing(
    marks: readonly DurableRequestMark[],
    limit: DurableReadLimit,
  ): Promise<DurableReadResult>;
  /**
   * At least once across a crash (logs that outlive the process): every observer has seen the
   * record, so it is not handed again after a restart.
   */
  markHandled?(origin: string, epoch: number, seq: number): void;
  /**
   * The records appended before this open and never marked handled (the process died first),
   * once: the node hands them again with `redelivered: true`.
   */
  takeUnhandled?(): DurableRecord[];
}
