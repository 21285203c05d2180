/**
 * Plumtree frame codec, version 1: one {@link PlumtreeMessage} per frame. The transport delimits
 * frames (length prefix on the stream); a frame's own fields end exactly at its last byte.
 *
 * Primitive encodings:
 * - `u8`, `u16be`: fixed-width unsigned integers (big-endian).
 * - `varint`: unsigned LEB128, 1..8 bytes, value at most 2^53 - 1 (the 8th byte is at most
 *   0x0f), minimal only (no trailing 0x00 group). Used for ids, times, counts and long lengths.
 * - `str8`: `u8` byte length L, then L bytes of well-formed UTF-8 (no lone surrogates; a BOM
 *   is data). Topic, origin and header keys: at most 255 bytes by construction.
 * - `id` (MessageId): `str8 origin`, `varint epoch` (0..2^53-1), `varint seq` (1..2^53-1).
 *
 * Every frame starts with the same two bytes; GOSSIP keeps `hops` at a fixed offset so a
 * forwarder can patch it in place ({@link patchGossipHops}) and send the received bytes on:
 *
 * | offset | size    | field                                                      |
 * |--------|---------|------------------------------------------------------------|
 * | 0      | 1       | codec version = 1                                          |
 * | 1      | 1       | frame type: 1 GOSSIP, 2 IHAVE, 3 GRAFT, 4 PRUNE            |
 *
 * GOSSIP (type 1):
 * | offset | size    | field                                                      |
 * |--------|---------|------------------------------------------------------------|
 * | 2      | 2       | hops, u16be (0..65535)                                     |
 * | 4      | 1 + T   | topic, str8                                                |
 * | .      | var     | id                                                         |
 * | .      | 1..8    | publishedAtMs, varint (ms since Unix epoch, 0 = unknown)   |
 * | .      | 1..8    | header count H, varint                                     |
 * | .      | H x     | key str8, value length varint, value UTF-8; keys strictly  |
 * |        |         | ascending in UTF-16 code unit order (JS `<`), so unique    |
 * | .      | 1..8    | payload length P, varint                                   |
 * | .      | P       | payload bytes (the last field)                             |
 *
 * IHAVE (type 2):
 * | 2      | 1 + T   | topic, str8                                                |
 * | .      | 1..8    | entry count N, varint                                      |
 * | .      | N x     | id, then hops varint (0..65535)                            |
 *
 * GRAFT (type 3):
 * | 2      | 1 + T   | topic, str8                                                |
 * | .      | 1..8    | id count N, varint (0 = pure link request)                 |
 * | .      | N x     | id                                                         |
 *
 * PRUNE (type 4):
 * | 2      | 1 + T   | topic, str8                                                |
 *
 * Canonical form: every message has exactly one encoding, and the decoder rejects all others
 * (non-minimal varints, unsorted or duplicate header keys, trailing bytes), so a decoded frame
 * re-encodes to the same bytes. An empty header set is encoded as H = 0 and decoded as an
 * absent `headers` property.
 *
 * Domains checked on decode besides the limits (FrameLimits): seq >= 1 and IHAVE hops <= 65535
 * ('out-of-range'); GOSSIP hops cannot exceed 65535 by construction.
 *
 * Overhead of a GOSSIP with topic T bytes, origin O bytes, no headers and a 1 KiB payload:
 * 4 + (1 + T) + (1 + O + epoch + seq) + 6 (publishedAtMs, current dates) + 1 + 2 bytes, e.g.
 * 53 bytes for topic "orders.created", a 17-byte node name, a millisecond epoch and seq < 128.
 */

import {
  FrameType,
  type GossipMessage,
  type GraftMessage,
  type IHaveMessage,
  type MessageId,
  type PlumtreeMessage,
} from '../types.js';
import { ByteReader, utf8Length, varintSize, writeUtf8, writeVarint } from '@plumtree/common';
import { FrameEncodeError, type FrameDecodeError, type FrameDecodeReason } from './frame-errors.js';
import {
  DEFAULT_FRAME_LIMITS,
  FRAME_CODEC_VERSION,
  GOSSIP_HOPS_OFFSET,
  MAX_FRAME_HOPS,
  MAX_STR8_BYTES,
  type FrameLimits,
} from './frame-limits.js';

