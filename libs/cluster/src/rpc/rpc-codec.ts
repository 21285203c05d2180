/**
 * Request/reply frames: a request sent to one subscriber of a topic, and its reply sent straight
 * back. They travel on the frame transport beside the other kinds of frame, told apart by their
 * first byte (see frame-kinds.ts).
 *
 * | offset | size | field                                                                   |
 * |--------|------|-------------------------------------------------------------------------|
 * | 0      | 1    | `FrameKind.RpcRequest` (0x81) or `FrameKind.RpcResponse` (0x82)          |
 * | 1      | 4    | request id, u32 big-endian (the requester's counter)                    |
 * | 5      | 1    | status: 0 on a request; on a response a {@link RpcStatus}                 |
 * | 6      | 4    | length M of the envelope, u32 big-endian (at most {@link RPC_MAX_ENVELOPE_BYTES}) |
 * | 10     | M    | envelope, UTF-8 JSON: request `{t, c, h, m}` (topic, content type, headers, metadata), response `{c}` |
 * | 10+M   | rest | payload bytes (a response with status Error carries `{name, message}` JSON) |
 *
 * The envelope is small and rare next to Plumtree traffic, so JSON keeps it readable; the decoder
 * checks every field's type and never throws.
 */

import { FrameKind } from '../frame-kinds.js';

/** First byte of a request frame (`FrameKind.RpcRequest`). */
export const RPC_REQUEST_KIND = FrameKind.RpcRequest;
/** First byte of a response frame (`FrameKind.RpcResponse`). */
export const RPC_RESPONSE_KIND = FrameKind.RpcResponse;
/** Largest envelope (topic, headers, metadata) the decoder accepts. */
export const RPC_MAX_ENVELOPE_BYTES = 64 * 1024;

const HEADER_BYTES = 10;

/** What a response says about its request. */
export enum RpcStatus {
  /** The handler answered; the payload is its reply. */
  Ok = 0,
  /** The handler threw or rejected; the payload is `{ name, message }` JSON. */
  Error = 1,
  /** The node has no request handler for the topic (it is not a responder): try another. */
  NoHandler = 2,
}

/** A decoded request frame. */
export interface RpcRequestFrame {
  readonly kind: typeof FrameKind.RpcRequest;
  readonly requestId: number;
  readonly topic: string;
  readonly contentType: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly metadata: Readonly<Record<string, string>>;
  /** A view of the received frame. */
  readonly payload: Uint8Array;
}

/** A decoded response frame. */
export interface RpcResponseFrame {
  readonly kind: typeof FrameKind.RpcResponse;
  readonly requestId: number;
  readonly status: RpcStatus;
  readonly contentType: string;
  /** A view of the received frame. */
  readonly payload: Uint8Array;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function frame(
  kind: number,
  requestId: number,
  status: number,
  envelope: unknown,
  payload: Uint8Array,
): Uint8Array {
  const env = Buffer.from(JSON.stringify(envelope), 'utf8');
  if (env.length > RPC_MAX_ENVELOPE_BYTES) {
    throw new RangeError(
      `request envelope of ${env.length} bytes exceeds ${RPC_MAX_ENVELOPE_BYTES}`,
    );
  }
  const out = new Uint8Array(HEADER_BYTES + env.length + payload.length);
  const view = new DataView(out.buffer);
  out[0] = kind;
  view.setUint32(1, requestId >>> 0);
  out[5] = status;
  view.setUint32(6, env.length);
  out.set(env, HEADER_BYTES);
  out.set(payload, HEADER_BYTES + env.length);
  return out;
}

/** Encode a request. Throws `RangeError` when topic, headers and metadata exceed the envelope cap. */
export function encodeRpcRequest(r: Omit<RpcRequestFrame, 'kind'>): Uint8Array {
  return frame(
    FrameKind.RpcRequest,
    r.requestId,
    0,
    { t: r.topic, c: r.contentType, h: r.headers, m: r.metadata },
    r.payload,
  );
}

/** Encode a response. */
export function encodeRpcResponse(r: Omit<RpcResponseFrame, 'kind'>): Uint8Array {
  return frame(FrameKind.RpcResponse, r.requestId, r.status, { c: r.contentType }, r.payload);
}

function isStringRecord(v: unknown): v is Record<string, string> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  for (const x of Object.values(v)) if (typeof x !== 'string') return false;
  return true;
}

/** Decode a request or response frame; null for anything malformed (never throws). */
export function decodeRpcFrame(bytes: Uint8Array): RpcRequestFrame | RpcResponseFrame | null {
  if (bytes.length < HEADER_BYTES) return null;
  const kind = bytes[0];
  if (kind !== FrameKind.RpcRequest && kind !== FrameKind.RpcResponse) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const requestId = view.getUint32(1);
  const status = bytes[5]!;
  const envLen = view.getUint32(6);
  if (envLen > RPC_MAX_ENVELOPE_BYTES || HEADER_BYTES + envLen > bytes.length) return null;
  let env: unknown;
  try {
    env = JSON.parse(utf8.decode(bytes.subarray(HEADER_BYTES, HEADER_BYTES + envLen)));
  } catch {
    return null;
  }
  if (typeof env !== 'object' || env === null) return null;
  const e = env as Record<string, unknown>;
  const contentType = e['c'];
  if (typeof contentType !== 'string') return null;
  const payload = bytes.subarray(HEADER_BYTES + envLen);
  if (kind === FrameKind.RpcRequest) {
    const topic = e['t'];
    const headers = e['h'];
    const metadata = e['m'];
    if (status !== 0 || typeof topic !== 'string' || topic.length === 0) return null;
    if (!isStringRecord(headers) || !isStringRecord(metadata)) return null;
    return { kind, requestId, topic, contentType, headers, metadata, payload };
  }
  if (status !== RpcStatus.Ok && status !== RpcStatus.Error && status !== RpcStatus.NoHandler) {
    return null;
  }
  return { kind, requestId, status, contentType, payload };
}
