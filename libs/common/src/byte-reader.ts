import { isUtf8 } from 'node:buffer';

/**
 * Why a read failed:
 * - `truncated`: the input ends inside a field, or a length needs more bytes than remain.
 * - `bad-varint`: a varint longer than 8 bytes, above 2^53 - 1, or not minimally encoded.
 * - `bad-utf8`: a string that is not well-formed UTF-8 (overlong, surrogate, > U+10FFFF, ...).
 * - `limit-exceeded`: a length above the limit the caller gave.
 * - `out-of-range`: a fixed-width integer outside its domain (a u64 above 2^53 - 1).
 *
 * A codec adds its own reasons through the reader's type parameter.
 */
export type ByteReadReason =
  'truncated' | 'bad-varint' | 'bad-utf8' | 'limit-exceeded' | 'out-of-range';

/**
 * The first failure of a {@link ByteReader}. A plain object rather than an `Error`: malformed
 * input is a counted drop, not an exception, and a flood of garbage must not pay for a stack
 * trace per message.
 */
export interface ByteReadError<R extends string = ByteReadReason> {
  readonly reason: R;
  /** Byte offset where the offending field starts. */
  readonly offset: number;
  /** Which field, for logs (a constant string; nothing from the input is echoed). */
  readonly detail: string;
}

/**
 * Decodes strings already validated by `isUtf8` (native, no exception). Validating first matters
 * for hostile input: a fatal TextDecoder reports bad bytes by throwing, and measured on Node 20 a
 * rejected string then costs about 18 us instead of 0.3 us. `fatal` stays on as a backstop and
 * `ignoreBOM` keeps a leading BOM as data, so the string re-encodes to the same bytes.
 */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * A bounds-checked cursor over untrusted bytes. Reads never throw: on failure they record the
 * first {@link ByteReadError} in `error` and return a sentinel (`-1` for numbers, whose valid
 * values are non-negative; `undefined` otherwise). Every length is checked against the bytes
 * that remain before anything is sliced, so a lying length costs nothing. Integers are
 * big-endian; `R` adds the reasons a codec records itself through {@link fail}.
 */
export class ByteReader<R extends string = ByteReadReason> {
  /** The first failure, if any; later failures are not recorded. */
  error: ByteReadError<R | ByteReadReason> | undefined = undefined;

  constructor(
    readonly bytes: Uint8Array,
    /** Offset of the next byte to read. */
    public pos: number,
  ) {}

  /** Bytes left after `pos`. */
  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  /** Record a failure (the first one wins) for the caller to return. */
  fail(reason: R | ByteReadReason, offset: number, detail: string): void {
    this.error ??= { reason, offset, detail };
  }

  /** One byte, or -1. */
  u8(detail: string): number {
    if (this.pos >= this.bytes.length) {
      this.fail('truncated', this.pos, detail);
      return -1;
    }
    return this.bytes[this.pos++]!;
  }

  /** A big-endian u16, or -1. */
  u16(detail: string): number {
    const p = this.take(2, detail);
    return p < 0 ? -1 : (this.bytes[p]! << 8) | this.bytes[p + 1]!;
  }

  /** A big-endian u32, or -1. */
  u32(detail: string): number {
    const p = this.take(4, detail);
    return p < 0 ? -1 : this.word(p);
  }

  /** A big-endian u64 that must be a safe integer (at most 2^53 - 1), or -1. */
  u64(detail: string): number {
    const p = this.take(8, detail);
    if (p < 0) return -1;
    const hi = this.word(p);
    if (hi > 0x1fffff) {
      this.fail('out-of-range', p, detail);
      return -1;
    }
    return hi * 0x1_0000_0000 + this.word(p + 4);
  }