/** The shared byte reader, recording frame decode reasons. */
type FrameReader = ByteReader<FrameDecodeReason>;

/** Outcome of {@link decodeFrame}: never an exception. */
export type DecodeResult =
  | { readonly ok: true; readonly message: PlumtreeMessage }
  | { readonly ok: false; readonly error: FrameDecodeError };

// Smallest encodings of repeated items, to reject a count the remaining bytes cannot hold before
// allocating anything for it.
const MIN_ID_BYTES = 3; // empty origin, 1-byte epoch, 1-byte seq
const MIN_IHAVE_ENTRY_BYTES = MIN_ID_BYTES + 1;
const MIN_HEADER_BYTES = 2; // empty key, empty value

const NO_KEYS: readonly string[] = [];

// ---------------------------------------------------------------------------------------------
// Encoding

/**
 * Encode `msg` into a new buffer of exactly its encoded size (measured first, allocated once).
 * The result is a `Uint8Array` that may share a pooled `ArrayBuffer` with other small buffers
 * (Node's `Buffer` pool): use its `byteOffset` and `length`, not `.buffer` alone.
 * Throws {@link FrameEncodeError} when `msg` breaks the format: a string over its byte cap or
 * holding a lone surrogate, hops outside 0..65535, an epoch, seq or publishedAtMs that is not a
 * safe integer in its range (seq starts at 1), an unknown type.
 */
export function encodeFrame(msg: PlumtreeMessage): Uint8Array {
  const keys = headerKeysOf(msg);
  const size = measure(msg, keys);
  // Node's pooled, uninitialised allocation: 3-5x cheaper than `new Uint8Array` for 1 KiB
  // frames. Safe only because `write` fills every byte, which the check below enforces.
  const pooled = Buffer.allocUnsafe(size);
  // A plain Uint8Array view, so `slice()` copies as callers expect (Buffer's does not).
  const out = new Uint8Array(pooled.buffer, pooled.byteOffset, size);
  const end = write(msg, keys, out, 0);
  if (end !== size) throw new FrameEncodeError('frame', `internal: measured ${size}, wrote ${end}`);
  return out;
}

/**
 * Encode `msg` into `target` at `offset` (e.g. straight into a batched write buffer after its
 * length prefix); returns the offset after the frame. Throws {@link FrameEncodeError} like
 * {@link encodeFrame}, and when the frame does not fit (nothing is written then).
 */
export function encodeFrameInto(msg: PlumtreeMessage, target: Uint8Array, offset: number): number {
  const keys = headerKeysOf(msg);
  const size = measure(msg, keys);
  if (!Number.isSafeInteger(offset) || offset < 0 || offset + size > target.length) {
    throw new FrameEncodeError(
      'target',
      `has no room for ${size} bytes at offset ${offset} (length ${target.length})`,
    );
  }
  return write(msg, keys, target, offset);
}

/** The exact byte length {@link encodeFrame} would produce; validates like it. */
export function encodedFrameSize(msg: PlumtreeMessage): number {
  return measure(msg, headerKeysOf(msg));
}

/**
 * The encoded size of a GOSSIP's header section (the count and every entry), validated as
 * {@link encodeFrame} validates it: throws {@link FrameEncodeError} for a value that is not a
 * string, a key over 255 UTF-8 bytes, a lone surrogate in a key or value. The encoder measures
 * headers with it; a publisher checks application headers with it before building a frame. The
 * policy caps (`maxHeaders`, `maxHeaderBytes` in {@link FrameLimits}) are the decoder's.
 */
export function encodedHeadersSize(headers: Readonly<Record<string, string>> | undefined): number {
  return headersSize(headers, sortedHeaderKeys(headers));
}

/** GOSSIP header keys in wire order (sorted); empty for other types. */
function headerKeysOf(msg: PlumtreeMessage): readonly string[] {
  return msg.type === FrameType.Gossip ? sortedHeaderKeys(msg.headers) : NO_KEYS;
}

