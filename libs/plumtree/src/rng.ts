import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { Rng } from './types.js';

/**
 * A seeded RNG (xoroshiro128+ from pure-rand) adapted to the core's `Rng` interface.
 * The same seed gives the same sequence, which is what makes a simulation replayable.
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

/** A uniformly random integer in [0, n). */
export function randomInt(rng: Rng, n: number): number {
  return Math.floor(rng.next() * n);
}

/** Fisher-Yates shuffle in place. */
export function shuffle<T>(rng: Rng, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(rng, i + 1);
    const t = items[i]!;
    items[i] = items[j]!;
    items[j] = t;
  }
  return items;
}
