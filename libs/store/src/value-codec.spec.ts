import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  decodeIncarnation,
  decodeMarkValue,
  decodePeerValue,
  decodeRecordValue,
  decodeSubscriptions,
  decodeTimeValue,
  encodeIncarnation,
  encodeMarkValue,
  encodePeerValue,
  encodeRecordValue,
  encodeSubscriptions,
  encodeTimeValue,
} from './value-codec.js';

const headersArb = fc.option(fc.dictionary(fc.string(), fc.string()), { nil: undefined });
const recordArb = fc.record({
  publishedAtMs: fc.double({ noNaN: true, noDefaultInfinity: true }),
  appendedAtMs: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
  headers: headersArb,
  payload: fc.uint8Array({ maxLength: 2048 }),
});

describe('record value', () => {
  it('encodes the documented layout', () => {
    const b = encodeRecordValue({
      publishedAtMs: 1,
      appendedAtMs: 2,
      headers: { a: 'b' },
      payload: Uint8Array.of(9, 8),
    });
    const json = [...Buffer.from('{"a":"b"}')];
    expect([...b]).toEqual([
      1,
      ...[0x3f, 0xf0, 0, 0, 0, 0, 0, 0],
      ...[0x40, 0, 0, 0, 0, 0, 0, 0],
      ...[0, 0, 0, json.length],
      ...json,
      9,
      8,
    ]);
  });

  it('round-trips any record', () => {
    fc.assert(
      fc.property(recordArb, (r) => {
        const d = decodeRecordValue(encodeRecordValue(r));
        expect(d).not.toBeNull();
        expect(d!.publishedAtMs).toBe(r.publishedAtMs);
        expect(d!.appendedAtMs).toBe(r.appendedAtMs);
        expect(d!.headers).toEqual(r.headers);
        expect([...d!.payload]).toEqual([...r.payload]);
      }),
    );
  });

  it('never throws on garbage and rejects what it cannot read', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (b) => {
        const d = decodeRecordValue(b);
        if (d !== null) expect(d.payload).toBeInstanceOf(Uint8Array);
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on mutations of valid records', () => {
    fc.assert(
      fc.property(
        recordArb,
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        fc.nat(),
        (r, pos, byte, cut) => {
          const b = encodeRecordValue(r);
          b[pos % b.length] = byte;
          decodeRecordValue(b);
          decodeRecordValue(b.subarray(0, cut % (b.length + 1)));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it.each([
    ['empty', []],
    ['wrong version', [2, ...new Array<number>(20).fill(0)]],
    ['headers longer than the value', [1, ...new Array<number>(16).fill(0), 0, 0, 0, 9]],
    ['headers not JSON', [1, ...new Array<number>(16).fill(0), 0, 0, 0, 1, 0x7b]],
    ['headers an array', [1, ...new Array<number>(16).fill(0), 0, 0, 0, 2, 0x5b, 0x5d]],
    [
      'headers with a number',
      [1, ...new Array<number>(16).fill(0), 0, 0, 0, 7, ...Buffer.from('{"a":1}')],
    ],
    [
      'NaN appendedAtMs',
      [1, ...new Array<number>(8).fill(0), 0x7f, 0xf8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    ],
  ])('rejects %s', (_name, bytes) => {
    expect(decodeRecordValue(Uint8Array.from(bytes))).toBeNull();
  });
});

describe('small values', () => {
  it('round-trip', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        fc.string(),
        fc.array(fc.string()),
        fc.nat({ max: 0xffffffff }),
        (a, b, t, addr, subs, size) => {
          const hwm = Math.min(a, b);
          const lastSeq = Math.max(a, b);
          expect(decodeMarkValue(encodeMarkValue({ hwm, lastSeq, newestAppendMs: t }))).toEqual({
            hwm,
            lastSeq,
            newestAppendMs: t,
          });
          expect(decodePeerValue(encodePeerValue(addr, t))).toEqual({
            address: addr.replace(/[\ud800-\udfff]/g, '\ufffd'),
            lastSeenAliveMs: t,
          });
          expect(decodeIncarnation(encodeIncarnation(a))).toBe(a);
          expect(decodeTimeValue(encodeTimeValue(size))).toBe(size);
          const wellFormed = subs.map((s) => s.replace(/[\ud800-\udfff]/g, '\ufffd'));
          expect(decodeSubscriptions(encodeSubscriptions(wellFormed))).toEqual(wellFormed);
        },
      ),
    );
  });

  it('decoders never throw on garbage', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        decodeMarkValue(b);
        decodePeerValue(b);
        decodeIncarnation(b);
        decodeSubscriptions(b);
        decodeTimeValue(b);
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects a mark whose hwm exceeds lastSeq and a negative incarnation', () => {
    expect(decodeMarkValue(encodeMarkValue({ hwm: 5, lastSeq: 4, newestAppendMs: 0 }))).toBeNull();
    expect(decodeIncarnation(encodeIncarnation(-1))).toBeNull();
    expect(decodeSubscriptions(Uint8Array.of(1, ...Buffer.from('[1]')))).toBeNull();
  });
});
