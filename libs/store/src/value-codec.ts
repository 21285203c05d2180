/**
 * Binary values of the node store (keys: store-keys.ts). Every value starts with a version byte
 * (1). Numbers are float64 big-endian (safe integers and epoch milliseconds are exact in a double).
 * Decoders never throw: garbage yields null, which the store counts as a corrupt record.
 *
 * | value | layout |
 * |---|---|
 * | record | `01` publishedAtMs:f64 appendedAtMs:f64 headersLen:u32 headers(JSON object of strings, absent when 0) payload(rest) |
 * | mark | `01` hwm:f64 lastSeq:f64 newestAppendMs:f64 |
 * | peer | `01` lastSeenAliveMs:f64 address(UTF-8, rest) |
 * | incarnation | `01` n:f64 |
 * | subscriptions | `01` JSON array of strings (UTF-8, rest) |
 * | time index | `01` payloadBytes:u32 |
 */

const VERSION = 1;
const RECORD_FIXED = 1 + 8 + 8 + 4;
const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

/** The stored part of a durable record (origin, epoch and seq live in the key). */
export interface RecordValue {
  readonly publishedAtMs: number;
  /** Local clock at append: what age retention measures. */
  readonly appendedAtMs: number;
  readonly headers: Readonly<Record<string, string>> | undefined;
  readonly payload: Uint8Array;
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** A value of `bodyBytes` after the version byte, written by `write` (offsets count that byte). */
function versioned(bodyBytes: number, write: (dv: DataView, out: Uint8Array) => void): Uint8Array {
  const out = new Uint8Array(1 + bodyBytes);
  out[0] = VERSION;
  write(view(out), out);
  return out;
}

/**
 * A view of `b` when it is a value of this version whose body is `bodyBytes` long (at least that
 * long with `atLeast`); null otherwise.
 */
function body(b: Uint8Array, bodyBytes: number, atLeast = false): DataView | null {
  const sizeOk = atLeast ? b.length >= 1 + bodyBytes : b.length === 1 + bodyBytes;
  return sizeOk && b[0] === VERSION ? view(b) : null;
}

/** Encodes a record value. */
export function encodeRecordValue(v: RecordValue): Uint8Array {
  const h = v.headers === undefined ? undefined : enc.encode(JSON.stringify(v.headers));
  const hLen = h === undefined ? 0 : h.length;
  return versioned(RECORD_FIXED - 1 + hLen + v.payload.length, (dv, out) => {
    dv.setFloat64(1, v.publishedAtMs);
    dv.setFloat64(9, v.appendedAtMs);
    dv.setUint32(17, hLen);
    if (h !== undefined) out.set(h, RECORD_FIXED);
    out.set(v.payload, RECORD_FIXED + hLen);
  });
}

function isStringRecord(x: unknown): x is Record<string, string> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
  for (const v of Object.values(x)) if (typeof v !== 'string') return false;
  return true;
}

/** Decodes a record value; null on anything malformed. The payload is a copy. */
export function decodeRecordValue(b: Uint8Array): RecordValue | null {
  try {
    const dv = body(b, RECORD_FIXED - 1, true);
    if (dv === null) return null;
    const publishedAtMs = dv.getFloat64(1);
    const appendedAtMs = dv.getFloat64(9);
    const hLen = dv.getUint32(17);
    if (!Number.isFinite(publishedAtMs) || !Number.isSafeInteger(appendedAtMs)) return null;
    if (hLen > b.length - RECORD_FIXED) return null;
    let headers: Record<string, string> | undefined;
    if (hLen > 0) {
      const parsed: unknown = JSON.parse(dec.decode(b.subarray(RECORD_FIXED, RECORD_FIXED + hLen)));
      if (!isStringRecord(parsed)) return null;
      headers = parsed;
    }
    const payload = b.slice(RECORD_FIXED + hLen);
    return { publishedAtMs, appendedAtMs, headers, payload };
  } catch {
    return null;
  }
}

/** Stored state of one stream (origin, epoch) of a topic. */
export interface MarkValue {
  /** Every seq <= hwm was appended (or given up by retention). */
  readonly hwm: number;
  /** Highest seq ever appended. */
  readonly lastSeq: number;
  /** Local clock of the newest append: streams idle for 2x retention are forgotten. */
  readonly newestAppendMs: number;
}

/** Encodes a mark value. */
export function encodeMarkValue(m: MarkValue): Uint8Array {
  return versioned(24, (dv) => {
    dv.setFloat64(1, m.hwm);
    dv.setFloat64(9, m.lastSeq);
    dv.setFloat64(17, m.newestAppendMs);
  });
}

/** Decodes a mark value; null on anything malformed. */
export function decodeMarkValue(b: Uint8Array): MarkValue | null {
  const dv = body(b, 24);
  if (dv === null) return null;
  const hwm = dv.getFloat64(1);
  const lastSeq = dv.getFloat64(9);
  const newestAppendMs = dv.getFloat64(17);
  const ok =
    Number.isSafeInteger(hwm) &&
    Number.isSafeInteger(lastSeq) &&
    Number.isSafeInteger(newestAppendMs) &&
    hwm >= 0 &&
    lastSeq >= hwm;
  return ok ? { hwm, lastSeq, newestAppendMs } : null;
}

/** Encodes a peer value. */
export function encodePeerValue(address: string, lastSeenAliveMs: number): Uint8Array {
  const a = enc.encode(address);
  return versioned(8 + a.length, (dv, out) => {
    dv.setFloat64(1, lastSeenAliveMs);
    out.set(a, 9);
  });
}

/** Decodes a peer value; null on anything malformed. */
export function decodePeerValue(
  b: Uint8Array,
): { address: string; lastSeenAliveMs: number } | null {
  try {
    const lastSeenAliveMs = body(b, 8, true)?.getFloat64(1);
    if (lastSeenAliveMs === undefined) return null;
    if (!Number.isFinite(lastSeenAliveMs)) return null;
    return { address: dec.decode(b.subarray(9)), lastSeenAliveMs };
  } catch {
    return null;
  }
}

/** Encodes the incarnation. */
export function encodeIncarnation(n: number): Uint8Array {
  return versioned(8, (dv) => dv.setFloat64(1, n));
}

/** Decodes the incarnation; null on anything malformed. */
export function decodeIncarnation(b: Uint8Array): number | null {
  const n = body(b, 8)?.getFloat64(1);
  return n !== undefined && Number.isSafeInteger(n) && n >= 0 ? n : null;
}

/** Encodes the subscriptions. */
export function encodeSubscriptions(topics: readonly string[]): Uint8Array {
  const j = enc.encode(JSON.stringify(topics));
  return versioned(j.length, (_dv, out) => out.set(j, 1));
}

/** Decodes the subscriptions; null on anything malformed. */
export function decodeSubscriptions(b: Uint8Array): string[] | null {
  try {
    if (body(b, 0, true) === null) return null;
    const parsed: unknown = JSON.parse(dec.decode(b.subarray(1)));
    if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === 'string')) return null;
    return parsed as string[];
  } catch {
    return null;
  }
}

/** Encodes a time index value. */
export function encodeTimeValue(payloadBytes: number): Uint8Array {
  return versioned(4, (dv) => dv.setUint32(1, payloadBytes));
}

/** Decodes a time index value (payload size); null on anything malformed. */
export function decodeTimeValue(b: Uint8Array): number | null {
  return body(b, 4)?.getUint32(1) ?? null;
}
