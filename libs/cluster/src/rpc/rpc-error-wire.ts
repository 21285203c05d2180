/**
 * How a handler's failure crosses the wire in an RpcStatus.Error response: UTF-8 JSON
 * `{ name, message, error }`. `name` and `message` are strings for display (and all that nodes of
 * the first release read); `error` is the failure itself as Nest's transports carry it: a thrown
 * `Error` becomes `{ name, message }`, any other value (the `{ status, message }` or the object
 * of an `RpcException` that Nest's exception filter produces) travels as it is, so the
 * requester's client sees what the handler failed with.
 */

/** What a requester reads from an error response. */
export interface WireError {
  readonly name: string;
  readonly message: string;
  /** The failure value; `{ name, message }` when the responder sent no `error`. */
  readonly error: unknown;
}

/** The wire name of a refusal for load (`ResponderBusyError`, rpc-errors.ts): the handler did not run. */
export const BUSY_ERROR_NAME = 'ResponderBusyError';

/** Largest error body sent; a bigger `error` value is replaced by its name and message. */
export const MAX_ERROR_BODY_BYTES = 16 * 1024;

/** The name and message of a failure value, for display. */
function describe(e: unknown): { name: string; message: string } {
  if (e instanceof Error) return { name: e.name, message: e.message };
  if (typeof e === 'string') return { name: 'Error', message: e };
  if (typeof e === 'object' && e !== null) {
    const o = e as Record<string, unknown>;
    const name = typeof o['name'] === 'string' ? o['name'] : 'Error';
    if (typeof o['message'] === 'string') return { name, message: o['message'] };
    return { name, message: safeJson(e) ?? Object.prototype.toString.call(e) };
  }
  return { name: 'Error', message: String(e) };
}

function safeJson(v: unknown): string | undefined {
  try {
    return JSON.stringify(v);
  } catch {
    return undefined;
  }
}

/** Encode a failure value (see the file comment). Never throws. */
export function encodeWireError(e: unknown): Uint8Array {
  const { name, message } = describe(e);
  const error = e instanceof Error ? { name, message } : e;
  const full = safeJson({ name, message, error });
  if (full !== undefined && Buffer.byteLength(full) <= MAX_ERROR_BODY_BYTES) {
    return Buffer.from(full, 'utf8');
  }
  const short = { name, message: message.slice(0, MAX_ERROR_BODY_BYTES / 4) };
  return Buffer.from(JSON.stringify({ ...short, error: short }), 'utf8');
}

/** Decode an error body; anything unreadable becomes an `Error` saying so. Never throws. */
export function decodeWireError(bytes: Uint8Array): WireError {
  let o: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(bytes).toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null) throw new TypeError('not an object');
    o = parsed as Record<string, unknown>;
  } catch {
    return { name: 'Error', message: 'unreadable error', error: 'unreadable error' };
  }
  const name = typeof o['name'] === 'string' ? o['name'] : 'Error';
  const message = typeof o['message'] === 'string' ? o['message'] : '';
  return { name, message, error: 'error' in o ? o['error'] : { name, message } };
}
