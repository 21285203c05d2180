import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

/** A source of uniform numbers in [0, 1). The core never calls `Math.random()`. */
export interface Rng {
  next(): number;
}

/**
 * A seeded RNG (xoroshiro128+ from pure-rand), the same adapter the Plumtree core uses: one seed
 * gives one sequence, so a run of many cores replays exactly.
 */
export function createRng(seed: number): Rng {
  // Unscrambled xoroshiro128+ gives nearly equal first outputs for nearby seeds (1000 and 1001
  // both start at 0.9999...), so nodes seeded 1..N would shuffle alike. Scramble the seed with
  // murmur3's finaliser and discard a few outputs, as the Plumtree adapter does.
  let h = seed | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  const g = xoroshiro128plus(h | 0);
  for (let i = 0; i < 8; i++) g.next();
  return { next: () => (g.next() >>> 0) / 4294967296 };
}

/** A uniformly random integer in [0, n); 0 when n is 0 (memberlist `randomOffset`). */
export function randomOffset(rng: Rng, n: number): number {
  if (n <= 0) return 0;
  return Math.floor(rng.next() * n);
}

/** Fisher-Yates shuffle in place (memberlist `shuffleNodes`). */
export function shuffle<T>(rng: Rng, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomOffset(rng, i + 1);
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
    const item = items[randomOffset(rng, n)]!;
    if (exclude(item) || picked.includes(item)) continue;
    picked.push(item);
  }
  return picked;
}
