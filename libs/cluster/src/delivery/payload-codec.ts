/**
 * How application values become payload bytes and back. The node encodes once at publish and
 * decodes once per delivery (shared by every observer of the delivery), so a codec only has to
 * be a pair of pure functions.
 */
import { stringifyPayload } from './json-payload.js';
import { hasMembers } from '../has-members.js';

/** The header that carries a payload's content type when it differs from the codec's default. */
export const CONTENT_TYPE_HEADER = 'content-type';

/** Content type of raw bytes. */
export const OCTET_STREAM = 'application/octet-stream';
/** Content type of JSON text (UTF-8). */
export const APPLICATION_JSON = 'application/json';

/**
 * A pluggable payload codec. `contentType` is the type of most payloads: it travels implicitly
 * (no header) so the common case costs no bytes; a value of another type (see
 * {@link PayloadCodec.contentTypeOf}) carries a `content-type` header.
 */
export interface PayloadCodec {
  /** Content type of the payloads this codec produces by default. */
  readonly contentType: string;
  /** Value to bytes. May throw for values it cannot encode: `publish` then rejects with that error. */
  encode(value: unknown): Uint8Array;
  /**
   * Bytes to value. `contentType` is the received one (the header, else {@link contentType}).
   * May throw: the delivery is then dropped and counted (`stats().node.decodeErrors`).
   */
  decode(bytes: Uint8Array, contentType: string): unknown;
  /** The content type of one value, when the codec encodes values of several types. */
  contentTypeOf?(value: unknown): string;
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * The default codec: a `Uint8Array` passes raw (`application/octet-stream`, the default type, so
 * binary payloads carry no header); any other value is JSON (`application/json`, with a header).
 * Values JSON would silently change (a `Map`, a `Set`, a class instance without `toJSON`, ...)
 * are refused with `UnserializablePayloadError` (see json-payload.ts).
 * Decoding returns the bytes themselves for octet-stream (a view of the received frame: copy it
 * to keep it past the handler) and the parsed value for JSON.
 */
export const defaultPayloadCodec: PayloadCodec = {
  contentType: OCTET_STREAM,
  contentTypeOf(value: unknown): string {
    return value instanceof Uint8Array ? OCTET_STREAM : APPLICATION_JSON;
  },
  encode(value: unknown): Uint8Array {
    if (value instanceof Uint8Array) return value;
    const text = stringifyPayload(value);
    // JSON.stringify(undefined) and of functions is undefined: not a payload.
    if (text === undefined) throw new TypeError('payload is not JSON-serialisable');
    return Buffer.from(text, 'utf8');
  },
  decode(bytes: Uint8Array, contentType: string): unknown {
    if (contentType === APPLICATION_JSON) return JSON.parse(utf8Decoder.decode(bytes)) as unknown;
    return bytes;
  },
};

/**
 * A codec for raw bytes only: no JSON, no header; `encode` rejects anything but a `Uint8Array`.
 * The cheapest choice when the application frames its own payloads.
 */
export const rawPayloadCodec: PayloadCodec = {
  contentType: OCTET_STREAM,
  encode(value: unknown): Uint8Array {
    if (!(value instanceof Uint8Array)) throw new TypeError('rawPayloadCodec takes a Uint8Array');
    return value;
  },
  decode(bytes: Uint8Array): unknown {
    return bytes;
  },
};

/** Whether `c` has the shape of a {@link PayloadCodec} (checked once at start). */
export function isPayloadCodec(c: unknown): c is PayloadCodec {
  return hasMembers(c, {
    encode: 'function',
    decode: 'function',
    contentType: 'string',
    contentTypeOf: 'function?',
  });
}
