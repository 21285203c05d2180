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
  checkHeaders(headers, MAX_HEADERS, true);
  const out = needsType ? { ...headers, [CONTENT_TYPE_HEADER]: ct } : { ...headers };
  if (needsType) measure(out);
  return out;
}

/**
 * Throws {@link InvalidHeadersError} unless `headers` is an object of at most `maxEntries` string
 * values, of at most the decoder's `maxHeaderBytes` of keys and values, that the frame encoder can
 * write; `reserveContentType`: the codec's content-type key is refused. Request and reply headers
 * (rpc-codec.ts) are held to the same caps as a publish's.
 */
export function checkHeaders(
  headers: unknown,
  maxEntries: number = DEFAULT_FRAME_LIMITS.maxHeaders,
  reserveContentType = false,
): asserts headers is Readonly<Record<string, string>> {
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
    throw new InvalidHeadersError('must be an object of strings');
  }
  const record = headers as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length > maxEntries) {
    throw new InvalidHeadersError(`at most ${maxEntries} headers (got ${keys.length})`);
  }
  let bytes = 0;
  for (const k of keys) {
    const v = record[k];
    if (typeof v !== 'string') throw new InvalidHeadersError(`header ${k} is not a string`);
    if (reserveContentType && k === CONTENT_TYPE_HEADER) {
      throw new InvalidHeadersError(`${CONTENT_TYPE_HEADER} is set by the codec`);
    }
    bytes += Buffer.byteLength(k) + Buffer.byteLength(v);
  }
  if (bytes > MAX_HEADER_BYTES) {
    throw new InvalidHeadersError(`at most ${MAX_HEADER_BYTES} bytes of keys and values`);
  }
  measure(record as Record<string, string>);
}

/** Throws for keys over 255 bytes or lone surrogates, as the frame encoder would. */
function measure(headers: Readonly<Record<string, string>>): void {
  try {
    encodedHeadersSize(headers);
  } catch (e) {
    throw new InvalidHeadersError((e as Error).message);
  }
}

/** Whether `headers` passes {@link checkHeaders} (for decoders: bad remote input is dropped). */
export function headersWithinLimits(headers: unknown): headers is Record<string, string> {
  try {
    checkHeaders(headers);
    return true;
  } catch {
    return false;
  }
}
