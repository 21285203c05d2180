/**
 * Catch-up frames of durable topics: a node sends its per-stream high-water marks to a peer of
 * the topic (request, 0x83) and gets back one page of the records it lacks (response, 0x84).
 * They travel on the frame transport beside the other kinds of frame, told apart by their first
 * byte (see frame-kinds.ts).
 *
 * Integers are big-endian. `u64` fields hold safe integers (at most 2^53 - 1); the decoder
 * rejects larger ones. Strings are a length then strict UTF-8.
 *
 * Request:
 *
 * | offset | size | field                                                              |
 * |--------|------|--------------------------------------------------------------------|
 * | 0      | 1    | {@link CATCHUP_REQUEST_KIND} (0x83)                                 |
 * | 1      | 4    | request id, u32 (the requester's counter)                          |
 * | 5      | 2    | topic length T, u16 (1..{@link CATCHUP_MAX_TOPIC_BYTES})             |
 * | 7      | T    | topic                                                              |
 * | 7+T    | 4    | maxMessages, u32: the most records the requester wants in the page |
 * | 11+T   | 4    | maxBytes, u32: about the most record bytes it wants in the page    |
 * | 15+T   | 4    | mark count N, u32 (at most {@link CATCHUP_MAX_MARKS})                |
 * | 19+T   | ...  | N marks: u16 origin length O (1..{@link CATCHUP_MAX_ORIGIN_BYTES}), origin, u64 epoch, u64 hwm |
 *
 * Response:
 *
 * | offset | size | field                                                              |
 * |--------|------|--------------------------------------------------------------------|
 * | 0      | 1    | {@link CATCHUP_RESPONSE_KIND} (0x84)                                |
 * | 1      | 4    | request id, u32 (copied from the request)                          |
 * | 5      | 1    | status, a {@link CatchupStatus}                                     |
 * | 6      | 1    | flags: bit 0 = more (records are still missing); other bits 0     |
 * | 7      | 2    | topic length T, u16                                                |
 * | 9      | T    | topic                                                              |
 * | 9+T    | 4    | record count N, u32 (at most {@link CATCHUP_MAX_RECORDS}; 0 unless status Ok) |
 * | 13+T   | ...  | N records, below                                                   |
 *
 * Record: u16 origin length O, origin, u64 epoch, u64 seq (at least 1), u64 publishedAtMs,
 * u16 header count H ({@link CATCHUP_NO_HEADERS} = 0xffff for "no headers", else at most
 * {@link CATCHUP_MAX_HEADERS}), H x (u16 key length, key, u16 value length, value), u32 payload
 * length P, P payload bytes.
 *
 * The decoder never throws and allocates nothing the input could not hold: every count is capped
 * and every length is checked against the bytes left before it is used; trailing bytes, repeated
 * header keys and a non-Ok response with records or `more` are rejected. Payloads are views of
 * the received frame.
 */
import { ByteReader, ByteWriter } from '@plumtree/common';
import type { DurableRecord, DurableRequestMark } from './durable-log.js';
import { FrameKind } from '../frame-kinds.js';

/** First byte of a catch-up request (`FrameKind.CatchupRequest`). */
export const CATCHUP_REQUEST_KIND = FrameKind.CatchupRequest;
/** First byte of a catch-up response (`FrameKind.CatchupResponse`). */
export const CATCHUP_RESPONSE_KIND = FrameKind.CatchupResponse;
/** Longest topic, in UTF-8 bytes. */
export const CATCHUP_MAX_TOPIC_BYTES = 1024;
/** Longest origin (node name), in UTF-8 bytes. */
export const CATCHUP_MAX_ORIGIN_BYTES = 1024;
/** Most marks (streams) in one request. */
export const CATCHUP_MAX_MARKS = 16_384;
/** Most records in one response. */
export const CATCHUP_MAX_RECORDS = 65_536;
/** Most headers on one record. */
export const CATCHUP_MAX_HEADERS = 1024;
/** Header count meaning "headers undefined" (as opposed to an empty set). */
export const CATCHUP_NO_HEADERS = 0xffff;

/** What a response says about its request. */
export enum CatchupStatus {
  /** The records follow (possibly none). */
  Ok = 0,
  /** The peer does not keep a durable log of the topic: ask another. */
  NotDurable = 1,
  /** The peer failed to read its log: ask another. */
  Error = 2,
}

/** A decoded or to-be-encoded catch-up request. */
export interface CatchupRequest {
  readonly kind: typeof CATCHUP_REQUEST_KIND;
  readonly requestId: number;
  readonly topic: string;
  readonly marks: readonly DurableRequestMark[];
  readonly maxMessages: number;
  readonly maxBytes: number;
}

/** A decoded or to-be-encoded catch-up response. */
export interface CatchupResponse {
  readonly kind: typeof CATCHUP_RESPONSE_KIND;
  readonly requestId: number;
  readonly topic: string;
  readonly status: CatchupStatus;
  readonly more: boolean;
  readonly records: readonly DurableRecord[];
}

