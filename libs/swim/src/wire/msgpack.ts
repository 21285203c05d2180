/**
 * The msgpack subset memberlist speaks, byte-exact with the encoder memberlist uses:
 * `codec.MsgpackHandle{}` of hashicorp/go-msgpack (v0.5.x, and v2.x which keeps the same
 * output), with `WriteExt` false.
 *
 * Why not msgpackr: go-msgpack with `WriteExt` false writes the *old* msgpack spec. Strings and
 * `[]byte` alike go out as "raw": fixraw (0xa0-0xbf) below 32 bytes, then raw16 (0xda) and raw32
 * (0xdb); never str8 (0xd9) and never bin (0xc4-0xc6). Struct fields go out as a map whose keys
 * are the Go field names sorted by byte order (go-msgpack's `sfiSort`), not in declaration
 * order. msgpackr writes str8 for 32..255-byte strings, bin for `Uint8Array` and keys in object
 * order, so its bytes differ from Go's for most memberlist messages. A dedicated schema codec is
 * also faster: no generic object walk, precomputed key bytes.
 *
 * Encoder forms (go-msgpack `encodeUint`/`encodeInt`/`writeContainerLen`):
 * - unsigned and non-negative signed integers: the smallest of fixint, uint8 (0xcc), uint16
 *   (0xcd), uint32 (0xce), uint64 (0xcf); negative: negative fixint, int8..int64 (0xd0-0xd3);
 * - bool 0xc2/0xc3; nil slice 0xc0;
 * - maps: fixmap below 16 entries, then map16 (0xde), map32 (0xdf).
 *
 * Decoder forms (go-msgpack's decoder, which is what a newer peer's bytes must satisfy):
 * - integers from any int or uint form, range-checked against the Go field's width, negative
 *   refused for unsigned fields; nil means zero;
 * - bools from 0xc2/0xc3 and from the integers 0 and 1;
 * - strings from nil, fixraw/str8/raw16/raw32 (and, more lenient than Go, bin8/16/32);
 * - byte slices from nil, any str form, any bin form, or an array of small integers;
 * - structs from a map (keys in any order, unknown keys skipped, later duplicates win) or from
 *   an array in declaration order (go-msgpack's `StructToArray`); nil means the zero struct.
 * Trailing bytes after the value are ignored, as Go ignores them.
 */
import { WireDecodeError } from './decode-result.js';

const TWO_32 = 0x1_0000_0000;

/**
 * An empty but non-nil Go slice. Go writes a nil `[]byte` as msgpack nil (0xc0) and an empty
 * one as an empty raw (0xa0). memberlist almost always holds nil, so any empty `Uint8Array`
 * encodes as nil, except this one instance, which encodes as 0xa0; the decoder returns it for
 * 0xa0 so that decoding and re-encoding reproduces Go's bytes (a delegate's `NodeMeta` that
 * returns `[]byte{}` shows up in push-pull this way).
 */
export const GO_EMPTY_BYTES: Uint8Array = new Uint8Array(0);
/** Nesting bound when skipping unknown values: protects the stack from hostile input. */
const MAX_SKIP_DEPTH = 64;

/**
 * Bytes after the type byte of the fixed-size msgpack values `skip` passes over: nil, false,
 * true, (u)int 8/16/32/64, float 32/64, fixext 1/2/4/8/16 (the ext type byte included).
 */
const FIXED_BODY_BYTES = new Map<number, number>([
  [0xc0, 0],
  [0xc2, 0],
  [0xc3, 0],
  [0xcc, 1],
  [0xd0, 1],
  [0xcd, 2],
  [0xd1, 2],
  [0xca, 4],
  [0xce, 4],
  [0xd2, 4],
  [0xcb, 8],
  [0xcf, 8],
  [0xd3, 8],
  [0xd4, 2],
  [0xd5, 3],
  [0xd6, 5],
  [0xd7, 9],
  [0xd8, 17],
]);

/**
 * Sized msgpack values: the width of their length field, and the bytes after the data the length
 * does not count (ext 8/16/32 carry a type byte). bin 8/16/32, str 8/16/32, ext 8/16/32.
 */
const SIZED_BODY = new Map<number, { lengthBytes: 1 | 2 | 4; extraBytes: number }>([
  [0xc4, { lengthBytes: 1, extraBytes: 0 }],
  [0xd9, { lengthBytes: 1, extraBytes: 0 }],
  [0xc5, { lengthBytes: 2, extraBytes: 0 }],
  [0xda, { lengthBytes: 2, extraBytes: 0 }],
  [0xc6, { lengthBytes: 4, extraBytes: 0 }],
  [0xdb, { lengthBytes: 4, extraBytes: 0 }],
  [0xc7, { lengthBytes: 1, extraBytes: 1 }],
  [0xc8, { lengthBytes: 2, extraBytes: 1 }],
  [0xc9, { lengthBytes: 4, extraBytes: 1 }],
]);
const EMPTY = new Uint8Array(0);

