import { describe, expect, it } from '@jest/globals';
import { createRng } from '@plumtree/common';
import { EventHeap } from './event-heap.js';

function drain(h: EventHeap): { time: number; a: number }[] {
  const out: { time: number; a: number }[] = [];
  while (h.pop()) out.push({ time: h.time, a: h.a });
  return out;
}

describe('EventHeap', () => {
  it('pops in time order', () => {
    const h = new EventHeap(4);
    for (const t of [5, 1, 4, 2, 3]) h.push(t, 0, t, 0);
    expect(drain(h).map((e) => e.time)).toEqual([1, 2, 3, 4, 5]);
  });

  it('breaks ties by insertion order', () => {
    const h = new EventHeap();
    for (let i = 0; i < 50; i++) h.push(i % 3, 0, i, 0);
    const out = drain(h);
    for (let i = 1; i < out.length; i++) {
      const p = out[i - 1]!;
      const c = out[i]!;
      expect(p.time < c.time || (p.time === c.time && p.a < c.a)).toBe(true);
    }
  });

  it('matches a sorted reference across growth and interleaved push/pop', () => {
    const rng = createRng(7);
    const h = new EventHeap(16);
    const ref: { time: number; seq: number }[] = [];
    let seq = 0;
    const popped: number[] = [];
    const expected: number[] = [];
    for (let round = 0; round < 5_000; round++) {
      if (rng.next() < 0.6 || ref.length === 0) {
        const time = Math.floor(rng.next() * 100);
        h.push(time, 1, seq, 0, { seq });
        ref.push({ time, seq });
        seq++;
      } else {
        ref.sort((x, y) => x.time - y.time || x.seq - y.seq);
        expected.push(ref.shift()!.seq);
        expect(h.pop()).toBe(true);
        popped.push(h.a);
        expect((h.obj as { seq: number }).seq).toBe(h.a);
      }
    }
    expect(popped).toEqual(expected);
    expect(h.size).toBe(ref.length);
  });

  it('reports emptiness', () => {
    const h = new EventHeap();
    expect(h.pop()).toBe(false);
    expect(h.peekTime()).toBe(Infinity);
    h.push(3, 2, -1, 9);
    expect(h.peekTime()).toBe(3);
    expect(h.pop()).toBe(true);
    expect([h.kind, h.a, h.b, h.obj]).toEqual([2, -1, 9, undefined]);
    expect(h.size).toBe(0);
  });
});
