/**
 * Acknowledgement frames of a queue group: the owner of some messages tells the other members of
 * the group that its handlers are done with them, so they drop their shadow copies
 * (docs/queue-groups.md).
 *
 * | field   | encoding                                                            |
 * |---------|---------------------------------------------------------------------|
 * | kind    | u8 `FrameKind.GroupAck` (0x85)                                       |
 * | topic   | str8 (UTF-8, 1..255 bytes)                                           |
 * | group   | str8 (UTF-8, 1..255 bytes)                                           |
 * | runs    | varint n (1..`GROUP_ACK_LIMITS.runs`), then n runs                     |
 * | run     | str16 origin (1..512 bytes), varint epoch, varint k (1..`GROUP_ACK_LIMITS.ids`), k varint seq deltas (the first from 0, strictly ascending) |
 *
 * The decoder never throws: a malformed frame is null (the caller counts the drop). Limits are
 * shared by both sides: the encoder never writes more than the decoder accepts.
 */
import { ByteReader, utf8Length, varintSize, writeUtf8, writeVarint } from '@plumtree/common';
import { FrameKind } from '../frame-kinds.js';

/** The limits of a frame, one table for the encoder and the decoder. */
export const GROUP_ACK_LIMITS = Object.freeze({
  /** Runs (one per origin and epoch) in one frame at most. */
  runs: 64,
  /** Sequence numbers in one frame at most, all runs together. */
  ids: 1024,
  /** Longest origin name in UTF-8 bytes (SWIM's node name limit). */
  originBytes: 512,
});
export const MAX_ACK_RUNS = GROUP_ACK_LIMITS.runs;
export const MAX_ACK_IDS = GROUP_ACK_LIMITS.ids;
const MAX_ACK_ORIGIN_BYTES = GROUP_ACK_LIMITS.originBytes;

/** The sequence numbers one origin's epoch acknowledges, ascending. */
export interface AckRun {
  readonly origin: string;
  readonly epoch: number;
  readonly seqs: readonly number[];
}

/** A decoded acknowledgement frame. */
export interface GroupAckFrame {
  readonly topic: string;
  readonly group: string;
  readonly runs: readonly AckRun[];
}

/**
 * Encode `frame`; the caller keeps within `GROUP_ACK_LIMITS.runs` and `GROUP_ACK_LIMITS.ids`, seqs
 * strictly ascending and at least 1, names within their limits (a programmer error throws).
 */
export function encodeGroupAck(frame: GroupAckFrame): Uint8Array {
  const topicLen = utf8Length(frame.topic);
  const groupLen = utf8Length(frame.group);
  let size = 3 + topicLen + groupLen + varintSize(frame.runs.length);
  let ids = 0;
  for (const r of frame.runs) {
    const len = utf8Length(r.origin);
    if (len < 1 || len > MAX_ACK_ORIGIN_BYTES) throw new RangeError('origin out of range');
    size += 2 + len + varintSize(r.epoch) + varintSize(r.seqs.length);
    let prev = 0;
    for (const s of r.seqs) {
      if (!(s > prev)) throw new RangeError('seqs must be strictly ascending from 1');
      size += varintSize(s - prev);
      prev = s;
    }
    ids += r.seqs.length;
  }
  if (frame.runs.length > MAX_ACK_RUNS || ids > MAX_ACK_IDS) {
    throw new RangeError('too many runs or ids for one acknowledgement frame');
  }
  if (topicLen < 1 || topicLen > 255 || groupLen < 1 || groupLen > 255) {
    throw new RangeError('topic or group out of range');
  }
  const out = new Uint8Array(size);
  out[0] = FrameKind.GroupAck;
  let o = 1;
  out[o++] = topicLen;
  o = writeUtf8(frame.topic, out, o);
  out[o++] = groupLen;
  o = writeUtf8(frame.group, out, o);
  o = writeVarint(frame.runs.length, out, o);
  for (const r of frame.runs) {
    const len = utf8Length(r.origin);
    out[o++] = len >>> 8;
    out[o++] = len & 0xff;
    o = writeUtf8(r.origin, out, o);
    o = writeVarint(r.epoch, out, o);
    o = writeVarint(r.seqs.length, out, o);
    let prev = 0;
    for (const s of r.seqs) {
      o = writeVarint(s - prev, out, o);
      prev = s;
    }
  }
  return out;
}

/** Decode an acknowledgement frame (first byte included); null when it is malformed. */
export function decodeGroupAck(bytes: Uint8Array): GroupAckFrame | null {
  if (bytes[0] !== FrameKind.GroupAck) return null;
  const r = new ByteReader(bytes, 1);
  const topic = r.str8(255, 'topic');
  const group = r.str8(255, 'group');
  if (topic === undefined || group === undefined || topic === '' || group === '') return null;
  const n = r.count(MAX_ACK_RUNS, 5, 'runs');
  if (n < 1) return null;
  const runs: AckRun[] = [];
  let ids = 0;
  for (let i = 0; i < n; i++) {
    const origin = r.str16(1, MAX_ACK_ORIGIN_BYTES, 'origin');
    if (origin === undefined) return null;
    const epoch = r.varint('epoch');
    const k = r.count(MAX_ACK_IDS - ids, 1, 'ids');
    if (epoch < 0 || k < 1) return null;
    ids += k;
    const seqs: number[] = new Array<number>(k);
    let prev = 0;
    for (let j = 0; j < k; j++) {
      const d = r.varint('seq');
      if (d < 1 || !Number.isSafeInteger(prev + d)) return null;
      prev += d;
      seqs[j] = prev;
    }
    runs.push({ origin, epoch, seqs });
  }
  if (r.error !== undefined || r.pos !== bytes.length) return null;
  return { topic, group, runs };
}
