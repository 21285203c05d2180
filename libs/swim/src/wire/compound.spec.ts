import { describe, expect, it } from '@jest/globals';
import { CompoundTooLargeError, decodeCompound, encodeCompound } from './compound.js';
import { addCrc, checkCrc, crc32Ieee } from './crc.js';

const u8 = (...b: number[]): Uint8Array => new Uint8Array(b);

describe('compound messages', () => {
  it('lays out type, count, big-endian lengths, then the parts', () => {
    expect([...encodeCompound([u8(1, 2), u8(3)])]).toEqual([7, 2, 0, 2, 0, 1, 1, 2, 3]);
  });

  it('returns the complete parts and counts the truncated ones, as Go', () => {
    const full = encodeCompound([u8(1, 2), u8(3, 4, 5), u8(6)]);
    const d = decodeCompound(full.subarray(0, full.length - 2));
    expect(d).toEqual({ ok: true, parts: [u8(1, 2)], truncated: 2 });
  });

  it('refuses a missing count or a cut length table', () => {
    expect(decodeCompound(u8(7))).toEqual({ ok: false, reason: 'truncated' });
    expect(decodeCompound(u8(7, 3, 0, 1))).toEqual({ ok: false, reason: 'truncated' });
    expect(decodeCompound(u8(8, 0))).toEqual({ ok: false, reason: 'unknown-type' });
  });

  it('accepts zero-length parts and zero parts', () => {
    expect(decodeCompound(u8(7, 0))).toEqual({ ok: true, parts: [], truncated: 0 });
    expect(decodeCompound(u8(7, 1, 0, 0))).toEqual({ ok: true, parts: [u8()], truncated: 0 });
  });

  it('refuses to build what the format cannot hold', () => {
    expect(() => encodeCompound(Array.from({ length: 256 }, () => u8(1)))).toThrow(
      CompoundTooLargeError,
    );
    expect(() => encodeCompound([new Uint8Array(65536)])).toThrow(CompoundTooLargeError);
  });
});

describe('CRC layer', () => {
  it('computes CRC-32 IEEE (check value of "123456789" is cbf43926)', () => {
    expect(crc32Ieee(new TextEncoder().encode('123456789')).toString(16)).toBe('cbf43926');
  });

  it('prefixes [12][crc big-endian] and verifies it', () => {
    const msg = u8(0, 0x81, 0xa1, 0x61, 1);
    const framed = addCrc(msg);
    expect(framed[0]).toBe(12);
    expect(checkCrc(framed)).toEqual({ ok: true, payload: msg });
    framed[7] ^= 1;
    expect(checkCrc(framed)).toEqual({ ok: false, reason: 'bad-crc' });
    expect(checkCrc(u8(12, 0, 0))).toEqual({ ok: false, reason: 'truncated' });
  });
});
