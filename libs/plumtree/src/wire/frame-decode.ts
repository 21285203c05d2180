/**
 * The decoding half of the frame codec (the format is described in frame-codec.ts). Never
 * throws and never allocates more than the input's length implies: every length and count is
 * checked against the remaining bytes and the limits before anything is sliced or allocated.
 */
import {
  FrameType,
  type GossipMessage,
  type GossipRunMessage,
  type GraftMessage,
  type IHaveEntry,
  type IHaveMessage,
  type MessageId,
  type PlumtreeMessage,
} from '../types.js';
import { ByteReader } from '@plumtree/common';
import type { FrameDecodeError, FrameDecodeReason } from './frame-errors.js';
import {
  DEFAULT_FRAME_LIMITS,
  FRAME_CODEC_VERSION,
  MAX_FRAME_HOPS,
  MAX_STR8_BYTES,
  type FrameLimits,
} from './frame-limits.js';

/** The shared byte reader, recording frame decode reasons. */
export type FrameReader = ByteReader<FrameDecodeReason>;

/** Outcome of {@link decodeFrame}: never an exception. */
export type DecodeResult =
  | { readonly ok: true; readonly message: PlumtreeMessage }
  | { readonly ok: false; readonly error: FrameDecodeError };

// Smallest encodings of repeated items, to reject a count the remaining bytes cannot hold before
// allocating anything for it.
const MIN_ID_BYTES = 3; // empty origin, 1-byte epoch, 1-byte seq
const MIN_IHAVE_ENTRY_BYTES = MIN_ID_BYTES + 2; // and a count, hops
const MIN_HEADER_BYTES = 2; // empty key, empty value
const MIN_RUN_MESSAGE_BYTES = 2; // header code, empty payload (the first's seq is in the id)
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

type Headers = Readonly<Record<string, string>>;

