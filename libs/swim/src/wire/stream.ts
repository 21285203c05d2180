/**
 * The stream (TCP) framing of memberlist, both ways: push-pull state exchange, user messages,
 * stream pings and their acks, and error responses.
 *
 * A stream message is `[label header]` then either the plain payload or
 * `[10][length u32 big-endian][encrypted payload]` (net.go `encryptLocalState`), whose GCM
 * additional data is those first five bytes followed by the label. The payload is optionally
 * `[9][compress{Algo, Buf}]` around the body (streams always compress when compression is on,
 * unlike packets). Bodies:
 * - push-pull: `[6][pushPullHeader][Nodes x pushNodeState][UserStateLen raw bytes]`;
 * - user message: `[8][userMsgHeader][UserMsgLen raw bytes]`;
 * - ping / ack / err: `[type][struct]`.
 *
 * Reading is sans-IO: {@link readStreamMessage} is handed the bytes received so far and answers
 * `truncated` while the message is incomplete (read more, up to `maxStreamBytes`).
 */
import { decodeCompress, encodeCompress } from './compress.js';
import {
  fail,
  WireDecodeError,
  type DecodeFailureReason,
  type DecodeResult,
} from './decode-result.js';
import { decryptPayload, encryptedLength, encryptPayload } from './encryption.js';
import { acceptLabel, labelBytes, makeLabelHeader } from './label.js';
import { readStruct, Schemas, writeStruct } from './message-codec.js';
import { MessageType, WireLimits } from './message-types.js';
import type { AckResp, ErrResp, Ping, PushNodeState } from './messages.js';
import { MsgpackReader, MsgpackWriter } from './msgpack.js';
import {
  activeKeys,
  DEFAULT_MAX_STREAM_BYTES,
  outgoingKey,
  outgoingVersion,
  type WireConfig,
} from './wire-config.js';

/** What travels over a memberlist stream. */
export type StreamMessage =
  | {
      type: typeof MessageType.PushPull;
      /** True for a join, false for periodic anti-entropy (`pushPullHeader.Join`). */
      join: boolean;
      nodes: PushNodeState[];
      /** Delegate state (`LocalState`); empty when there is none. */
      userState: Uint8Array;
    }
  | { type: typeof MessageType.User; payload: Uint8Array }
  | { type: typeof MessageType.Ping; body: Ping }
  | { type: typeof MessageType.AckResp; body: AckResp }
  | { type: typeof MessageType.Err; body: ErrResp };

/** Options for {@link encodeStreamMessage}. */
export interface StreamEncodeOptions extends WireConfig {
  /** `Config.EnableCompression`: wrap the body in a compress message. */
  compress?: boolean;
  /** Fixed GCM nonce, for reproducing known bytes in tests only. */
  nonce?: Uint8Array;
}

/** Options for {@link readStreamMessage}. */
export interface StreamDecodeOptions extends WireConfig {
  /** Largest message accepted, framing and decompressed body included (default ~20 MiB). */
  maxStreamBytes?: number;
}

/** A stream message read off the front of the received bytes. */
export interface ReadStreamResult {
  message: StreamMessage;
  /** The label the stream carried ('' for none). */
  label: string;
  /** Bytes of the input this message took; a stream may carry another message after it. */
  consumed: number;
  encrypted: boolean;
  compressed: boolean;
}

const EMPTY = new Uint8Array(0);

/** The body bytes, before compression and encryption. */
export function encodeStreamBody(msg: StreamMessage): Uint8Array {
  const w = new MsgpackWriter(
    msg.type === MessageType.PushPull ? 128 + 64 * msg.nodes.length + msg.userState.length : 128,
  );
  w.byte(msg.type);
  switch (msg.type) {
    case MessageType.PushPull:
      writeStruct(w, Schemas.pushPullHeader, {
        Nodes: msg.nodes.length,
        UserStateLen: msg.userState.length,
        Join: msg.join,
      });
      for (const n of msg.nodes) writeStruct(w, Schemas.pushNodeState, n);
      w.bytes(msg.userState);
      break;
    case MessageType.User:
      writeStruct(w, Schemas.userMsgHeader, { UserMsgLen: msg.payload.length });
      w.bytes(msg.payload);
      break;
    case MessageType.Ping:
      writeStruct(w, Schemas.ping, msg.body);
      break;
    case MessageType.AckResp:
      writeStruct(w, Schemas.ackResp, msg.body);
      break;
    case MessageType.Err:
      writeStruct(w, Schemas.errResp, msg.body);
      break;
  }
  return w.finish();
}

/**
 * Frames a stream message as memberlist's `rawSendMsgStream` (after `AddLabelHeaderToStream`).
 * Throws only on programmer errors (label over 255 bytes, bad key or nonce length).
 */