/** Growable output buffer with msgpack writers for the forms go-msgpack emits. */
export class MsgpackWriter {
  private buf: Buffer;
  private pos = 0;

  /** @param initialBytes first allocation; the buffer doubles as needed. */
  constructor(initialBytes = 256) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** One raw byte (a message type, say). */
  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  /** Raw bytes, no msgpack header. */
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** msgpack nil (0xc0): how Go encodes a nil slice. */
  nil(): void {
    this.byte(0xc0);
  }

  /** msgpack bool. */
  bool(v: boolean): void {
    this.byte(v ? 0xc3 : 0xc2);
  }

  /** A non-negative integer (at most 2^53 - 1) in the smallest form, as `encodeUint`. */
  uint(v: number): void {
    this.ensure(9);
    const b = this.buf;
    if (v <= 0x7f) {
      b[this.pos++] = v;
    } else if (v <= 0xff) {
      b[this.pos++] = 0xcc;
      b[this.pos++] = v;
    } else if (v <= 0xffff) {
      b[this.pos++] = 0xcd;
      b.writeUInt16BE(v, this.pos);
      this.pos += 2;
    } else if (v < TWO_32) {
      b[this.pos++] = 0xce;
      b.writeUInt32BE(v, this.pos);
      this.pos += 4;
    } else {
      b[this.pos++] = 0xcf;
      b.writeUInt32BE(Math.floor(v / TWO_32), this.pos);
      b.writeUInt32BE(v >>> 0, this.pos + 4);
      this.pos += 8;
    }
  }

  /** A signed integer in the smallest form, as go-msgpack's `encodeInt`. */
  int(v: number): void {
    if (v >= 0) {
      this.uint(v);
      return;
    }
    this.ensure(9);
    const b = this.buf;
    if (v >= -32) {
      b[this.pos++] = v & 0xff;
    } else if (v >= -128) {
      b[this.pos++] = 0xd0;
      b.writeInt8(v, this.pos);
      this.pos += 1;
    } else if (v >= -32768) {
      b[this.pos++] = 0xd1;
      b.writeInt16BE(v, this.pos);
      this.pos += 2;
    } else if (v >= -0x8000_0000) {
      b[this.pos++] = 0xd2;
      b.writeInt32BE(v, this.pos);
      this.pos += 4;
    } else {
      b[this.pos++] = 0xd3;
      b.writeBigInt64BE(BigInt(v), this.pos);
      this.pos += 8;
    }
  }

  /** A raw (str family) header for `len` bytes: fixraw, raw16 or raw32, never str8. */
  rawHeader(len: number): void {
    this.ensure(5);
    const b = this.buf;
    if (len < 32) {
      b[this.pos++] = 0xa0 | len;
    } else if (len < 0x1_0000) {
      b[this.pos++] = 0xda;
      b.writeUInt16BE(len, this.pos);
      this.pos += 2;
    } else {
      b[this.pos++] = 0xdb;
      b.writeUInt32BE(len, this.pos);
      this.pos += 4;
    }
  }

  /** A Go `[]byte` as raw; empty is written as nil, except {@link GO_EMPTY_BYTES}. */
  raw(v: Uint8Array): void {
    if (v.length === 0 && v !== GO_EMPTY_BYTES) {
      this.nil();
      return;
    }
    this.rawHeader(v.length);
    this.bytes(v);
  }

  /** A Go `string` as raw UTF-8 (the empty string is an empty raw, 0xa0). */
  str(v: string): void {
    const len = Buffer.byteLength(v, 'utf8');
    this.rawHeader(len);
    this.ensure(len);
    this.pos += this.buf.write(v, this.pos, len, 'utf8');
  }

  /** A map header: fixmap, map16 or map32. */
  mapHeader(n: number): void {
    this.containerHeader(n, 0x80, 0xde);
  }

  /** An array header: fixarray, array16 or array32. */
  arrayHeader(n: number): void {
    this.containerHeader(n, 0x90, 0xdc);
  }

