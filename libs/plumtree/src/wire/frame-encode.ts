/**
 * The encoding half of the frame codec (the format is described in frame-codec.ts): one pass
 * that measures and validates a message, one that writes it. Field names for errors are
 * templates ('entries[#].id') filled in only when throwing, so the measuring pass builds no
 * strings.
 */
import {
  FrameType,
  type GossipMessage,
  type GossipRunMessage,
  type MessageId,
  type PlumtreeMessage,
} from '../types.js';
import { utf8Length, varintSize, writeUtf8, writeVarint } from '@plumtree/common';
import { FrameEncodeError } from './frame-errors.js';
import { FRAME_CODEC_VERSION, MAX_FRAME_HOPS, MAX_STR8_BYTES } from './frame-limits.js';

const NO_KEYS: readonly string[] = [];

/** The header keys of a message in wire order: one list per GOSSIP, per run message for a run. */
export type WireKeys = readonly string[] | readonly (readonly string[])[];

/** GOSSIP header keys in wire order (sorted); one list per message of a run; empty otherwise. */
export function headerKeysOf(msg: PlumtreeMessage): WireKeys {
  if (msg.type === FrameType.Gossip) return sortedHeaderKeys(msg.headers);
  if (msg.type === FrameType.GossipRun) return msg.messages.map((m) => sortedHeaderKeys(m.headers));
  return NO_KEYS;
}

/** Header keys in wire order (sorted). */
export function sortedHeaderKeys(
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

/** The exact encoded size of `msg`; throws {@link FrameEncodeError} for what the format cannot hold. */
export function measure(msg: PlumtreeMessage, keys: WireKeys): number {
  const topic = str8Size(msg.topic, 'topic', -1);
  switch (msg.type) {
    case FrameType.Gossip: {
      checkHops(msg.hops, 'hops', -1);
      checkUint(msg.publishedAtMs, 0, 'publishedAtMs', -1);
      const size = 4 + topic + idSize(msg.id, 'id', -1) + varintSize(msg.publishedAtMs);
      return size + headersSize(msg.headers, keys as readonly string[]) + payloadSize(msg, -1);
    }
    case FrameType.IHave: {
      const entries = msg.entries;
      let size = 2 + topic + varintSize(entries.length);
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i]!;
        checkHops(e.hops, 'entries[#].hops', i);
        const count = e.count ?? 1;
        if (!isUint(count, 1) || !isUint(e.id.seq + count - 1, 1)) {
          fail('entries[#].count', i, `must be 1.. and end at most at seq 2^53-1 (got ${count})`);
        }
        size += idSize(e.id, 'entries[#].id', i) + varintSize(count) + varintSize(e.hops);
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
    case FrameType.GossipRun:
      return measureRun(msg, keys as readonly (readonly string[])[], topic);
    default:
      return fail('type', -1, `is not a frame type (${String((msg as { type: unknown }).type)})`);
  }
}

/** A GOSSIP_RUN: at least 2 messages of one topic, hops, origin and epoch, seqs increasing. */
function measureRun(
  msg: GossipRunMessage,
  keys: readonly (readonly string[])[],
  topic: number,
): number {
  checkHops(msg.hops, 'hops', -1);
  const ms = msg.messages;
  if (!Array.isArray(ms) || ms.length < 2) fail('messages', -1, 'must hold at least 2 messages');
  const first = ms[0]!;
  let size = 4 + topic + idSize(first.id, 'messages[#].id', 0) + varintSize(ms.length);
  size += varintSize(first.publishedAtMs);
  for (let i = 0; i < ms.length; i++) {
    const m = ms[i]!;
    if (m.type !== FrameType.Gossip || m.topic !== msg.topic || m.hops !== msg.hops) {
      fail('messages[#]', i, "is not a GOSSIP of the run's topic and hops");
    }
    checkUint(m.publishedAtMs, 0, 'messages[#].publishedAtMs', i);
    if (i > 0) {
      const prev = ms[i - 1]!;
      if (m.id.origin !== first.id.origin || m.id.epoch !== first.id.epoch) {
        fail('messages[#].id', i, "is not of the run's origin and epoch");
      }
      if (!isUint(m.id.seq, 1) || !(m.id.seq > prev.id.seq)) {
        fail('messages[#].id.seq', i, 'must be an integer above the previous seq');
      }
      const dt = zigzag(m.publishedAtMs - prev.publishedAtMs);
      if (!isUint(dt, 0)) fail('messages[#].publishedAtMs', i, 'is too far from the previous one');
      size += varintSize(m.id.seq - prev.id.seq) + varintSize(dt);
    }
    size += runHeadersSize(ms, i, keys) + payloadSize(m, i);
  }
  return size;
}

/** The header code of run message `i`: 0 none, 1 as the previous message, 2 + H for H entries. */
export function runHeadersCode(
  ms: readonly GossipMessage[],
  i: number,
  keys: readonly (readonly string[])[],
): number {
  const k = keys[i]!;
  if (k.length === 0) return 0;
  if (i > 0 && sameHeaders(ms[i - 1]!.headers, keys[i - 1]!, ms[i]!.headers, k)) return 1;
  return 2 + k.length;
}

function runHeadersSize(
  ms: readonly GossipMessage[],
  i: number,
  keys: readonly (readonly string[])[],
): number {
  const code = runHeadersCode(ms, i, keys);
  if (code < 2) return 1;
  return headersSize(ms[i]!.headers, keys[i]!) - varintSize(keys[i]!.length) + varintSize(code);
}

/** Whether two header sets (with their keys in wire order) hold the same entries. */
export function sameHeaders(
  a: Readonly<Record<string, string>> | undefined,
  aKeys: readonly string[],
  b: Readonly<Record<string, string>> | undefined,
  bKeys: readonly string[],
): boolean {
  if (a === b) return true;
  if (aKeys.length !== bKeys.length) return false;
  for (let j = 0; j < aKeys.length; j++) {
    const key = aKeys[j]!;
    if (key !== bKeys[j] || a![key] !== b![key]) return false;
  }
  return true;
}

function payloadSize(m: GossipMessage, at: number): number {
  const payload = m.payload;
  if (!(payload instanceof Uint8Array)) fail('payload', at, 'is not a Uint8Array');
  return varintSize(payload.length) + payload.length;
}

/** Zigzag: 0, -1, 1, -2, ... as 0, 1, 2, 3, ... (a time difference as a varint). */
export function zigzag(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1;
}

/** The header section: count, then key str8, value length varint and value, in `keys` order. */
export function headersSize(
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

/** Throws {@link FrameEncodeError} unless `v` is a hop count the format carries (0..65535). */
export function checkHops(v: number, field: string, at: number): void {
  if (!Number.isInteger(v) || v < 0 || v > MAX_FRAME_HOPS) {
    fail(field, at, `must be an integer in 0..${MAX_FRAME_HOPS} (got ${v})`);
  }
}

/** Write an already measured (hence valid) message; returns the end offset. */
export function write(msg: PlumtreeMessage, keys: WireKeys, out: Uint8Array, o: number): number {
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
      o = writeHeaderEntries(msg.headers, keys as readonly string[], out, o);
      return writePayload(msg.payload, out, o);
    }
    case FrameType.IHave: {
      o = writeStr8(msg.topic, out, o + 2);
      const entries = msg.entries;
      o = writeVarint(entries.length, out, o);
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i]!;
        o = writeId(e.id, out, o);
        o = writeVarint(e.count ?? 1, out, o);
        o = writeVarint(e.hops, out, o);
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
    case FrameType.GossipRun:
      return writeRun(msg, keys as readonly (readonly string[])[], out, o);
  }
}

