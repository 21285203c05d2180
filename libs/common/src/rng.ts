import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

/**
 * Seeded randomness injected into a sans-IO core: `next()` returns a float in [0, 1). The cores
 * never call `Math.random()`, so a seed reproduces a run.
 */
export interface Rng {
  next(): number;
}

/**
 * A seeded RNG (xoroshiro128+ from pure-rand). The same seed gives the same sequence, which is
 * what makes a simulation replayable. The Plumtree core, the SWIM core and the simulator all draw
 * from this one generator.
 */
export function createRng(seed: number): Rng {
  // xoroshiro128+ seeded with nearby integers yields nearly equal first outputs (seeds 1000 and
  // 1001 both start at 0.99999...), which made every simulated node pick the same "random" peers.
  // Scramble the seed first (murmur3 fmix32) and discard a few outputs.
  const g = xoroshiro128plus(fmix32(seed | 0));
  for (let i = 0; i < 8; i++) g.next();
  return { next: () => (g.next() >>> 0) / 4294967296 };
}

/** murmur3's 32-bit finaliser: a bijective avalanche of the seed bits. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/**
 * A uniformly random integer in [0, n) (memberlist `randomOffset`); 0 for `n <= 0`, without
 * drawing, so an empty choice does not move the stream.
 */
export function randomInt(rng: Rng, n: number): number {
  if (n <= 0) return 0;
  return Math.floor(rng.next() * n);
}

/** Fisher-Yates shuffle in place (memberlist `shuffleNodes`). */
export function shuffle<T>(rng: Rng, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(rng, i + 1);
    const t = items[i]!;
    items[i] = items[j]!;
    items[j] = t;
  }
  return items;
}

/**
 * Up to `k` distinct random items not rejected by `exclude` (memberlist `kRandomNodes`): draws at
 * most `3 * items.length` times, which is exhaustive enough for small clusters and cheap for large
 * ones where `k` is much smaller than the membership.
 */
export function kRandom<T>(
  rng: Rng,
  k: number,
  items: readonly T[],
  exclude: (item: T) => boolean,
): T[] {
  const n = items.length;
  const picked: T[] = [];
  for (let i = 0; i < 3 * n && picked.length < k; i++) {
    const item = items[randomInt(rng, n)]!;
    if (exclude(item) || picked.includes(item)) continue;
    picked.push(item);
  }
  return picked;
}
