import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  escapeKeyPart,
  hex16,
  logKey,
  logTopicRange,
  markKey,
  parseHex16,
  parseLogKey,
  parseMarkKey,
  parseTimeKey,
  timeKey,
  unescapeKeyPart,
} from './store-keys.js';

const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');
const nameArb = fc.string({
  unit: fc.constantFrom('a', 'b', '\0', '\x01', '\x02', '!', 'é', '😀'),
});

describe('key parts', () => {
  it('escape round-trips and never leaves a NUL', () => {
    fc.assert(
      fc.property(fc.oneof(nameArb, fc.string()), (s) => {
        const e = escapeKeyPart(s);
        expect(e.includes('\0')).toBe(false);
        expect(unescapeKeyPart(e)).toBe(s);
      }),
    );
  });

  it('keeps UTF-8 byte order of names followed by a separator', () => {
    fc.assert(
      fc.property(nameArb, nameArb, (a, b) => {
        const raw = Math.sign(Buffer.compare(bytes(a), bytes(b)));
        const esc = Math.sign(
          Buffer.compare(bytes(escapeKeyPart(a) + '\0'), bytes(escapeKeyPart(b) + '\0')),
        );
        expect(esc).toBe(raw);
      }),
    );
  });

  it('rejects invalid escapes and hex', () => {
    expect(unescapeKeyPart('a\x01')).toBeNull();
    expect(unescapeKeyPart('a\x01\x03')).toBeNull();
    expect(unescapeKeyPart('a\0')).toBeNull();
    expect(parseHex16('00000000000000g0')).toBeNull();
    expect(parseHex16('ffffffffffffffff')).toBeNull();
    expect(parseHex16(hex16(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('parses what it formats, for any names and numbers', () => {
    const n = fc.nat({ max: Number.MAX_SAFE_INTEGER });
    fc.assert(
      fc.property(nameArb, nameArb, n, n, n, (topic, origin, epoch, seq, at) => {
        expect(parseLogKey(logKey(topic, origin, epoch, seq))).toEqual({ origin, epoch, seq });
        expect(parseTimeKey(timeKey(topic, at, { origin, epoch, seq }))).toEqual({
          appendedAtMs: at,
          origin,
          epoch,
          seq,
        });
        expect(parseMarkKey(markKey(topic, origin, epoch))).toEqual({ origin, epoch });
      }),
    );
  });

  it('a topic range holds its own keys and not those of a topic extending its name', () => {
    fc.assert(
      fc.property(nameArb, nameArb, nameArb, (topic, tail, origin) => {
        const r = logTopicRange(topic);
        const inRange = (k: string): boolean =>
          Buffer.compare(bytes(k), bytes(r.gt)) > 0 && Buffer.compare(bytes(k), bytes(r.lt)) < 0;
        expect(inRange(logKey(topic, origin, 1, 1))).toBe(true);
        if (tail !== '') expect(inRange(logKey(topic + tail, origin, 1, 1))).toBe(false);
      }),
    );
  });
});
