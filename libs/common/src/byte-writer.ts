/**
 * Encoding helpers of the binary codecs: UTF-8 length and writing, unsigned LEB128 varints, and a
 * big-endian cursor ({@link ByteWriter}). Encoders measure first and allocate once, so every
 * writer here writes into a buffer that is already known to be large enough.
 */

const encoder = new TextEncoder();

/** Up to this many UTF-16 units a JS loop beats `encodeInto` (measured on Node 20). */
const HAND_WRITE_MAX = 24;

/**
 * Byte length of `s` in UTF-8, or -1 when `s` holds a lone surrogate (which has no UTF-8 form:
 * TextEncoder would write U+FFFD and the string would not survive a round trip).
 */
export function utf8Length(s: string): number {
  let n = 0;
  const len = s.length;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c < 0xd800 || c > 0xdfff) n += 3;
    else if (c <= 0xdbff && i + 1 < len) {
      const d = s.charCodeAt(i + 1);
      if (d < 0xdc00 || d > 0xdfff) return -1;
      n += 4;
      i++;
    } else return -1;
  }
  return n;
}

/**
 * Write `s` (already checked by {@link utf8Length}) as UTF-8 at `off`; returns the end offset.
 */
export function writeUtf8(s: string, out: Uint8Array, off: number): number {
  const len = s.length;
  if (len > HAND_WRITE_MAX) {
    return off + encoder.encodeInto(s, out.subarray(off)).written;
  }
  for (let i = 0; i < len; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out[off++] = c;
    } else if (c < 0x800) {
      out[off++] = 0xc0 | (c >> 6);
      out[off++] = 0x80 | (c & 0x3f);
    } else if (c < 0xd800 || c > 0xdfff) {
      out[off++] = 0xe0 | (c >> 12);
      out[off++] = 0x80 | ((c >> 6) & 0x3f);
      out[off++] = 0x80 | (c & 0x3f);
    } else {
      // A valid surrogate pair (utf8Length rejected lone ones).
      c = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00);
      out[off++] = 0xf0 | (c >> 18);
      out[off++] = 0x80 | ((c >> 12) & 0x3f);
      out[off++] = 0x80 | ((c >> 6) & 0x3f);
      out[off++] = 0x80 | (c & 0x3f);
    }
  }
  return off;
}

/** Bytes an unsigned LEB128 varint of `v` (a safe non-negative integer) takes: 1..8. */
export function varintSize(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  if (v < 0x800000000) return 5;
  if (v < 0x40000000000) return 6;
  if (v < 0x2000000000000) return 7;
  return 8;
}

/** Write `v` (a safe non-negative integer) as a minimal unsigned LEB128 varint; returns the end. */
export function writeVarint(v: number, out: Uint8Array, off: number): number {
  // Above 31 bits bitwise operators would truncate, so peel 7-bit groups arithmetically first.
  while (v > 0x7fffffff) {
    out[off++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  while (v >= 0x80) {
    out[off++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[off++] = v;
  return off;
}

/**
 * A cursor that writes big-endian integers, length-prefixed strings and bytes into a buffer of a
 * size measured beforehand; {@link done} checks that the measure was exact.
 */
export class ByteWriter {
  readonly out: Buffer;
  private pos = 0;

  constructor(size: number) {
    this.out = Buffer.allocUnsafe(size);
  }

  u8(v: number): void {
    this.out[this.pos++] = v;
  }

  u16(v: number): void {
    this.out.writeUInt16BE(v, this.pos);
    this.pos += 2;
  }

  u32(v: number): void {
    this.out.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
  }

  /** A safe non-negative integer as 8 bytes. */
  u64(v: number): void {
    this.out.writeBigUInt64BE(BigInt(v), this.pos);
    this.pos += 8;
  }

  /** A u16 byte length, then the string as UTF-8. */
  str16(s: string): void {
    const n = this.out.write(s, this.pos + 2, 'utf8');
    this.out.writeUInt16BE(n, this.pos);
    this.pos += 2 + n;
  }

  bytes(b: Uint8Array): void {
    this.out.set(b, this.pos);
    this.pos += b.length;
  }

  /** The written bytes; throws when they do not fill the measured size exactly (a codec bug). */
  done(): Uint8Array {
    if (this.pos !== this.out.length) {
      throw new Error(`ByteWriter: wrote ${this.pos} bytes of a measured ${this.out.length}`);
    }
    return new Uint8Array(this.out.buffer, this.out.byteOffset, this.out.length);
  }
}
