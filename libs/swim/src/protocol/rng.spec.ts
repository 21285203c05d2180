import { describe, expect, it } from '@jest/globals';
import { createRng, kRandom, randomOffset, shuffle } from './rng.js';

describe('rng', () => {
  it('the same seed gives the same sequence, another seed another one', () => {
    const a = createRng(5);
    const b = createRng(5);
    const c = createRng(6);
    const seqA = Array.from({ length: 20 }, () => a.next());
    expect(Array.from({ length: 20 }, () => b.next())).toEqual(seqA);
    expect(Array.from({ length: 20 }, () => c.next())).not.toEqual(seqA);
    expect(seqA.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('randomOffset stays in [0, n) and is 0 for n = 0', () => {
    const r = createRng(1);
    expect(randomOffset(r, 0)).toBe(0);
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) seen.add(randomOffset(r, 7));
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('shuffle permutes in place', () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const out = shuffle(createRng(3), [...items]);
    expect([...out].sort((x, y) => x - y)).toEqual(items);
    expect(out).not.toEqual(items);
  });

  it('kRandom picks up to k distinct items the filter keeps (memberlist kRandomNodes)', () => {
    const r = createRng(9);
    const items = Array.from({ length: 10 }, (_, i) => i);
    for (let round = 0; round < 50; round++) {
      const picked = kRandom(r, 3, items, (x) => x % 2 === 0);
      expect(picked).toHaveLength(3);
      expect(new Set(picked).size).toBe(3);
      expect(picked.every((x) => x % 2 === 1)).toBe(true);
    }
    expect(kRandom(r, 5, items, (x) => x !== 4)).toEqual([4]);
    expect(kRandom(r, 3, [], () => false)).toEqual([]);
  });
});
