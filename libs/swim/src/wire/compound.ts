/**
 * Compound messages (util.go `makeCompoundMessage` / `decodeCompoundMessage`):
 * `[7][count u8][count x length u16 big-endian][part 0][part 1]...`. memberlist piggybacks
 * gossip on probes this way.
 */
import { fail, type DecodeResult } from './decode-result.js';
import { MessageType, WireLimits } from './message-types.js';

/** Thrown when asked to build a compound message memberlist could not represent. */
export class CompoundTooLargeError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'CompoundTooLargeError';
  }
}

/** Bytes a compound message adds: type and count, plus two per part. */
export function compoundOverhead(parts: number): number {
  return 2 + 2 * parts;
}

/**
 * Builds a compound message. Throws {@link CompoundTooLargeError} for more than 255 parts or a
 * part over 65535 bytes: Go would silently truncate the count or length, corrupting the packet.
 */
export function encodeCompound(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length > WireLimits.compoundMaxParts) {
    throw new CompoundTooLargeError(`compound message of ${parts.length} parts (max 255)`);
  }
  let size = compoundOverhead(parts.length);
  for (const p of parts) {
    if (p.length > WireLimits.compoundMaxPartBytes) {
      throw new CompoundTooLargeError(`compound part of ${p.length} bytes (max 65535)`);
    }
    size += p.length;
  }
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out[0] = MessageType.Compound;
  out[1] = parts.length;
  let off = 2 + 2 * parts.length;
  parts.forEach((p, i) => {
    view.setUint16(2 + 2 * i, p.length);
    out.set(p, off);
    off += p.length;
  });
  return out;
}

/**
 * Splits a compound message (`buf[0]` must be 7). Parts are views into `buf`. As in Go, parts
 * whose bytes are missing are not an error: they are counted in `truncated` and the complete
 * parts before them are returned.
 */
export function decodeCompound(
  buf: Uint8Array,
): DecodeResult<{ parts: Uint8Array[]; truncated: number }> {
  if (buf.length < 2) return fail('truncated');
  if (buf[0] !== MessageType.Compound) return fail('unknown-type');
  const count = buf[1]!;
  let off = 2 + 2 * count;
  if (buf.length < off) return fail('truncated');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const parts: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const len = view.getUint16(2 + 2 * i);
    if (off + len > buf.length) return { ok: true, parts, truncated: count - i };
    parts.push(buf.subarray(off, off + len));
    off += len;
  }
  return { ok: true, parts, truncated: 0 };
}