/** Header keys in wire order (sorted). */
function sortedHeaderKeys(
  headers: Readonly<Record<string, string>> | undefined,
): readonly string[] {
  if (headers === undefined || headers === null) return NO_KEYS;
  const keys = Object.keys(headers);
  for (let i = 1; i < keys.length; i++) {
    // Default sort order is UTF-16 code units, the same order the decoder checks with `<`.
    if (keys[i - 1]! > keys[i]!) return keys.sort();
  }
  return keys;
}

// Field names for errors are templates ('entries[#].id') filled in only when throwing, so the
// measuring pass builds no strings.
function measure(msg: PlumtreeMessage, keys: readonly string[]): number {
  const topic = str8Size(msg.topic, 'topic', -1);
  switch (msg.type) {
    case FrameType.Gossip: {
      checkHops(msg.hops, 'hops', -1);
      checkUint(msg.publishedAtMs, 0, 'publishedAtMs', -1);
      let size = 4 + topic + idSize(msg.id, 'id', -1) + varintSize(msg.publishedAtMs);
      size += headersSize(msg.headers, keys);
      const payload = msg.payload;
      if (!(payload instanceof Uint8Array)) fail('payload', -1, 'is not a Uint8Array');
      return size + varintSize(payload.length) + payload.length;
    }
    case FrameType.IHave: {
      const entries = msg.entries;
      let size = 2 + topic + varintSize(entries.length);
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i]!;
        checkHops(e.hops, 'entries[#].hops', i);
        size += idSize(e.id, 'entries[#].id', i) + varintSize(e.hops);
      }
      return size;
    }
    case FrameType.Graft: {
      const ids = msg.ids;
      let size = 2 + topic + varintSize(ids.length);
      for (let i = 0; i < ids.length; i++) size += idSize(ids[i]!, 'ids[#]', i);
      return size;
    }
    case FrameType.Prune:
      return 2 + topic;
    default:
      return fail('type', -1, `is not a frame type (${String((msg as { type: unknown }).type)})`);
  }
}

/** The header section: count, then key str8, value length varint and value, in `keys` order. */
function headersSize(
  headers: Readonly<Record<string, string>> | undefined,
  keys: readonly string[],
): number {
  let size = varintSize(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const value = headers![key];
    if (typeof value !== 'string') fail('headers[#]', key, 'is not a string');
    const v = utf8Length(value);
    if (v < 0) fail('headers[#]', key, 'holds a lone surrogate');
    size += str8Size(key, 'headers[#] key', key) + varintSize(v) + v;
  }
  return size;
}

/**
 * Throw a FrameEncodeError for `field` + `suffix`, the `#` in `field` replaced by `at` (an index
 * or a header key; -1 for none).
 */
function fail(field: string, at: number | string, problem: string, suffix = ''): never {
  const name =
    typeof at === 'string'
      ? field.replace('#', JSON.stringify(at))
      : at < 0
        ? field
        : field.replace('#', String(at));
  throw new FrameEncodeError(name + suffix, problem);
}

function str8Size(s: string, field: string, at: number | string, suffix = ''): number {
  if (typeof s !== 'string') fail(field, at, 'is not a string', suffix);
  const n = utf8Length(s);
  if (n < 0) fail(field, at, 'holds a lone surrogate', suffix);
  if (n > MAX_STR8_BYTES) fail(field, at, `is ${n} UTF-8 bytes, above ${MAX_STR8_BYTES}`, suffix);
  return 1 + n;
}

function idSize(id: MessageId, field: string, at: number): number {
  if (!isUint(id.epoch, 0)) fail(field, at, uintProblem(id.epoch, 0), '.epoch');
  if (!isUint(id.seq, 1)) fail(field, at, uintProblem(id.seq, 1), '.seq');
  return str8Size(id.origin, field, at, '.origin') + varintSize(id.epoch) + varintSize(id.seq);
}

function isUint(v: number, min: number): boolean {
  return Number.isSafeInteger(v) && v >= min;
}

function uintProblem(v: number, min: number): string {
  return `must be an integer in ${min}..2^53-1 (got ${String(v)})`;
}

function checkUint(v: number, min: number, field: string, at: number): void {
  if (!isUint(v, min)) fail(field, at, uintProblem(v, min));
}

function checkHops(v: number, field: string, at: number): void {
  if (!Number.isInteger(v) || v < 0 || v > MAX_FRAME_HOPS) {
    fail(field, at, `must be an integer in 0..${MAX_FRAME_HOPS} (got ${v})`);
  }
}