  private containerHeader(n: number, fix: number, b16: number): void {
    this.ensure(5);
    const b = this.buf;
    if (n < 16) {
      b[this.pos++] = fix | n;
    } else if (n < 0x1_0000) {
      b[this.pos++] = b16;
      b.writeUInt16BE(n, this.pos);
      this.pos += 2;
    } else {
      b[this.pos++] = b16 + 1;
      b.writeUInt32BE(n, this.pos);
      this.pos += 4;
    }
  }

  /** The bytes written, copied out so the writer's buffer can be dropped or reused. */
  finish(): Uint8Array {
    return new Uint8Array(this.buf.subarray(0, this.pos));
  }

  /** Forgets what was written; keeps the buffer for reuse. */
  reset(): void {
    this.pos = 0;
  }
}

/** The shape of the next msgpack value, for struct and container decoding. */
export type MsgpackContainer = { kind: 'map' | 'array'; length: number } | { kind: 'nil' };

/**
 * Cursor over msgpack bytes. Every read checks bounds and throws {@link WireDecodeError}, which
 * the public decoders catch; nothing allocates more than the input holds.
 */
export class MsgpackReader {
  /** Next byte to read. */
  pos: number;

  /** @param buf input; @param pos where the first value starts. */
  constructor(
    readonly buf: Uint8Array,
    pos = 0,
  ) {
    this.pos = pos;
  }

  /** A DataView for the rare wide signed reads; not kept, to spare the common path an object. */
  private view(): DataView {
    return new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  /** Bytes left after the cursor. */
  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new WireDecodeError('truncated');
  }

  private u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  private u16(): number {
    this.need(2);
    const b = this.buf;
    const p = this.pos;
    this.pos += 2;
    return (b[p]! << 8) | b[p + 1]!;
  }

  private u32(): number {
    this.need(4);
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return b[p]! * 0x100_0000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
  }

