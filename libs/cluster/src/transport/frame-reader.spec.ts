/**
 * FrameReader: any split of a stream of length-prefixed frames yields the same frames in order;
 * whole frames inside one chunk are views of it; a length over the cap stops the reader.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { FrameReader } from './frame-reader.js';

function encode(frames: readonly Uint8Array[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of frames) {
    const h = Buffer.alloc(4);
    h.writeUInt32BE(f.length, 0);
    parts.push(h, Buffer.from(f));
  }
  return Buffer.concat(parts);
}

function collect(max = 1 << 20): { reader: FrameReader; out: Buffer[] } {
  const out: Buffer[] = [];
  const reader = new FrameReader(max, (f) => {
    out.push(Buffer.from(f));
    return true;
  });
  return { reader, out };
}

describe('FrameReader', () => {
  it('yields the same frames for every split of the stream', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 50 }),
        (frames, cuts) => {
          const wire = encode(frames);
          const { reader, out } = collect();
          let off = 0;
          let i = 0;
          while (off < wire.length) {
            const n = cuts[i++ % cuts.length]!;
            expect(reader.push(wire.subarray(off, off + n))).toBe(true);
            off += n;
          }
          expect(out.map((b) => [...b])).toEqual(frames.map((f) => [...f]));
          expect(reader.bufferedBytes).toBe(0);
        },
      ),
      { seed: 0x5eed, numRuns: 500 },
    );
  });

  it('hands out whole frames as views of the chunk, without copying', () => {
    const wire = encode([Uint8Array.of(1, 2, 3), Uint8Array.of(4)]);
    const seen: Buffer[] = [];
    const reader = new FrameReader(100, (f) => {
      seen.push(f);
      return true;
    });
    reader.push(wire);
    expect(seen).toHaveLength(2);
    for (const f of seen) expect(f.buffer).toBe(wire.buffer);
    expect([...seen[0]!]).toEqual([1, 2, 3]);
  });

  it('joins a frame spanning chunks once it is complete', () => {
    const wire = encode([new Uint8Array(1000).fill(9)]);
    const { reader, out } = collect();
    reader.push(wire.subarray(0, 2));
    reader.push(wire.subarray(2, 500));
    expect(out).toHaveLength(0);
    expect(reader.bufferedBytes).toBe(496);
    reader.push(wire.subarray(500));
    expect(out).toHaveLength(1);
    expect(out[0]!.every((b) => b === 9)).toBe(true);
  });

  it('delivers empty frames', () => {
    const { reader, out } = collect();
    reader.push(encode([new Uint8Array(0), Uint8Array.of(7)]));
    expect(out.map((b) => b.length)).toEqual([0, 1]);
  });

  it('stops at a length above the cap, even before the body arrives', () => {
    const { reader, out } = collect(10);
    const wire = encode([Uint8Array.of(1), new Uint8Array(11)]);
    expect(reader.push(wire.subarray(0, 9))).toBe(false);
    expect(reader.error).toBe('frame-too-large');
    expect(out).toHaveLength(1);
    expect(reader.push(wire.subarray(9))).toBe(false);
  });

  it('stops when the sink says so', () => {
    let calls = 0;
    const reader = new FrameReader(100, () => {
      calls++;
      return false;
    });
    expect(reader.push(encode([Uint8Array.of(1), Uint8Array.of(2)]))).toBe(false);
    expect(calls).toBe(1);
    expect(reader.error).toBeNull();
  });
});