/** Write an already measured (hence valid) message; returns the end offset. */
function write(msg: PlumtreeMessage, keys: readonly string[], out: Uint8Array, o: number): number {
  out[o] = FRAME_CODEC_VERSION;
  out[o + 1] = msg.type;
  switch (msg.type) {
    case FrameType.Gossip: {
      out[o + 2] = msg.hops >>> 8;
      out[o + 3] = msg.hops & 0xff;
      o = writeStr8(msg.topic, out, o + 4);
      o = writeId(msg.id, out, o);
      o = writeVarint(msg.publishedAtMs, out, o);
      o = writeVarint(keys.length, out, o);
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        const value = msg.headers![key]!;
        o = writeStr8(key, out, o);
        o = writeVarint(utf8Length(value), out, o);
        o = writeUtf8(value, out, o);
      }
      const payload = msg.payload;
      o = writeVarint(payload.length, out, o);
      out.set(payload, o);
      return o + payload.length;
    }
    case FrameType.IHave: {
      o = writeStr8(msg.topic, out, o + 2);
      const entries = msg.entries;
      o = writeVarint(entries.length, out, o);
      for (let i = 0; i < entries.length; i++) {
        o = writeId(entries[i]!.id, out, o);
        o = writeVarint(entries[i]!.hops, out, o);
      }
      return o;
    }
    case FrameType.Graft: {
      o = writeStr8(msg.topic, out, o + 2);
      const ids = msg.ids;
      o = writeVarint(ids.length, out, o);
      for (let i = 0; i < ids.length; i++) o = writeId(ids[i]!, out, o);
      return o;
    }
    case FrameType.Prune:
      return writeStr8(msg.topic, out, o + 2);
  }
}

function writeStr8(s: string, out: Uint8Array, o: number): number {
  // The string's byte length is only known once written; the u8 prefix is fixed-size anyway.
  const end = writeUtf8(s, out, o + 1);
  out[o] = end - o - 1;
  return end;
}

function writeId(id: MessageId, out: Uint8Array, o: number): number {
  o = writeStr8(id.origin, out, o);
  o = writeVarint(id.epoch, out, o);
  return writeVarint(id.seq, out, o);
}

// ---------------------------------------------------------------------------------------------
// Hop patching and peeking (for forwarders and routing; no full decode)

/**
 * Set the hop count of an encoded GOSSIP frame in place (bytes 2..3), so a forwarder sends the
 * bytes it received instead of re-encoding. Note that a payload decoded from this frame is a
 * view of the same memory; the patch does not touch it. Throws {@link FrameEncodeError} when
 * `frame` is not a version-1 GOSSIP frame or `hops` is outside 0..65535 (both programmer
 * errors: only frames that decoded successfully should be forwarded).
 */
export function patchGossipHops(frame: Uint8Array, hops: number): void {
  checkHops(hops, 'hops', -1);
  if (readGossipHops(frame) === undefined) {
    throw new FrameEncodeError('frame', 'is not a version-1 GOSSIP frame');
  }
  frame[GOSSIP_HOPS_OFFSET] = hops >>> 8;
  frame[GOSSIP_HOPS_OFFSET + 1] = hops & 0xff;
}

/**
 * The hop count of a version-1 GOSSIP frame, read from its fixed offset without decoding the
 * rest; undefined when `frame` is too short or not such a frame. Never throws.
 */
export function readGossipHops(frame: Uint8Array): number | undefined {
  if (
    frame.length < GOSSIP_HOPS_OFFSET + 2 ||
    frame[0] !== FRAME_CODEC_VERSION ||
    frame[1] !== FrameType.Gossip
  ) {
    return undefined;
  }
  return (frame[GOSSIP_HOPS_OFFSET]! << 8) | frame[GOSSIP_HOPS_OFFSET + 1]!;
}

/** The frame type of a version-1 frame, or undefined (short, other version, unknown type). */
export function peekFrameType(bytes: Uint8Array): FrameType | undefined {
  if (bytes.length < 2 || bytes[0] !== FRAME_CODEC_VERSION) return undefined;
  const t = bytes[1]!;
  return t >= FrameType.Gossip && t <= FrameType.Prune ? (t as FrameType) : undefined;
}

