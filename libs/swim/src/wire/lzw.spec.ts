import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { loadCommittedGolden, unhex } from '../../../../test/fixtures/memberlist/golden-suite.js';
import { lzwCompress, lzwDecompress } from './lzw.js';

/** Walks an LZW LSB/8 code stream and counts its clear codes (256). */
function countClearCodes(buf: Uint8Array): number {
  let width = 9;
  let hi = 257;
  let overflow = 512;
  let bits = 0;
  let nBits = 0;
  let i = 0;
  let clears = 0;
  for (;;) {
    while (nBits < width) {
      bits |= buf[i++]! << nBits;
      nBits += 8;
    }
    const code = bits & ((1 << width) - 1);
    bits >>>= width;
    nBits -= width;
    if (code === 256) {
      clears++;
      width = 9;
      hi = 257;
      overflow = 512;
      continue;
    }
    if (code === 257) return clears;
    hi++;
    if (hi >= overflow) {
      if (width === 12) hi--;
      else {
        width++;
        overflow <<= 1;
      }
    }
  }
}

/** Drops the first `n` bits of an LSB-first bit stream. */
function dropBits(buf: Uint8Array, n: number): Uint8Array {
  let v = 0n;
  for (let i = buf.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(buf[i]!);
  v >>= BigInt(n);
  const out = new Uint8Array(buf.length);
  for (let i = 0; i < out.length; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

const golden = loadCommittedGolden().fixtures.lzw;
const fixture = (name: string): Uint8Array => unhex(golden.find((f) => f.name === name)!.bufHex!);

describe('LZW (Go compress/lzw, LSB, literal width 8)', () => {
  it('the golden clear-code fixture runs out of codes and clears mid-stream, like Go', () => {
    expect(countClearCodes(fixture('lzw-clear-code'))).toBeGreaterThanOrEqual(2);
    expect(countClearCodes(fixture('lzw-one-byte'))).toBe(1);
  });

  it('round-trips any input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (input) => {
        const d = lzwDecompress(lzwCompress(input), input.length);
        expect(d).toEqual({ ok: true, output: input });
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips low-entropy input long enough to reset the dictionary several times', () => {
    const input = new Uint8Array(60_000).map((_, i) => 97 + ((i * 7919) % 13) * ((i >> 9) % 2));
    const c = lzwCompress(input);
    expect(countClearCodes(c)).toBeGreaterThanOrEqual(1);
    expect(lzwDecompress(c, input.length)).toEqual({ ok: true, output: input });
  });

  it('reads streams without the leading clear code (written by Go before 1.17)', () => {
    const input = new TextEncoder().encode('abababababababab hello hello hello');
    const noClear = dropBits(lzwCompress(input), 9);
    expect(lzwDecompress(noClear, 1000)).toEqual({ ok: true, output: input });
  });

  it('caps the output: a decompression bomb fails with too-large', () => {
    const bomb = lzwCompress(new Uint8Array(1_000_000));
    expect(bomb.length).toBeLessThan(3000);
    expect(lzwDecompress(bomb, 64 * 1024)).toEqual({ ok: false, reason: 'too-large' });
    expect(lzwDecompress(bomb, 1_000_000).ok).toBe(true);
  });

  it('refuses a stream without its end code, and an invalid code', () => {
    const c = lzwCompress(new TextEncoder().encode('hello world'));
    expect(lzwDecompress(c.subarray(0, c.length - 2), 100)).toEqual({
      ok: false,
      reason: 'bad-compression',
    });
    expect(lzwDecompress(new Uint8Array(0), 100)).toEqual({ ok: false, reason: 'bad-compression' });
    // clear (256), then code 300 > hi (257): invalid.
    const bad = new Uint8Array([0x00, 0x59, 0x02, 0x00]);
    expect(lzwDecompress(bad, 100)).toEqual({ ok: false, reason: 'bad-compression' });
  });

  it('ignores bytes after the end code, as Go does', () => {
    const input = new TextEncoder().encode('tail');
    const c = lzwCompress(input);
    const padded = new Uint8Array([...c, 1, 2, 3]);
    expect(lzwDecompress(padded, 100)).toEqual({ ok: true, output: input });
  });
});