  /** Takes `n` raw bytes as a view into the input (no copy). */
  take(n: number): Uint8Array {
    this.need(n);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /**
   * Any msgpack integer (or nil = 0) as a number, range-checked to [min, max]. 64-bit values
   * beyond 2^53 are refused: no memberlist field can hold one meaningfully.
   */
  integer(min: number, max: number): number {
    const bd = this.u8();
    let v: number;
    if (bd <= 0x7f) v = bd;
    else if (bd >= 0xe0) v = bd - 0x100;
    else {
      switch (bd) {
        case 0xc0:
          return 0;
        case 0xcc:
          v = this.u8();
          break;
        case 0xcd:
          v = this.u16();
          break;
        case 0xce:
          v = this.u32();
          break;
        case 0xcf: {
          const hi = this.u32();
          const lo = this.u32();
          if (hi > 0x1f_ffff) throw new WireDecodeError('bad-msgpack');
          v = hi * TWO_32 + lo;
          break;
        }
        case 0xd0:
          v = (this.u8() << 24) >> 24;
          break;
        case 0xd1:
          v = (this.u16() << 16) >> 16;
          break;
        case 0xd2:
          v = this.u32() | 0;
          break;
        case 0xd3: {
          this.need(8);
          const big = this.view().getBigInt64(this.pos);
          this.pos += 8;
          if (big > BigInt(Number.MAX_SAFE_INTEGER) || big < BigInt(Number.MIN_SAFE_INTEGER)) {
            throw new WireDecodeError('bad-msgpack');
          }
          v = Number(big);
          break;
        }
        default:
          throw new WireDecodeError('bad-msgpack');
      }
    }
    if (v < min || v > max) throw new WireDecodeError('bad-msgpack');
    return v;
  }

  /** A bool: 0xc2/0xc3, the integers 0/1, or nil (false), as go-msgpack's `decodeBool`. */
  bool(): boolean {
    const bd = this.u8();
    if (bd === 0xc3 || bd === 0x01) return true;
    if (bd === 0xc2 || bd === 0x00 || bd === 0xc0) return false;
    throw new WireDecodeError('bad-msgpack');
  }

  /** Length of a str/bin value, or -1 for nil; advances past the header. */
  private blobLength(allowArray: boolean): number {
    const bd = this.u8();
    if (bd >= 0xa0 && bd <= 0xbf) return bd & 0x1f;
    switch (bd) {
      case 0xc0:
        return -1;
      case 0xd9:
      case 0xc4:
        return this.u8();
      case 0xda:
      case 0xc5:
        return this.u16();
      case 0xdb:
      case 0xc6:
        return this.u32();
      default:
        if (allowArray) {
          // go-msgpack fills a []byte from an array of integers too.
          this.pos--;
          return -2;
        }
        throw new WireDecodeError('bad-msgpack');
    }
  }

  /** A Go string: nil is "". Invalid UTF-8 becomes U+FFFD (Go would keep the raw bytes). */
  str(): string {
    const len = this.blobLength(false);
    if (len <= 0) return '';
    this.need(len);
    const buf = this.buf;
    const start = this.pos;
    this.pos += len;
    if (len <= 64) {
      // Node names and field keys are short ASCII: building them directly beats a decoder call.
      let s = '';
      for (let i = start; i < start + len; i++) {
        const c = buf[i]!;
        if (c >= 0x80) return Buffer.from(buf.buffer, buf.byteOffset + start, len).toString('utf8');
        s += String.fromCharCode(c);
      }
      return s;
    }
    return Buffer.from(buf.buffer, buf.byteOffset + start, len).toString('utf8');
  }

  /**
   * Reads a map key and returns the index of the candidate it equals byte for byte, or -1.
   * Struct decoding matches keys this way, without building strings.
   */
  keyIndex(candidates: readonly Uint8Array[]): number {
    const len = this.blobLength(false);
    if (len <= 0) return -1;
    this.need(len);
    const buf = this.buf;
    const start = this.pos;
    this.pos += len;
    outer: for (let k = 0; k < candidates.length; k++) {
      const c = candidates[k]!;
      if (c.length !== len) continue;
      for (let i = 0; i < len; i++) if (buf[start + i] !== c[i]) continue outer;
      return k;
    }
    return -1;
  }

  /**
   * A Go `[]byte`, copied out of the input so the caller may keep it. nil is an empty array,
   * an empty raw is {@link GO_EMPTY_BYTES}.
   */
  bytes(): Uint8Array {
    const len = this.blobLength(true);
    if (len === -1) return EMPTY;
    if (len === 0) return GO_EMPTY_BYTES;
    if (len === -2) {
      const c = this.container();
      if (c.kind !== 'array') throw new WireDecodeError('bad-msgpack');
      if (c.length > this.remaining) throw new WireDecodeError('truncated');
      const out = new Uint8Array(c.length);
      for (let i = 0; i < c.length; i++) out[i] = this.integer(0, 0xff);
      return out;
    }
    this.need(len);
    this.pos += len;
    return this.buf.slice(this.pos - len, this.pos);
  }

  /** Reads a map/array header or nil; anything else is refused. */
  container(): MsgpackContainer {
    const bd = this.u8();
    if (bd >= 0x80 && bd <= 0x8f) return { kind: 'map', length: bd & 0x0f };
    if (bd >= 0x90 && bd <= 0x9f) return { kind: 'array', length: bd & 0x0f };
    switch (bd) {
      case 0xc0:
        return { kind: 'nil' };
      case 0xde:
        return { kind: 'map', length: this.u16() };
      case 0xdf:
        return { kind: 'map', length: this.u32() };
      case 0xdc:
        return { kind: 'array', length: this.u16() };
      case 0xdd:
        return { kind: 'array', length: this.u32() };
      default:
        throw new WireDecodeError('bad-msgpack');
    }
  }

  /** Skips one value of any type (an unknown struct field from a newer peer). */
  skip(depth = 0): void {
    if (depth > MAX_SKIP_DEPTH) throw new WireDecodeError('too-deep');
    const bd = this.u8();
    if (bd <= 0x7f || bd >= 0xe0) return;
    if (bd >= 0xa0 && bd <= 0xbf) {
      this.take(bd & 0x1f);
      return;
    }
    if ((bd >= 0x80 && bd <= 0x9f) || (bd >= 0xdc && bd <= 0xdf)) {
      // fixmap, fixarray, array 16/32, map 16/32
      this.pos--;
      this.skipContainer(depth);
      return;
    }
    const fixed = FIXED_BODY_BYTES.get(bd);
    if (fixed !== undefined) {
      this.take(fixed);
      return;
    }
    const sized = SIZED_BODY.get(bd);
    if (sized !== undefined) {
      const length =
        sized.lengthBytes === 1 ? this.u8() : sized.lengthBytes === 2 ? this.u16() : this.u32();
      this.take(length + sized.extraBytes);
      return;
    }
    throw new WireDecodeError('bad-msgpack');
  }

  private skipContainer(depth: number): void {
    const c = this.container();
    if (c.kind === 'nil') return;
    const items = c.kind === 'map' ? c.length * 2 : c.length;
    // Each item takes at least one byte: a count above what is left is a truncation, found
    // before looping over a hostile 2^32 count.
    if (items > this.remaining) throw new WireDecodeError('truncated');
    for (let i = 0; i < items; i++) this.skip(depth + 1);
  }
}