export function encodeStreamMessage(
  msg: StreamMessage,
  opts: StreamEncodeOptions = {},
): Uint8Array {
  let payload = encodeStreamBody(msg);
  if (opts.compress === true) payload = encodeCompress(payload);
  const label = opts.label ?? '';
  const header = makeLabelHeader(label);
  const key = outgoingKey(opts);
  if (key === undefined) return concat(header, payload);
  const vsn = outgoingVersion(opts);
  const framing = new Uint8Array(5);
  framing[0] = MessageType.Encrypt;
  new DataView(framing.buffer).setUint32(1, encryptedLength(vsn, payload.length));
  const sealed = encryptPayload(vsn, key, payload, concat(framing, labelBytes(label)), opts.nonce);
  return concat(header, framing, sealed);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Reads a body starting at `r.pos` (type byte first). Throws WireDecodeError. */
function readBody(r: MsgpackReader, maxBytes: number): StreamMessage {
  const type = r.take(1)[0]!; // the raw message type byte
  switch (type) {
    case MessageType.PushPull: {
      const h = readStruct(r, Schemas.pushPullHeader);
      if (h.Nodes < 0 || h.UserStateLen < 0) throw new WireDecodeError('bad-msgpack');
      if (h.UserStateLen > WireLimits.maxPushStateBytes || h.Nodes > maxBytes) {
        throw new WireDecodeError('too-large');
      }
      // Each node state takes at least one byte: never allocate for more than could follow.
      if (h.Nodes > r.remaining) throw new WireDecodeError('truncated');
      const nodes: PushNodeState[] = [];
      for (let i = 0; i < h.Nodes; i++) nodes.push(readStruct(r, Schemas.pushNodeState));
      const userState = h.UserStateLen > 0 ? r.take(h.UserStateLen).slice() : EMPTY;
      return { type, join: h.Join, nodes, userState };
    }
    case MessageType.User: {
      const h = readStruct(r, Schemas.userMsgHeader);
      if (h.UserMsgLen < 0) throw new WireDecodeError('bad-msgpack');
      if (h.UserMsgLen > maxBytes) throw new WireDecodeError('too-large');
      return { type, payload: h.UserMsgLen > 0 ? r.take(h.UserMsgLen).slice() : EMPTY };
    }
    case MessageType.Ping:
      return { type, body: readStruct(r, Schemas.ping) };
    case MessageType.AckResp:
      return { type, body: readStruct(r, Schemas.ackResp) };
    case MessageType.Err:
      return { type, body: readStruct(r, Schemas.errResp) };
    default:
      throw new WireDecodeError('unknown-type');
  }
}

/**
 * Parses a body that may be wrapped in a compress message. `complete` says the bytes are the
 * whole payload (decrypted): then running out of bytes is corruption, not "read more".
 */
function readPayload(
  buf: Uint8Array,
  offset: number,
  complete: boolean,
  maxBytes: number,
): DecodeResult<{ message: StreamMessage; end: number; compressed: boolean }> {
  if (buf.length <= offset) return fail(complete ? 'bad-msgpack' : 'truncated');
  let body = buf;
  let start = offset;
  let compressed = false;
  let end = -1;
  let bodyComplete = complete;
  if (buf[offset] === MessageType.Compress) {
    const c = decodeCompress(buf, maxBytes, offset);
    if (!c.ok) return c.reason === 'truncated' && complete ? fail('bad-msgpack') : c;
    body = c.payload;
    start = 0;
    end = c.end;
    compressed = true;
    bodyComplete = true;
  }
  const r = new MsgpackReader(body, start);
  try {
    const message = readBody(r, maxBytes);
    return { ok: true, message, end: compressed ? end : r.pos, compressed };
  } catch (e) {
    if (!(e instanceof WireDecodeError)) throw e;
    if (e.reason === 'truncated' && bodyComplete) return fail('bad-msgpack');
    return fail(e.reason);
  }
}

/**
 * Reads one stream message from the front of `buf` (net.go `readStream` and the readers after
 * it). `truncated` means the bytes so far are a valid prefix: read more and call again. Never
 * throws on any input.
 */
export function readStreamMessage(
  buf: Uint8Array,
  opts: StreamDecodeOptions = {},
): DecodeResult<ReadStreamResult> {
  const maxBytes = opts.maxStreamBytes ?? DEFAULT_MAX_STREAM_BYTES;
  // Nothing yet: not even whether a label header comes.
  if (buf.length === 0) return fail('truncated');
  const l = acceptLabel(buf, opts);
  if (!l.ok) return l;
  const { label, raw: labelRaw } = l;
  const off = l.headerBytes;
  if (buf.length <= off) return fail('truncated');
  const keys = activeKeys(opts);
  if (buf[off] === MessageType.Encrypt) {
    // Go: "Remote state is encrypted and encryption is not configured".
    if (keys === undefined) return fail('decrypt-failed');
    if (buf.length < off + 5) return fail('truncated');
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const len = view.getUint32(off + 1);
    if (len > WireLimits.maxPushStateBytes) return fail('too-large');
    if (buf.length < off + 5 + len) return fail('truncated');
    const aad = concat(buf.subarray(off, off + 5), labelRaw);
    const d = decryptPayload(keys, buf.subarray(off + 5, off + 5 + len), aad);
    if (!d.ok) return d.reason === 'truncated' ? fail('decrypt-failed') : d;
    const p = readPayload(d.plaintext, 0, true, maxBytes);
    if (!p.ok) return p;
    return {
      ok: true,
      message: p.message,
      label,
      consumed: off + 5 + len,
      encrypted: true,
      compressed: p.compressed,
    };
  }
  if (keys !== undefined && opts.verifyIncoming !== false) return fail('encryption-required');
  const p = readPayload(buf, off, false, maxBytes);
  if (!p.ok) {
    if (p.reason === 'truncated' && buf.length - off >= maxBytes) return fail('too-large');
    return p;
  }
  return {
    ok: true,
    message: p.message,
    label,
    consumed: p.end,
    encrypted: false,
    compressed: p.compressed,
  };
}

/** Reasons after which reading more bytes of the same stream cannot help. */
export function isFatalStreamFailure(reason: DecodeFailureReason): boolean {
  return reason !== 'truncated';
}