/**
 * The topic of a version-1 frame without decoding the rest (to route before a full decode);
 * undefined when the header or the topic is malformed. The rest of the frame is not validated:
 * a frame with a readable topic may still fail {@link decodeFrame}. Never throws.
 */
export function peekTopic(bytes: Uint8Array): string | undefined {
  const type = peekFrameType(bytes);
  if (type === undefined) return undefined;
  const r: FrameReader = new ByteReader(
    bytes,
    type === FrameType.Gossip ? GOSSIP_HOPS_OFFSET + 2 : 2,
  );
  return r.str8(MAX_STR8_BYTES, 'topic');
}

// ---------------------------------------------------------------------------------------------
// Decoding

/**
 * Decode one frame from the network. Never throws and never allocates more than the input's
 * length implies: every length and count is checked against the remaining bytes (and against
 * `limits`, merged over {@link DEFAULT_FRAME_LIMITS}) before anything is sliced or allocated.
 * `limits` is trusted configuration (validate it once with `resolveFrameLimits`); whatever it
 * holds, the decoder still never reads past or allocates beyond the input.
 * Only the canonical encoding is accepted, so a successful decode re-encodes to `bytes` exactly.
 *
 * A GOSSIP's `payload` is a zero-copy `subarray` of `bytes`: it shares their memory, so copy it
 * if `bytes` (e.g. a pooled read buffer) will be reused. Strings are copied out.
 */
export function decodeFrame(bytes: Uint8Array, limits?: Partial<FrameLimits>): DecodeResult {
  const l = limits === undefined ? DEFAULT_FRAME_LIMITS : withDefaults(limits);
  if (bytes.length > l.maxFrameBytes) return failure('too-large', 0, 'frame');
  if (bytes.length < 1) return failure('truncated', 0, 'version');
  if (bytes[0] !== FRAME_CODEC_VERSION) return failure('unknown-version', 0, 'version');
  if (bytes.length < 2) return failure('truncated', 1, 'type');
  const r: FrameReader = new ByteReader(bytes, 2);
  let message: PlumtreeMessage | undefined;
  switch (bytes[1]) {
    case FrameType.Gossip:
      message = readGossip(r, l);
      break;
    case FrameType.IHave:
      message = readIHave(r, l);
      break;
    case FrameType.Graft:
      message = readGraft(r, l);
      break;
    case FrameType.Prune: {
      const topic = readTopic(r, l);
      if (topic !== undefined) message = { type: FrameType.Prune, topic };
      break;
    }
    default:
      return failure('unknown-type', 1, 'type');
  }
  if (message === undefined) return { ok: false, error: r.error! };
  if (r.pos !== bytes.length) return failure('trailing-bytes', r.pos, 'end of frame');
  return { ok: true, message };
}

/** Field by field, so an explicit `undefined` in `limits` falls back to the default too. */
function withDefaults(limits: Partial<FrameLimits>): FrameLimits {
  const d = DEFAULT_FRAME_LIMITS;
  return {
    maxFrameBytes: limits.maxFrameBytes ?? d.maxFrameBytes,
    maxPayloadBytes: limits.maxPayloadBytes ?? d.maxPayloadBytes,
    maxTopicBytes: limits.maxTopicBytes ?? d.maxTopicBytes,
    maxHeaders: limits.maxHeaders ?? d.maxHeaders,
    maxHeaderBytes: limits.maxHeaderBytes ?? d.maxHeaderBytes,
    maxIHaveEntries: limits.maxIHaveEntries ?? d.maxIHaveEntries,
    maxGraftIds: limits.maxGraftIds ?? d.maxGraftIds,
  };
}

function failure(reason: FrameDecodeReason, offset: number, detail: string): DecodeResult {
  return { ok: false, error: { reason, offset, detail } };
}

function readTopic(r: FrameReader, l: FrameLimits): string | undefined {
  return r.str8(Math.min(l.maxTopicBytes, MAX_STR8_BYTES), 'topic');
}