/**
 * Decode one frame from the network. Never throws and never allocates more than the input's
 * length implies: every length and count is checked against the remaining bytes (and against
 * `limits`, merged over {@link DEFAULT_FRAME_LIMITS}) before anything is sliced or allocated.
 * `limits` is trusted configuration (validate it once with `resolveFrameLimits`); whatever it
 * holds, the decoder still never reads past or allocates beyond the input.
 * Only the canonical encoding is accepted, so a successful decode re-encodes to `bytes` exactly.
 *
 * A GOSSIP's `payload` is a zero-copy `subarray` of `bytes`: it shares their memory, so copy it
 * if `bytes` (e.g. a pooled read buffer) will be reused. Strings are copied out. The messages of
 * a GOSSIP_RUN that repeat the previous message's headers share its headers object.
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
    case FrameType.GossipRun:
      message = readRun(r, l);
      break;
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
    maxIHaveIds: limits.maxIHaveIds ?? d.maxIHaveIds,
    maxGraftIds: limits.maxGraftIds ?? d.maxGraftIds,
    maxRunMessages: limits.maxRunMessages ?? d.maxRunMessages,
  };
}

function failure(reason: FrameDecodeReason, offset: number, detail: string): DecodeResult {
  return { ok: false, error: { reason, offset, detail } };
}

/** The topic of a frame whose reader stands at its topic field. */
export function readTopic(r: FrameReader, l: FrameLimits): string | undefined {
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

/** A header section of `count` entries (the count already read), or undefined. */
function readHeaderEntries(r: FrameReader, l: FrameLimits, count: number): Headers | undefined {
  const headers: Record<string, string> = {};
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
  return headers;
}

function readPayload(r: FrameReader, l: FrameLimits): Uint8Array | undefined {
  const lenAt = r.pos;
  const len = r.varint('payload length');
  if (len < 0) return undefined;
  if (len > l.maxPayloadBytes) {
    r.fail('limit-exceeded', lenAt, 'payload length');
    return undefined;
  }
  return r.view(len, 'payload', lenAt);
}

function gossipOf(
  topic: string,
  id: MessageId,
  hops: number,
  publishedAtMs: number,
  headers: Headers | undefined,
  payload: Uint8Array,
): GossipMessage {
  return headers === undefined
    ? { type: FrameType.Gossip, topic, id, hops, publishedAtMs, payload }
    : { type: FrameType.Gossip, topic, id, hops, publishedAtMs, headers, payload };
}

/** The fields GOSSIP and GOSSIP_RUN start with: hops, topic, (the first) id. */
function readPayloadHead(
  r: FrameReader,
  l: FrameLimits,
): { hops: number; topic: string; id: MessageId } | undefined {
  const hops = r.u16('hops');
  if (hops < 0) return undefined;
  const topic = readTopic(r, l);
  if (topic === undefined) return undefined;
  const id = readId(r);
  return id === undefined ? undefined : { hops, topic, id };
}

function readGossip(r: FrameReader, l: FrameLimits): GossipMessage | undefined {
  const head = readPayloadHead(r, l);
  if (head === undefined) return undefined;
  const { hops, topic, id } = head;
  const publishedAtMs = r.varint('publishedAtMs');
  if (publishedAtMs < 0) return undefined;
  const count = r.count(l.maxHeaders, MIN_HEADER_BYTES, 'header count');
  if (count < 0) return undefined;
  let headers: Headers | undefined;
  if (count > 0) {
    headers = readHeaderEntries(r, l, count);
    if (headers === undefined) return undefined;
  }
  const payload = readPayload(r, l);
  if (payload === undefined) return undefined;
  return gossipOf(topic, id, hops, publishedAtMs, headers, payload);
}

function readRun(r: FrameReader, l: FrameLimits): GossipRunMessage | undefined {
  const head = readPayloadHead(r, l);
  if (head === undefined) return undefined;
  const { hops, topic, id: first } = head;
  const countAt = r.pos;
  const count = r.count(l.maxRunMessages, MIN_RUN_MESSAGE_BYTES, 'message count');
  if (count < 0) return undefined;
  if (count < 2) {
    r.fail('out-of-range', countAt, 'message count');
    return undefined;
  }
  let publishedAtMs = r.varint('publishedAtMs');
  if (publishedAtMs < 0) return undefined;
  const messages: GossipMessage[] = [];
  let seq = first.seq;
  let prevHeaders: Headers | undefined;
  for (let i = 0; i < count; i++) {
    if (i > 0) {
      const at = r.pos;
      const delta = r.varint('seq delta');
      if (delta < 0) return undefined;
      const dt = r.varint('publishedAtMs delta');
      if (dt < 0) return undefined;
      seq += delta;
      publishedAtMs += dt % 2 === 0 ? dt / 2 : -(dt + 1) / 2;
      if (delta === 0 || seq > MAX_SAFE || publishedAtMs < 0 || publishedAtMs > MAX_SAFE) {
        r.fail('out-of-range', at, 'seq or publishedAtMs');
        return undefined;
      }
    }
    const headers = readRunHeaders(r, l, prevHeaders);
    if (headers === null) return undefined;
    const payload = readPayload(r, l);
    if (payload === undefined) return undefined;
    const id = i === 0 ? first : { origin: first.origin, epoch: first.epoch, seq };
    messages.push(gossipOf(topic, id, hops, publishedAtMs, headers, payload));
    prevHeaders = headers;
  }
  return { type: FrameType.GossipRun, topic, hops, messages };
}

/**
 * A run message's headers: code 0 none, 1 the previous message's (which must have some), 2 + H
 * then H entries (which must differ from the previous message's: those are code 1). Null when
 * the read failed.
 */
function readRunHeaders(
  r: FrameReader,
  l: FrameLimits,
  prev: Headers | undefined,
): Headers | undefined | null {
  const at = r.pos;
  const code = r.varint('header code');
  if (code < 0) return null;
  if (code === 0) return undefined;
  if (code === 1) {
    if (prev === undefined) {
      r.fail('non-canonical', at, 'header code');
      return null;
    }
    return prev;
  }
  const count = code - 2;
  if (count > l.maxHeaders) {
    r.fail('limit-exceeded', at, 'header count');
    return null;
  }
  if (count * MIN_HEADER_BYTES > r.remaining) {
    r.fail('truncated', at, 'header count');
    return null;
  }
  const headers = readHeaderEntries(r, l, count);
  if (headers === undefined) return null;
  if (prev !== undefined && sameEntries(prev, headers)) {
    r.fail('non-canonical', at, 'header code');
    return null;
  }
  return headers;
}

function sameEntries(a: Headers, b: Headers): boolean {
  const ak = Object.keys(a);
  const bk = Object.keys(b);
  if (ak.length !== bk.length) return false;
  for (let i = 0; i < ak.length; i++) if (ak[i] !== bk[i] || a[ak[i]!] !== b[ak[i]!]) return false;
  return true;
}

function readIHave(r: FrameReader, l: FrameLimits): IHaveMessage | undefined {
  let ids = 0;
  const list = readTopicList(
    r,
    l,
    l.maxIHaveEntries,
    MIN_IHAVE_ENTRY_BYTES,
    'entry count',
    (): IHaveEntry | undefined => {
      const id = readId(r);
      if (id === undefined) return undefined;
      const countAt = r.pos;
      const count = r.varint('entry count');
      if (count < 0) return undefined;
      ids += count;
      if (count === 0 || id.seq + count - 1 > MAX_SAFE) {
        r.fail('out-of-range', countAt, 'entry count');
        return undefined;
      }
      if (ids > l.maxIHaveIds) {
        r.fail('limit-exceeded', countAt, 'announced ids');
        return undefined;
      }
      const at = r.pos;
      const hops = r.varint('entry hops');
      if (hops < 0) return undefined;
      if (hops > MAX_FRAME_HOPS) {
        r.fail('out-of-range', at, 'entry hops');
        return undefined;
      }
      return count === 1 ? { id, hops } : { id, hops, count };
    },
  );
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
