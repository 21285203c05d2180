/**
 * Request/reply frames: a request sent to one responder of a topic, and its reply sent straight
 * back. They travel on the frame transport beside the other kinds of frame, told apart by their
 * first byte (see frame-kinds.ts).
 *
 * | offset | size | field                                                                   |
 * |--------|------|-------------------------------------------------------------------------|
 * | 0      | 1    | `FrameKind.RpcRequest` (0x81) or `FrameKind.RpcResponse` (0x82)          |
 * | 1      | 4    | request id, u32 big-endian (the requester's counter)                    |
 * | 5      | 1    | status: on a request 0, or 1 to cancel it ({@link RPC_CANCEL_STATUS}); on a response a {@link RpcStatus} |
 * | 6      | 4    | length M of the envelope, u32 big-endian (at most {@link RPC_MAX_ENVELOPE_BYTES}) |
 * | 10     | M    | envelope, UTF-8 JSON: request `{t, c, h, m, d?, s?}` (topic, content type, headers, metadata, the requester's timeout in ms, 1 when it takes streamed replies), cancel `{}`, response `{c, h?}` (content type, reply headers) |
 * | 10+M   | rest | payload bytes (a response with status Error carries `{name, message, error?}` JSON) |
 *
 * A reply is one Ok frame, or, for a requester that sent `s: 1`, any number of Next frames (one
 * per value of the handler's stream) ended by an Ok frame (a last value, or none: empty content
 * type) or an Error frame. Fields and statuses added since the first release are ignored by
 * (`d`, `s`, a response's `h`) or never sent to (Next) nodes of that release; its decoder drops a
 * cancel as malformed, which costs nothing but a counter.
 *
 * Headers (`h` of a request, and of a response: the reply headers the handler set since the
 * previous frame of its reply, absent when none) are held to a publish's caps (`checkHeaders` in
 * publish/outgoing-headers.ts: the frame decoder's `maxHeaders` entries and `maxHeaderBytes`);
 * the encoder throws `InvalidHeadersError` beyond them, the decoder drops the frame.
 *
 * The envelope is small and rare next to Plumtree traffic, so JSON keeps it readable; the decoder
 * checks every field's type and never throws.
 */

import { FrameKind } from '../frame-kinds.js';
import { checkHeaders, headersWithinLimits } from '../publish/outgoing-headers.js';

/** First byte of a request frame (`FrameKind.RpcRequest`). */
export const RPC_REQUEST_KIND = FrameKind.RpcRequest;
/** First byte of a response frame (`FrameKind.RpcResponse`). */
export const RPC_RESPONSE_KIND = FrameKind.RpcResponse;
/** Largest envelope (topic, headers, metadata) the decoder accepts. */
export const RPC_MAX_ENVELOPE_BYTES = 64 * 1024;
/** Status byte of a request frame that cancels the request of its id (the requester gave up). */
export const RPC_CANCEL_STATUS = 1;
/** Largest timeout a request may carry (1 hour, the module options' maximum). */
export const RPC_MAX_TIMEOUT_MS = 3_600_000;

const HEADER_BYTES = 10;

/** What a response says about its request. */
export enum RpcStatus {
  /** The handler answered; the payload is its reply. */
  Ok = 0,
  /** The handler threw or rejected; the payload is `{ name, message }` JSON. */
  Error = 1,
  /** The node has no request handler for the topic (it is not a responder): try another. */
  NoHandler = 2,
  /** One value of a streamed reply; the payload is that value, more frames follow. */
  Next = 3,
}

/** A decoded request frame. */
export interface RpcRequestFrame {
  readonly kind: typeof FrameKind.RpcRequest;
  readonly requestId: number;
  readonly topic: string;
  readonly contentType: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly metadata: Readonly<Record<string, string>>;
  /** How long the requester waits, in ms; the responder ends a reply stream by then. */
  readonly timeoutMs?: number;
  /** The requester takes streamed replies (Next frames). */
  readonly streams?: boolean;
  /** A view of the received frame. */
  readonly payload: Uint8Array;
}