/** Bytes of a request or response before its marks or records (topic length T added). */
export function catchupHeaderBytes(topic: string): number {
  return 19 + Buffer.byteLength(topic, 'utf8');
}

/** Bytes one mark takes in a request. */
export function catchupMarkBytes(mark: DurableRequestMark): number {
  return 2 + Buffer.byteLength(mark.origin, 'utf8') + 16;
}

/** Bytes one record takes in a response: what pages are sized with. */
export function catchupRecordBytes(r: DurableRecord): number {
  let n = 2 + Buffer.byteLength(r.origin, 'utf8') + 24 + 2 + 4 + r.payload.length;
  if (r.headers !== undefined) {
    for (const [k, v] of Object.entries(r.headers)) {
      n += 4 + Buffer.byteLength(k, 'utf8') + Buffer.byteLength(v, 'utf8');
    }
  }
  return n;
}

/** A stream's id, (origin, epoch): how every mark and every record starts. */
function writeStream(
  w: { str16(s: string): void; u64(v: number): void },
  s: { readonly origin: string; readonly epoch: number },
): void {
  w.str16(s.origin);
  w.u64(s.epoch);
}

function checkString(what: string, s: string, max: number, min = 1): void {
  const n = Buffer.byteLength(s, 'utf8');
  if (n < min || n > max) throw new RangeError(`${what} of ${n} bytes is outside ${min}..${max}`);
}

function checkSafe(what: string, v: number, min = 0): void {
  if (!Number.isSafeInteger(v) || v < min) {
    throw new RangeError(`${what} ${v} is not a safe integer >= ${min}`);
  }
}

function checkU32(what: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw new RangeError(`${what} ${v} is not a u32`);
  }
}

/**
 * Encode a request. Throws `RangeError` on a value outside the layout's caps (a programmer
 * error: the replicator never builds one).
 */
export function encodeCatchupRequest(r: Omit<CatchupRequest, 'kind'>): Uint8Array {
  checkU32('request id', r.requestId);
  checkString('topic', r.topic, CATCHUP_MAX_TOPIC_BYTES);
  checkU32('maxMessages', r.maxMessages);
  checkU32('maxBytes', r.maxBytes);
  if (r.marks.length > CATCHUP_MAX_MARKS) {
    throw new RangeError(`${r.marks.length} marks exceed ${CATCHUP_MAX_MARKS}`);
  }
  let size = catchupHeaderBytes(r.topic);
  for (const m of r.marks) {
    checkString('origin', m.origin, CATCHUP_MAX_ORIGIN_BYTES);
    checkSafe('epoch', m.epoch);
    checkSafe('hwm', m.hwm);
    size += catchupMarkBytes(m);
  }
  const w = new ByteWriter(size);
  w.u8(CATCHUP_REQUEST_KIND);
  w.u32(r.requestId);
  w.str16(r.topic);
  w.u32(r.maxMessages);
  w.u32(r.maxBytes);
  w.u32(r.marks.length);
  for (const m of r.marks) {
    writeStream(w, m);
    w.u64(m.hwm);
  }
  return w.done();
}

/**
 * Encode a response. Throws `RangeError` on a value outside the layout's caps, and on records
 * or `more` with a status other than Ok.
 */
export function encodeCatchupResponse(r: Omit<CatchupResponse, 'kind'>): Uint8Array {
  checkU32('request id', r.requestId);
  checkString('topic', r.topic, CATCHUP_MAX_TOPIC_BYTES);
  if (r.status !== CatchupStatus.Ok && (r.records.length > 0 || r.more)) {
    throw new RangeError('only an Ok response carries records or more');
  }
  if (r.records.length > CATCHUP_MAX_RECORDS) {
    throw new RangeError(`${r.records.length} records exceed ${CATCHUP_MAX_RECORDS}`);
  }
  let size = catchupHeaderBytes(r.topic) - 6;
  for (const rec of r.records) {
    checkString('origin', rec.origin, CATCHUP_MAX_ORIGIN_BYTES);
    checkSafe('epoch', rec.epoch);
    checkSafe('seq', rec.seq, 1);
    checkSafe('publishedAtMs', rec.publishedAtMs);
    if (rec.headers !== undefined) {
      const entries = Object.entries(rec.headers);
      if (entries.length > CATCHUP_MAX_HEADERS) {
        throw new RangeError(`${entries.length} headers exceed ${CATCHUP_MAX_HEADERS}`);
      }
      for (const [k, v] of entries) {
        checkString('header key', k, 0xffff, 0);
        checkString('header value', v, 0xffff, 0);
      }
    }
    checkU32('payload length', rec.payload.length);
    size += catchupRecordBytes(rec);
  }
  const w = new ByteWriter(size);
  w.u8(CATCHUP_RESPONSE_KIND);
  w.u32(r.requestId);
  w.u8(r.status);
  w.u8(r.more ? 1 : 0);
  w.str16(r.topic);
  w.u32(r.records.length);
  for (const rec of r.records) {
    writeStream(w, rec);
    w.u64(rec.seq);
    w.u64(rec.publishedAtMs);
    if (rec.headers === undefined) {
      w.u16(CATCHUP_NO_HEADERS);
    } else {
      const entries = Object.entries(rec.headers);
      w.u16(entries.length);
      for (const [k, v] of entries) {
        w.str16(k);
        w.str16(v);
      }
    }
    w.u32(rec.payload.length);
    w.bytes(rec.payload);
  }
  return w.done();
}

