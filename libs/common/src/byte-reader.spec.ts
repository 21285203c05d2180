import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ByteReader } from './byte-reader.js';

const fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The reference: WHATWG strict UTF-8 decoding, undefined when it throws. */
function reference(bytes: Uint8Array): string | undefined {
  try {
    return fatal.decode(bytes);
  } catch {
    return undefined;
  }
}

describe('ByteReader.utf8', () => {
  // Bytes drawn mostly from the lead and continuation ranges, where validity is decided.
  const utf8ish = fc.array(
    fc.oneof(
      fc.integer({ min: 0x80, max: 0xbf }),
      fc.integer({ min: 0xc0, max: 0xff }),
      fc.constantFrom(0x00, 0x41, 0xe0, 0xed, 0xef, 0xf0, 0xf4),
    ),
    { maxLength: 12 },
  );

  it('accepts exactly what a fatal TextDecoder accepts, with the same string', () => {
    fc.assert(
      fc.property(utf8ish, (arr) => {
        const bytes = Uint8Array.from(arr);
        const r = new ByteReader(bytes, 0);
        const got = r.utf8(bytes.length, 's', 0);
        const want = reference(bytes);
        if (got !== want) return false;
        return want === undefined
          ? r.error?.reason === 'bad-utf8' && r.pos === 0
          : r.error === undefined && r.pos === bytes.length;
      }),
      { numRuns: 5_000, seed: 11 },
    );
  });

  it.each([
    ['overlong NUL', 'c080', false],
    ['overlong 3-byte', 'e08080', false],
    ['surrogate D800', 'eda080', false],
    ['last scalar U+10FFFF', 'f48fbfbf', true],
    ['above U+10FFFF', 'f4908080', false],
    ['BOM kept as data', 'efbbbf41', true],
    ['noncharacter U+FFFE', 'efbfbe', true],
    ['lone continuation', '80', false],
  ])('%s', (_name, hexBytes, valid) => {
    const bytes = new Uint8Array(Buffer.from(hexBytes, 'hex'));
    const r = new ByteReader(bytes, 0);
    const s = r.utf8(bytes.length, 's', 0);
    expect(s !== undefined).toBe(valid);
    if (valid) expect(Buffer.from(s!, 'utf8').toString('hex')).toBe(hexBytes);
  });
});

describe('ByteReader reads fail without throwing', () => {
  it('u8, u16, varint and view past the end record "truncated" and return sentinels', () => {
    const r = new ByteReader(new Uint8Array([0x80]), 0);
    expect(r.varint('v')).toBe(-1);
    expect(r.error).toEqual({ reason: 'truncated', offset: 0, detail: 'v' });
    const r2 = new ByteReader(new Uint8Array([1]), 0);
    expect(r2.u16('x')).toBe(-1);
    expect(r2.view(2, 'p', 0)).toBeUndefined();
    expect(r2.u8('y')).toBe(1);
    expect(r2.u8('z')).toBe(-1);
    expect(r2.error?.detail).toBe('x'); // the first failure is kept
  });
});

describe('ByteReader fixed-width integers and u16-prefixed strings', () => {
  it('u32 and u64 read big-endian; a u64 above 2^53 - 1 is out-of-range', () => {
    const bytes = new Uint8Array(
      Buffer.from('fffffffe' + '001fffffffffffff' + '0020000000000000', 'hex'),
    );
    const r = new ByteReader(bytes, 0);
    expect(r.u32('a')).toBe(0xfffffffe);
    expect(r.u64('b')).toBe(Number.MAX_SAFE_INTEGER);
    expect(r.u64('c')).toBe(-1);
    expect(r.error).toEqual({ reason: 'out-of-range', offset: 12, detail: 'c' });
    expect(new ByteReader(bytes, 18).u64('d')).toBe(-1);
  });

  it('str16 checks the length against its bounds before reading', () => {
    const ok = new ByteReader(new Uint8Array(Buffer.from('0002c3a9', 'hex')), 0);
    expect(ok.str16(1, 2, 's')).toBe('é');
    const empty = new ByteReader(new Uint8Array([0, 0]), 0);
    expect(empty.str16(1, 10, 's')).toBeUndefined();
    expect(empty.error?.reason).toBe('limit-exceeded');
    const short = new ByteReader(new Uint8Array([0, 3, 0x41]), 0);
    expect(short.str16(0, 10, 's')).toBeUndefined();
    expect(short.error).toEqual({ reason: 'truncated', offset: 0, detail: 's' });
  });

  it('a codec records its own reasons beside the reader ones', () => {
    const r = new ByteReader<'unknown-kind'>(new Uint8Array([9]), 0);
    r.fail('unknown-kind', 0, 'kind');
    r.fail('truncated', 1, 'later');
    expect(r.error).toEqual({ reason: 'unknown-kind', offset: 0, detail: 'kind' });
  });
});

describe('ByteReader.count', () => {
  it('refuses a count above its limit, or one the remaining bytes cannot hold', () => {
    expect(new ByteReader(Uint8Array.of(2, 0, 0), 0).count(5, 1, 'n')).toBe(2);
    const over = new ByteReader<'too-many'>(Uint8Array.of(6), 0);
    expect(over.count(5, 1, 'n', 'too-many')).toBe(-1);
    expect(over.error).toEqual({ reason: 'too-many', offset: 0, detail: 'n' });
    const lying = new ByteReader(Uint8Array.of(3, 0, 0), 0);
    expect(lying.count(5, 1, 'n')).toBe(-1);
    expect(lying.error?.reason).toBe('truncated');
    expect(new ByteReader(Uint8Array.of(9), 0).count(5, 1, 'n')).toBe(-1); // limit-exceeded
  });
});