function readId(r: FrameReader): MessageId | undefined {
  const origin = r.str8(MAX_STR8_BYTES, 'id.origin');
  if (origin === undefined) return undefined;
  const epoch = r.varint('id.epoch');
  if (epoch < 0) return undefined;
  const at = r.pos;
  const seq = r.varint('id.seq');
  if (seq < 0) return undefined;
  if (seq === 0) {
    r.fail('out-of-range', at, 'id.seq');
    return undefined;
  }
  return { origin, epoch, seq };
}

function readGossip(r: FrameReader, l: FrameLimits): GossipMessage | undefined {
  const hops = r.u16('hops');
  if (hops < 0) return undefined;
  const topic = readTopic(r, l);
  if (topic === undefined) return undefined;
  const id = readId(r);
  if (id === undefined) return undefined;
  const publishedAtMs = r.varint('publishedAtMs');
  if (publishedAtMs < 0) return undefined;

  const count = r.count(l.maxHeaders, MIN_HEADER_BYTES, 'header count');
  if (count < 0) return undefined;
  let headers: Record<string, string> | undefined;
  if (count > 0) {
    headers = {};
    let headerBytes = 0;
    let prev = '';
    for (let i = 0; i < count; i++) {
      const at = r.pos;
      const key = r.str8(MAX_STR8_BYTES, 'header key');
      if (key === undefined) return undefined;
      if (i > 0 && !(prev < key)) {
        r.fail('non-canonical', at, 'header key order');
        return undefined;
      }
      const lenAt = r.pos;
      const len = r.varint('header value length');
      if (len < 0) return undefined;
      headerBytes += lenAt - at - 1 + len; // key bytes + value bytes
      if (headerBytes > l.maxHeaderBytes) {
        r.fail('limit-exceeded', at, 'header bytes');
        return undefined;
      }
      const value = r.utf8(len, 'header value', lenAt);
      if (value === undefined) return undefined;
      if (key === '__proto__') {
        // Plain assignment would set the prototype (and drop the header) instead.
        Object.defineProperty(headers, key, {
          value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else {
        headers[key] = value;
      }
      prev = key;
    }
  }

  const lenAt = r.pos;
  const len = r.varint('payload length');
  if (len < 0) return undefined;
  if (len > l.maxPayloadBytes) {
    r.fail('limit-exceeded', lenAt, 'payload length');
    return undefined;
  }
  const payload = r.view(len, 'payload', lenAt);
  if (payload === undefined) return undefined;
  return headers === undefined
    ? { type: FrameType.Gossip, topic, id, hops, publishedAtMs, payload }
    : { type: FrameType.Gossip, topic, id, hops, publishedAtMs, headers, payload };
}

function readIHave(r: FrameReader, l: FrameLimits): IHaveMessage | undefined {
  const list = readTopicList(r, l, l.maxIHaveEntries, MIN_IHAVE_ENTRY_BYTES, 'entry count', () => {
    const id = readId(r);
    if (id === undefined) return undefined;
    const at = r.pos;
    const hops = r.varint('entry hops');
    if (hops < 0) return undefined;
    if (hops > MAX_FRAME_HOPS) {
      r.fail('out-of-range', at, 'entry hops');
      return undefined;
    }
    return { id, hops };
  });
  return list && { type: FrameType.IHave, topic: list.topic, entries: list.items };
}

function readGraft(r: FrameReader, l: FrameLimits): GraftMessage | undefined {
  const list = readTopicList(r, l, l.maxGraftIds, MIN_ID_BYTES, 'id count', () => readId(r));
  return list && { type: FrameType.Graft, topic: list.topic, ids: list.items };
}

/** A topic, then a count (at most `max`) and that many items; undefined when any part fails. */
function readTopicList<T>(
  r: FrameReader,
  l: FrameLimits,
  max: number,
  minItemBytes: number,
  countDetail: string,
  readItem: () => T | undefined,
): { topic: string; items: T[] } | undefined {
  const topic = readTopic(r, l);
  if (topic === undefined) return undefined;
  const count = r.count(max, minItemBytes, countDetail);
  if (count < 0) return undefined;
  const items: T[] = [];
  for (let i = 0; i < count; i++) {
    const item = readItem();
    if (item === undefined) return undefined;
    items.push(item);
  }
  return { topic, items };
}
