import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { DeadlineHeap } from './deadline-heap.js';

describe('DeadlineHeap', () => {
  it('pops due keys earliest first, ties in insertion order, whatever the push order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 60 }), (deadlines) => {
        const h = new DeadlineHeap<number>();
        deadlines.forEach((d, i) => h.push(d, i));
        const expected = deadlines
          .map((d, i) => ({ d, i }))
          .sort((a, b) => a.d - b.d || a.i - b.i)
          .map((e) => e.i);
        const popped: number[] = [];
        for (let k = h.popDue(20); k !== undefined; k = h.popDue(20)) popped.push(k);
        return JSON.stringify(popped) === JSON.stringify(expected) && h.size === 0;
      }),
      { numRuns: 500, seed: 5 },
    );
  });

  it('pops nothing before the earliest deadline', () => {
    const h = new DeadlineHeap<string>();
    h.push(10, 'a');
    h.push(5, 'b');
    expect(h.peek()).toBe(5);
    expect(h.popDue(4)).toBeUndefined();
    expect(h.popDue(5)).toBe('b');
    expect(h.popDue(9)).toBeUndefined();
  });
});
