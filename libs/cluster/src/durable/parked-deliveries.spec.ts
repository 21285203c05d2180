import { describe, expect, it } from '@jest/globals';
import { ParkedDeliveries } from './parked-deliveries.js';

describe('ParkedDeliveries', () => {
  it('gives back the records of matching topics once, in arrival order per topic', () => {
    const p = new ParkedDeliveries<number>(10);
    p.park('a.x', 1);
    p.park('b', 2);
    p.park('a.x', 3);
    p.park('a.y', 4);
    expect(p.size).toBe(4);
    expect(p.take((t) => t.startsWith('a.'))).toEqual([
      ['a.x', [1, 3]],
      ['a.y', [4]],
    ]);
    expect(p.take((t) => t.startsWith('a.'))).toEqual([]);
    expect(p.size).toBe(1);
    expect(p.take(() => true)).toEqual([['b', [2]]]);
    expect(p.size).toBe(0);
  });

  it('keeps at most cap records and counts the refused ones', () => {
    const p = new ParkedDeliveries<number>(2);
    expect([p.park('t', 1), p.park('t', 2), p.park('t', 3), p.park('u', 4)]).toEqual([
      true,
      true,
      false,
      false,
    ]);
    expect([p.size, p.dropped]).toEqual([2, 2]);
    p.take(() => true);
    expect(p.park('u', 5)).toBe(true);
  });
});