/** A decoded cancel: the requester of `requestId` stopped waiting for its reply. */
export interface RpcCancelFrame {
  readonly kind: typeof FrameKind.RpcRequest;
  readonly cancel: true;
  readonly requestId: number;
}

/** A decoded response frame. */
export interface RpcResponseFrame {
  readonly kind: typeof FrameKind.RpcResponse;
  readonly requestId: number;
  readonly status: RpcStatus;
  readonly contentType: string;
  /** Reply headers the handler set since the previous frame of its reply; absent when none. */
  readonly headers?: Readonly<Record<string, string>>;
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

/**
 * Encode a request. Throws `InvalidHeadersError` for headers over a publish's caps, `RangeError`
 * when topic, headers and metadata exceed the envelope cap.
 */
export function encodeRpcRequest(r: Omit<RpcRequestFrame, 'kind'>): Uint8Array {
  checkHeaders(r.headers);
  return frame(
    FrameKind.RpcRequest,
    r.requestId,
    0,
    {
      t: r.topic,
      c: r.contentType,
      h: r.headers,
      m: r.metadata,
      ...(r.timeoutMs !== undefined ? { d: r.timeoutMs } : {}),
      ...(r.streams === true ? { s: 1 } : {}),
    },
    r.payload,
  );
}

/** Encode the cancel of a request. */
export function encodeRpcCancel(requestId: number): Uint8Array {
  return frame(FrameKind.RpcRequest, requestId, RPC_CANCEL_STATUS, {}, new Uint8Array(0));
}

/** Encode a response. Throws `InvalidHeadersError` for headers over a publish's caps. */
export function encodeRpcResponse(r: Omit<RpcResponseFrame, 'kind'>): Uint8Array {
  const h = r.headers;
  if (h !== undefined) checkHeaders(h);
  const withHeaders = h !== undefined && Object.keys(h).length > 0;
  return frame(
    FrameKind.RpcResponse,
    r.requestId,
    r.status,
    withHeaders ? { c: r.contentType, h } : { c: r.contentType },
    r.payload,
  );
}

function isStringRecord(v: unknown): v is Record<string, string> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  for (const x of Object.values(v)) if (typeof x !== 'string') return false;
  return true;
}

/** Decode a request, cancel or response frame; null for anything malformed (never throws). */
export function decodeRpcFrame(
  bytes: Uint8Array,
): RpcRequestFrame | RpcCancelFrame | RpcResponseFrame | null {
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
  if (kind === FrameKind.RpcRequest && status === RPC_CANCEL_STATUS) {
    return bytes.length === HEADER_BYTES + envLen ? { kind, cancel: true, requestId } : null;
  }
  const contentType = e['c'];
  if (typeof contentType !== 'string') return null;
  const payload = bytes.subarray(HEADER_BYTES + envLen);
  if (kind === FrameKind.RpcRequest) {
    const topic = e['t'];
    const headers = e['h'];
    const metadata = e['m'];
    if (status !== 0 || typeof topic !== 'string' || topic.length === 0) return null;
    if (!headersWithinLimits(headers) || !isStringRecord(metadata)) return null;
    const d = e['d'];
    const timeoutMs =
      Number.isSafeInteger(d) && (d as number) > 0 && (d as number) <= RPC_MAX_TIMEOUT_MS
        ? (d as number)
        : undefined;
    if (d !== undefined && timeoutMs === undefined) return null;
    const s = e['s'];
    if (s !== undefined && s !== 1) return null;
    return {
      kind,
      requestId,
      topic,
      contentType,
      headers,
      metadata,
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      ...(s === 1 ? { streams: true } : {}),
      payload,
    };
  }
  if (
    status !== RpcStatus.Ok &&
    status !== RpcStatus.Error &&
    status !== RpcStatus.NoHandler &&
    status !== RpcStatus.Next
  ) {
    return null;
  }
  const headers = e['h'];
  if (headers === undefined) return { kind, requestId, status, contentType, payload };
  if (!headersWithinLimits(headers)) return null;
  return { kind, requestId, status, contentType, headers, payload };
}
