/**
 * LZW exactly as Go's `compress/lzw` with `lzw.LSB` order and literal width 8, which memberlist
 * uses for its `compress` messages (util.go `compressPayload`, `lzwLitWidth = 8`).
 *
 * Codes start 9 bits wide; 256 is the clear code and 257 end-of-data. The writer (Go >= 1.17)
 * opens with a clear code, widens codes when the next code reaches a power of two, and when the
 * next code would be 4095 (`maxCode`) it emits a clear code and starts over. The encoder below
 * ports Go's writer loop, including its hash table, so the output is bit-for-bit Go's. The
 * decoder ports Go's reader, accepting streams with or without the leading clear code (Go
 * before 1.17 did not write one), and caps its output: a 64 KiB packet of LZW codes could
 * otherwise expand to over 100 MiB.
 */
import { fail, type DecodeResult } from './decode-result.js';

const LIT_WIDTH = 8;
const CLEAR = 1 << LIT_WIDTH; // 256
const EOF = CLEAR + 1; // 257
const MAX_WIDTH = 12;
const MAX_CODE = (1 << MAX_WIDTH) - 1; // 4095
const TABLE_SIZE = 4 * (1 << MAX_WIDTH);
const TABLE_MASK = TABLE_SIZE - 1;
const INVALID_CODE = -1;

// Working tables, reused across calls: both functions run to completion synchronously, so one
// set per process suffices and saves allocating 64 KiB per packet.
const encTable = new Uint32Array(TABLE_SIZE);
const decSuffix = new Uint8Array(1 << MAX_WIDTH);
const decPrefix = new Uint16Array(1 << MAX_WIDTH);
const decScratch = new Uint8Array(1 << MAX_WIDTH);

/** Compresses `input` as Go's `lzw.NewWriter(w, lzw.LSB, 8)` followed by `Close()`. */
export function lzwCompress(input: Uint8Array): Uint8Array {
  // At most one code per input byte plus clears, each at most 12 bits.
  const maxCodes = input.length + Math.ceil(input.length / 3000) + 4;
  const out = new Uint8Array(Math.ceil((maxCodes * MAX_WIDTH) / 8) + 1);
  let o = 0;
  let bits = 0;
  let nBits = 0;
  let width = LIT_WIDTH + 1;
  let hi = EOF;
  let overflow = 1 << (LIT_WIDTH + 1);
  // Go's open-addressing table: entries are (key << 12) | code, key = prefix << 8 | literal
  // (20 bits), 0 marks a free slot. The table only memoises; the codes come from LZW itself.
  const table = encTable;
  table.fill(0);

  const write = (c: number): void => {
    bits |= c << nBits;
    nBits += width;
    while (nBits >= 8) {
      out[o++] = bits & 0xff;
      bits >>>= 8;
      nBits -= 8;
    }
  };
  /** Go's `incHi`: returns true when it ran out of codes and reset (the caller skips insert). */
  const incHi = (): boolean => {
    hi++;
    if (hi === overflow) {
      width++;
      overflow <<= 1;
    }
    if (hi === MAX_CODE) {
      write(CLEAR);
      width = LIT_WIDTH + 1;
      hi = EOF;
      overflow = CLEAR << 1;
      table.fill(0);
      return true;
    }
    return false;
  };

  let code = INVALID_CODE;
  if (input.length > 0) {
    write(CLEAR);
    code = input[0]!;
    outer: for (let i = 1; i < input.length; i++) {
      const literal = input[i]!;
      const key = (code << 8) | literal;
      let hash = ((key >>> 12) ^ key) & TABLE_MASK;
      for (let h = hash, t = table[hash]!; t !== 0;) {
        if (key === t >>> 12) {
          code = t & MAX_CODE;
          continue outer;
        }
        h = (h + 1) & TABLE_MASK;
        t = table[h]!;
      }
      write(code);
      code = literal;
      if (incHi()) continue;
      for (;;) {
        if (table[hash] === 0) {
          table[hash] = ((key << 12) | hi) >>> 0;
          break;
        }
        hash = (hash + 1) & TABLE_MASK;
      }
    }
  }
  if (code !== INVALID_CODE) {
    write(code);
    incHi();
  } else {
    write(CLEAR);
  }
  write(EOF);
  if (nBits > 0) out[o++] = bits & 0xff;
  return out.slice(0, o);
}

/**
 * Decompresses a Go LZW (LSB, literal width 8) stream. Fails with `bad-compression` on an
 * invalid code or a stream without its end code (Go's `io.ErrUnexpectedEOF`), and with
 * `too-large` as soon as the output would exceed `maxOutputBytes`. Bytes after the end code are
 * ignored, as Go ignores them.
 */
export function lzwDecompress(
  input: Uint8Array,
  maxOutputBytes: number,
): DecodeResult<{ output: Uint8Array }> {
  const suffix = decSuffix;
  const prefix = decPrefix;
  const scratch = decScratch;
  let out = new Uint8Array(Math.min(maxOutputBytes, Math.max(64, input.length * 4)));
  let o = 0;
  let width = LIT_WIDTH + 1;
  let hi = EOF;
  let overflow = 1 << width;
  let last = INVALID_CODE;
  let bits = 0;
  let nBits = 0;
  let i = 0;

  /** Makes room for `n` more output bytes; false when that would pass the cap. */
  const reserve = (n: number): boolean => {
    if (o + n > maxOutputBytes) return false;
    if (o + n > out.length) {
      const next = new Uint8Array(Math.min(maxOutputBytes, Math.max(out.length * 2, o + n)));
      next.set(out.subarray(0, o));
      out = next;
    }
    return true;
  };

  for (;;) {
    while (nBits < width) {
      if (i >= input.length) return fail('bad-compression');
      bits |= input[i++]! << nBits;
      nBits += 8;
    }
    const code = bits & ((1 << width) - 1);
    bits >>>= width;
    nBits -= width;

    if (code < CLEAR) {
      if (!reserve(1)) return fail('too-large');
      out[o++] = code;
      if (last !== INVALID_CODE) {
        suffix[hi] = code;
        prefix[hi] = last;
      }
    } else if (code === CLEAR) {
      width = LIT_WIDTH + 1;
      hi = EOF;
      overflow = 1 << width;
      last = INVALID_CODE;
      continue;
    } else if (code === EOF) {
      return { ok: true, output: out.slice(0, o) };
    } else if (code <= hi) {
      let c = code;
      let j = scratch.length - 1;
      if (code === hi && last !== INVALID_CODE) {
        // code == hi expands to the last expansion followed by its own first byte.
        c = last;
        while (c >= CLEAR) c = prefix[c]!;
        scratch[j--] = c;
        c = last;
      }
      while (c >= CLEAR) {
        if (j < 0) return fail('bad-compression');
        scratch[j--] = suffix[c]!;
        c = prefix[c]!;
      }
      if (j < 0) return fail('bad-compression');
      scratch[j] = c;
      const n = scratch.length - j;
      if (!reserve(n)) return fail('too-large');
      for (let k = j; k < scratch.length; k++) out[o++] = scratch[k]!;
      if (last !== INVALID_CODE) {
        suffix[hi] = c;
        prefix[hi] = last;
      }
    } else {
      return fail('bad-compression');
    }
    last = code;
    hi++;
    if (hi >= overflow) {
      if (width === MAX_WIDTH) {
        last = INVALID_CODE;
        hi--;
      } else {
        width++;
        overflow = 1 << width;
      }
    }
  }
}
