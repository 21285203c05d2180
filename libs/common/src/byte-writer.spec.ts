import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ByteReader } from './byte-reader.js';
import { ByteWriter, utf8Length, varintSize, writeUtf8, writeVarint } from './byte-writer.js';

const MAX = Number.MAX_SAFE_INTEGER;

describe('varints', () => {
  // Every boundary between sizes: 2^(7k) - 1 is the last value of k bytes.
  const boundaries = [0, 1, 127, 128, 16383, 16384, 2 ** 21 - 1, 2 ** 21, 2 ** 28 - 1, 2 ** 28];
  boundaries.push(2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 35 - 1, 2 ** 35, 2 ** 42 - 1, 2 ** 42);
  boundaries.push(2 ** 49 - 1, 2 ** 49, MAX - 1, MAX);

  it.each(boundaries)('%d: size, minimal bytes and read-back agree', (v) => {
    const out = new Uint8Array(10);
    const end = writeVarint(v, out, 1);
    expect(end - 1).toBe(varintSize(v));
    expect(end - 1).toBe(Math.ceil(v.toString(2).length / 7)); // 7 payload bits per byte
    expect(out[end - 1]).toBeLessThan(0x80); // last byte has no continuation bit
    if (end - 1 > 1) expect(out[end - 1]).not.toBe(0); // minimal
    const r = new ByteReader(out, 1);
    expect(r.varint('v')).toBe(v);
    expect(r.pos).toBe(end);
    expect(r.error).toBeUndefined();
  });

  it('2^53 - 1 is ff ff ff ff ff ff ff 0f', () => {
    const out = new Uint8Array(8);
    writeVarint(MAX, out, 0);
    expect(Buffer.from(out).toString('hex')).toBe('ffffffffffffff0f');
  });

  it('round-trips any safe integer', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (v) => {
        const out = new Uint8Array(8);
        const end = writeVarint(v, out, 0);
        const r = new ByteReader(out.subarray(0, end), 0);
        return end === varintSize(v) && r.varint('v') === v && r.pos === end;
      }),
      { numRuns: 2_000, seed: 7 },
    );
  });
});

describe('UTF-8', () => {
  it('utf8Length matches TextEncoder for well-formed strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 100 }), (s) => {
        return utf8Length(s) === new TextEncoder().encode(s).length;
      }),
      { numRuns: 2_000, seed: 7 },
    );
  });

  it('utf8Length is -1 for lone surrogates anywhere', () => {
    for (const s of [
      '\uD800',
      '\uDBFF',
      '\uDC00',
      '\uDFFF',
      'a\uD800',
      '\uD800a',
      '\uDC00\uD800',
    ]) {
      expect(utf8Length(s)).toBe(-1);
    }
    expect(utf8Length('\uD800\uDC00')).toBe(4);
  });

  it('writeUtf8 writes what TextEncoder writes, short (by hand) and long (encodeInto)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 150 }), fc.nat(4), (s, off) => {
        const expected = new TextEncoder().encode(s);
        const out = new Uint8Array(off + expected.length);
        const end = writeUtf8(s, out, off);
        return end === out.length && Buffer.compare(out.subarray(off), expected) === 0;
      }),
      { numRuns: 2_000, seed: 7 },
    );
  });

  it('ByteReader.utf8 decodes what writeUtf8 wrote, on both paths', () => {
    for (const s of ['', 'ascii', 'é', '😀', 'x'.repeat(64), 'x'.repeat(65), 'é'.repeat(100)]) {
      const out = new Uint8Array(utf8Length(s));
      writeUtf8(s, out, 0);
      const r = new ByteReader(out, 0);
      expect(r.utf8(out.length, 's', 0)).toBe(s);
      expect(r.pos).toBe(out.length);
    }
  });
});

describe('ByteWriter', () => {
  it('writes what ByteReader reads back, and insists on the measured size', () => {
    const w = new ByteWriter(1 + 2 + 4 + 8 + 2 + 2 + 3);
    w.u8(7);
    w.u16(0xbeef);
    w.u32(0xfffffffe);
    w.u64(Number.MAX_SAFE_INTEGER);
    w.str16('é');
    w.bytes(Uint8Array.from([1, 2, 3]));
    const r = new ByteReader(w.done(), 0);
    expect([r.u8('a'), r.u16('b'), r.u32('c'), r.u64('d')]).toEqual([
      7,
      0xbeef,
      0xfffffffe,
      Number.MAX_SAFE_INTEGER,
    ]);
    expect(r.str16(0, 10, 'e')).toBe('é');
    expect([...r.view(3, 'f', r.pos)!]).toEqual([1, 2, 3]);
    expect(r.remaining).toBe(0);
    const short = new ByteWriter(3);
    short.u8(1);
    expect(() => short.done()).toThrow(/wrote 1 bytes of a measured 3/);
  });
});
