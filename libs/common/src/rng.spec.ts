import { describe, expect, it } from '@jest/globals';
import { createRng, fmix32, kRandom, randomInt, shuffle } from './rng.js';

// Recorded from the generator the Plumtree core, the SWIM core and the simulator used before
// they shared this file (all three gave these values for seed 1).
const FIRST_DRAWS_OF_SEED_1 = [2407477045, 3331709384, 89820812];
const FMIX32_OF_1 = 1364076727;

describe('createRng', () => {
  it('is reproducible for a seed; another seed gives another sequence in [0, 1)', () => {
    const a = createRng(5);
    const b = createRng(5);
    const c = createRng(6);
    const seqA = Array.from({ length: 100 }, () => a.next());
    expect(Array.from({ length: 100 }, () => b.next())).toEqual(seqA);
    expect(Array.from({ length: 100 }, () => c.next())).not.toEqual(seqA);
    expect(seqA.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('keeps the stream every simulation and seeded test was recorded with', () => {
    // The first draws of seed 1, fixed: the simulator's figures for a seed depend on them.
    const r = createRng(1);
    const firsts = Array.from({ length: 3 }, () => Math.floor(r.next() * 2 ** 32));
    expect(firsts).toEqual(FIRST_DRAWS_OF_SEED_1);
    expect(fmix32(1)).toBe(FMIX32_OF_1);
  });

  it('gives unrelated sequences for neighbouring seeds (first draws spread over [0,1))', () => {
    // Regression: unscrambled xoroshiro128+ gave ~0.9999 as first output for every small seed.
    const firsts = Array.from({ length: 1000 }, (_, i) => createRng(1000 + i).next());
    const buckets = new Array(10).fill(0);
    for (const x of firsts) buckets[Math.floor(x * 10)]++;
    for (const b of buckets) expect(b).toBeGreaterThan(60);
  });
});

describe('randomInt', () => {
  it('stays in [0, n) and reaches every value', () => {
    const r = createRng(1);
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) seen.add(randomInt(r, 7));
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('is 0 for n <= 0 and draws nothing then', () => {
    const r = createRng(3);
    const ref = createRng(3);
    expect(randomInt(r, 0)).toBe(0);
    expect(randomInt(r, -2)).toBe(0);
    expect(r.next()).toBe(ref.next());
  });
});

describe('shuffle and kRandom', () => {
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