  /**
   * An unsigned LEB128 varint in [0, 2^53 - 1], or -1. Canonical only: at most 8 bytes, the 8th
   * byte at most 0x0f (bits 49..52), and no trailing zero byte (a shorter encoding exists).
   */
  varint(detail: string): number {
    const b = this.bytes;
    const start = this.pos;
    let p = start;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (p >= b.length) {
        this.fail('truncated', start, detail);
        return -1;
      }
      const byte = b[p++]!;
      if (i === 7 && byte > 0x0f) {
        this.fail('bad-varint', start, detail);
        return -1;
      }
      // Multiplication, not shifts: values go past 32 bits.
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (byte === 0 && i > 0) {
          this.fail('bad-varint', start, detail);
          return -1;
        }
        this.pos = p;
        return value;
      }
      scale *= 0x80;
    }
    // Unreachable: the 8th byte either ends the varint or fails above.
    this.fail('bad-varint', start, detail);
    return -1;
  }

  /**
   * A varint count of items, or -1: at most `max` (else `overLimit`, by default
   * `limit-exceeded`), and no more than the remaining bytes can hold at `minItemBytes` each (else
   * `truncated`), so a lying count is refused before anything is allocated for it.
   */
  count(
    max: number,
    minItemBytes: number,
    detail: string,
    overLimit: R | ByteReadReason = 'limit-exceeded',
  ): number {
    const at = this.pos;
    const n = this.varint(detail);
    if (n < 0) return -1;
    if (n > max) {
      this.fail(overLimit, at, detail);
      return -1;
    }
    if (n * minItemBytes > this.remaining) {
      this.fail('truncated', at, detail);
      return -1;
    }
    return n;
  }

  /**
   * `len` bytes as strictly validated UTF-8, or undefined. `lengthAt` is where the length field
   * started: a length that overruns the frame is reported there.
   */
  utf8(len: number, detail: string, lengthAt: number): string | undefined {
    const b = this.bytes;
    const start = this.pos;
    if (len > b.length - start) {
      this.fail('truncated', lengthAt, detail);
      return undefined;
    }
    if (len === 0) return '';
    const end = start + len;
    const view = b.subarray(start, end);
    if (isUtf8(view)) {
      try {
        const s = strictUtf8.decode(view);
        this.pos = end;
        return s;
      } catch {
        // Unreachable while isUtf8 and TextDecoder agree; reported as bad UTF-8 if they do not.
      }
    }
    this.fail('bad-utf8', start, detail);
    return undefined;
  }

  /** A u8 length then that many UTF-8 bytes, the length at most `maxBytes`; or undefined. */
  str8(maxBytes: number, detail: string): string | undefined {
    const at = this.pos;
    return this.boundedUtf8(at, this.u8(detail), 0, maxBytes, detail);
  }

  /**
   * A u16 length in [`minBytes`, `maxBytes`] then that many UTF-8 bytes; or undefined. A length
   * outside the bounds is `limit-exceeded`.
   */
  str16(minBytes: number, maxBytes: number, detail: string): string | undefined {
    const at = this.pos;
    return this.boundedUtf8(at, this.u16(detail), minBytes, maxBytes, detail);
  }

  /** A zero-copy view of the next `len` bytes, or undefined; `lengthAt` as for {@link utf8}. */
  view(len: number, detail: string, lengthAt: number): Uint8Array | undefined {
    const start = this.pos;
    if (len > this.bytes.length - start) {
      this.fail('truncated', lengthAt, detail);
      return undefined;
    }
    this.pos = start + len;
    return this.bytes.subarray(start, start + len);
  }

  /** The string behind a length read at `at` (-1 when that read failed), bounds checked. */
  private boundedUtf8(
    at: number,
    len: number,
    minBytes: number,
    maxBytes: number,
    detail: string,
  ): string | undefined {
    if (len < 0) return undefined;
    if (len < minBytes || len > maxBytes) {
      this.fail('limit-exceeded', at, detail);
      return undefined;
    }
    return this.utf8(len, detail, at);
  }

  /** Where the next `n` bytes start, moving past them; -1 (`truncated`) when fewer remain. */
  private take(n: number, detail: string): number {
    const p = this.pos;
    if (p + n > this.bytes.length) {
      this.fail('truncated', p, detail);
      return -1;
    }
    this.pos = p + n;
    return p;
  }

  private word(p: number): number {
    const b = this.bytes;
    return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
  }
}
