import { describe, expect, it } from '@jest/globals';
import {
  addLabelHeader,
  LabelError,
  labelOverhead,
  makeLabelHeader,
  removeLabelHeader,
} from './label.js';

const u8 = (...b: number[]): Uint8Array => new Uint8Array(b);

// Vectors follow memberlist >= 0.3 label.go (makeLabelHeader / RemoveLabelHeaderFromPacket);
// Debian's memberlist 0.2.2 predates labels, so there are no Go-generated label fixtures.
describe('label header', () => {
  it('prefixes [244][len][label] and nothing for the empty label', () => {
    expect([...addLabelHeader(u8(0, 1), 'ab')]).toEqual([244, 2, 0x61, 0x62, 0, 1]);
    expect(addLabelHeader(u8(0, 1), '')).toEqual(u8(0, 1));
    expect(makeLabelHeader('')).toEqual(u8());
    expect(labelOverhead('')).toBe(0);
    expect(labelOverhead('abc')).toBe(5);
  });

  it('splits the header off and reports its size', () => {
    expect(removeLabelHeader(u8(244, 2, 0x61, 0x62, 0, 1))).toEqual({
      ok: true,
      label: 'ab',
      raw: u8(0x61, 0x62),
      rest: u8(0, 1),
      headerBytes: 4,
    });
    expect(removeLabelHeader(u8(0, 1))).toEqual({
      ok: true,
      label: '',
      raw: u8(),
      rest: u8(0, 1),
      headerBytes: 0,
    });
  });

  it('refuses an empty label header and a cut one', () => {
    expect(removeLabelHeader(u8(244, 0, 1))).toEqual({ ok: false, reason: 'bad-label' });
    expect(removeLabelHeader(u8(244))).toEqual({ ok: false, reason: 'truncated' });
    expect(removeLabelHeader(u8(244, 3, 0x61))).toEqual({ ok: false, reason: 'truncated' });
  });

  it('allows 255 bytes and refuses more', () => {
    expect(makeLabelHeader('x'.repeat(255))[1]).toBe(255);
    expect(() => makeLabelHeader('x'.repeat(256))).toThrow(LabelError);
  });
});