// Smallest encodings, so a count can be checked against the bytes left before looping.
const MIN_MARK_BYTES = 2 + 1 + 16;
const MIN_RECORD_BYTES = 2 + 1 + 24 + 2 + 4;

function decodeRequest(rd: ByteReader): CatchupRequest | null {
  const requestId = rd.u32('request id');
  const topic = rd.str16(1, CATCHUP_MAX_TOPIC_BYTES, 'topic');
  const maxMessages = rd.u32('maxMessages');
  const maxBytes = rd.u32('maxBytes');
  const count = rd.u32('mark count');
  if (topic === undefined || rd.error !== undefined) return null;
  if (count > CATCHUP_MAX_MARKS || count * MIN_MARK_BYTES > rd.remaining) return null;
  const marks: DurableRequestMark[] = [];
  for (let i = 0; i < count; i++) {
    const origin = rd.str16(1, CATCHUP_MAX_ORIGIN_BYTES, 'origin');
    const epoch = rd.u64('epoch');
    const hwm = rd.u64('hwm');
    if (origin === undefined || rd.error !== undefined) return null;
    marks.push({ origin, epoch, hwm });
  }
  if (rd.remaining !== 0) return null;
  return { kind: CATCHUP_REQUEST_KIND, requestId, topic, marks, maxMessages, maxBytes };
}

function decodeRecord(rd: ByteReader): DurableRecord | null {
  const origin = rd.str16(1, CATCHUP_MAX_ORIGIN_BYTES, 'origin');
  const epoch = rd.u64('epoch');
  const seq = rd.u64('seq');
  const publishedAtMs = rd.u64('publishedAtMs');
  const headerCount = rd.u16('header count');
  if (origin === undefined || rd.error !== undefined || seq < 1) return null;
  let headers: Record<string, string> | undefined;
  if (headerCount !== CATCHUP_NO_HEADERS) {
    if (headerCount > CATCHUP_MAX_HEADERS || headerCount * 4 > rd.remaining) return null;
    const entries: [string, string][] = [];
    const keys = new Set<string>();
    for (let i = 0; i < headerCount; i++) {
      const k = rd.str16(0, 0xffff, 'header key');
      const v = rd.str16(0, 0xffff, 'header value');
      if (k === undefined || v === undefined || keys.has(k)) return null;
      keys.add(k);
      entries.push([k, v]);
    }
    // fromEntries defines own properties, so a "__proto__" key stays a plain header.
    headers = Object.fromEntries(entries);
  }
  const payloadLength = rd.u32('payload length');
  const payload = payloadLength < 0 ? undefined : rd.view(payloadLength, 'payload', rd.pos - 4);
  if (payload === undefined) return null;
  return { origin, epoch, seq, publishedAtMs, headers, payload };
}

function decodeResponse(rd: ByteReader): CatchupResponse | null {
  const requestId = rd.u32('request id');
  const status = rd.u8('status');
  const flags = rd.u8('flags');
  const topic = rd.str16(1, CATCHUP_MAX_TOPIC_BYTES, 'topic');
  const count = rd.u32('record count');
  if (topic === undefined || rd.error !== undefined) return null;
  if (
    status !== CatchupStatus.Ok &&
    status !== CatchupStatus.NotDurable &&
    status !== CatchupStatus.Error
  ) {
    return null;
  }
  if ((flags & ~1) !== 0) return null;
  const more = flags === 1;
  if (count > CATCHUP_MAX_RECORDS || count * MIN_RECORD_BYTES > rd.remaining) return null;
  if (status !== CatchupStatus.Ok && (count > 0 || more)) return null;
  const records: DurableRecord[] = [];
  for (let i = 0; i < count; i++) {
    const r = decodeRecord(rd);
    if (r === null) return null;
    records.push(r);
  }
  if (rd.remaining !== 0) return null;
  return { kind: CATCHUP_RESPONSE_KIND, requestId, topic, status, more, records };
}

/** Decode a catch-up request or response; null for anything malformed (never throws). */
export function decodeCatchupFrame(bytes: Uint8Array): CatchupRequest | CatchupResponse | null {
  if (bytes.length < 1) return null;
  const rd = new ByteReader(bytes, 1);
  const kind = bytes[0];
  if (kind === CATCHUP_REQUEST_KIND) return decodeRequest(rd);
  if (kind === CATCHUP_RESPONSE_KIND) return decodeResponse(rd);
  return null;
}