function writeRun(
  msg: GossipRunMessage,
  keys: readonly (readonly string[])[],
  out: Uint8Array,
  o: number,
): number {
  out[o + 2] = msg.hops >>> 8;
  out[o + 3] = msg.hops & 0xff;
  const ms = msg.messages;
  const first = ms[0]!;
  o = writeStr8(msg.topic, out, o + 4);
  o = writeId(first.id, out, o);
  o = writeVarint(ms.length, out, o);
  o = writeVarint(first.publishedAtMs, out, o);
  for (let i = 0; i < ms.length; i++) {
    const m = ms[i]!;
    if (i > 0) {
      const prev = ms[i - 1]!;
      o = writeVarint(m.id.seq - prev.id.seq, out, o);
      o = writeVarint(zigzag(m.publishedAtMs - prev.publishedAtMs), out, o);
    }
    const code = runHeadersCode(ms, i, keys);
    o = writeVarint(code, out, o);
    if (code >= 2) o = writeHeaderEntries(m.headers, keys[i]!, out, o);
    o = writePayload(m.payload, out, o);
  }
  return o;
}

function writeHeaderEntries(
  headers: Readonly<Record<string, string>> | undefined,
  keys: readonly string[],
  out: Uint8Array,
  o: number,
): number {
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const value = headers![key]!;
    o = writeStr8(key, out, o);
    o = writeVarint(utf8Length(value), out, o);
    o = writeUtf8(value, out, o);
  }
  return o;
}

function writePayload(payload: Uint8Array, out: Uint8Array, o: number): number {
  o = writeVarint(payload.length, out, o);
  out.set(payload, o);
  return o + payload.length;
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
