/**
 * The headers a publish sends: the application's, checked against what receivers accept, plus
 * the payload's content type when it is not the codec's default.
 *
 * The caps are the frame decoder's (`DEFAULT_FRAME_LIMITS` in frame-limits.ts: receivers decode
 * with the default header caps), one entry kept for the content type; the shape of every key and
 * value is checked by the frame codec's own measure of a header section (`encodedHeadersSize`),
 * so a publish fails here, with {@link InvalidHeadersError}, instead of at encoding.
 */
import { DEFAULT_FRAME_LIMITS, encodedHeadersSize } from '@plumtree/plumtree';
import { CONTENT_TYPE_HEADER, type PayloadCodec } from '../delivery/payload-codec.js';
import { InvalidHeadersError } from '../node/errors.js';

/** Application header entries a publish may carry: one of the decoder's is kept for the content type. */
const MAX_HEADERS = DEFAULT_FRAME_LIMITS.maxHeaders - 1;
/** Bytes of application header keys and values the decoder accepts. */
const MAX_HEADER_BYTES = DEFAULT_FRAME_LIMITS.maxHeaderBytes;

/**
 * The headers to send for `payload`: `headers`, plus the content type when it is not the
 * default; undefined when there are none. Throws {@link InvalidHeadersError} for headers the
 * frame cannot carry or receivers would refuse.
 */
export function outgoingHeaders(
  codec: PayloadCodec,
  payload: unknown,
  headers: Readonly<Record<string, string>> | undefined,
): Readonly<Record<string, string>> | undefined {
  const ct = codec.contentTypeOf?.(payload) ?? codec.contentType;
  const needsType = ct !== codec.contentType;
  if (headers === undefined || Object.keys(headers).length === 0) {
    return needsType ? { [CONTENT_TYPE_HEADER]: ct } : undefined;
  }
  if (typeof headers !== 'object' || headers === null) {
    throw new InvalidHeadersError('must be an object of strings');
  }
  const keys = Object.keys(headers);
  if (keys.length > MAX_HEADERS) {
    throw new InvalidHeadersError(`at most ${MAX_HEADERS} headers (got ${keys.length})`);
  }
  let bytes = 0;
  for (const k of keys) {
    const v = headers[k];
    if (typeof v !== 'string') throw new InvalidHeadersError(`header ${k} is not a string`);
    if (k === CONTENT_TYPE_HEADER) {
      throw new InvalidHeadersError(`${CONTENT_TYPE_HEADER} is set by the codec`);
    }
    bytes += Buffer.byteLength(k) + Buffer.byteLength(v);
  }
  if (bytes > MAX_HEADER_BYTES) {
    throw new InvalidHeadersError(`at most ${MAX_HEADER_BYTES} bytes of keys and values`);
  }
  const out = needsType ? { ...headers, [CONTENT_TYPE_HEADER]: ct } : { ...headers };
  try {
    // Throws for keys over 255 bytes or lone surrogates, as the encoder would.
    encodedHeadersSize(out);
  } catch (e) {
    throw new InvalidHeadersError((e as Error).message);
  }
  return out;
}
