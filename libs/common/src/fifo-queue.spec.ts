import { describe, expect, it } from '@jest/globals';
import { FifoQueue } from './fifo-queue.js';

describe('FifoQueue', () => {
  it('shifts in push order, peeks without removing, and is empty after the last shift', () => {
    const q = new FifoQueue<number>();
    expect(q.shift()).toBeUndefined();
    expect(q.peek()).toBeUndefined();
    q.push(1);
    q.push(2);
    expect(q.peek()).toBe(1);
    expect(q.length).toBe(2);
    expect(q.shift()).toBe(1);
    expect(q.shift()).toBe(2);
    expect(q.length).toBe(0);
    expect(q.shift()).toBeUndefined();
  });

  it('keeps its order across the compaction of consumed slots', () => {
    const q = new FifoQueue<number>();
    for (let i = 0; i < 5000; i++) q.push(i);
    const out: number[] = [];
    for (let i = 0; i < 3000; i++) {
      out.push(q.shift()!);
      q.push(5000 + i);
    }
    while (q.length > 0) out.push(q.shift()!);
    expect(out).toEqual(Array.from({ length: 8000 }, (_, i) => i));
  });

  it('retains the accepted items in order, and clears', () => {
    const q = new FifoQueue<number>();
    for (let i = 0; i < 6; i++) q.push(i);
    q.shift();
    q.retain((i) => i % 2 === 1);
    expect([q.shift(), q.shift(), q.shift(), q.shift()]).toEqual([1, 3, 5, undefined]);
    q.push(7);
    q.clear();
    expect(q.length).toBe(0);
    expect(q.peek()).toBeUndefined();
  });
});
