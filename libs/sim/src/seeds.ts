import { createRng, fmix32, type Rng } from '@plumtree/common';

/**
 * Independent random streams derived from one run seed.
 *
 * Each concern (topology, subscriptions, network jitter, crashes, one stream per node, ...) draws
 * from its own stream, so the topology and failure schedule of a seed are the same whatever the
 * protocol under test does with its own randomness: every protocol of a comparison runs on the
 * same graph, latencies and crash set.
 */
export const SeedStream = {
  Topology: 1,
  Subscriptions: 2,
  Network: 3,
  Workload: 4,
  Crashes: 5,
  Detection: 6,
  Rtt: 7,
  /** Node `i` uses stream `NodeBase + i`. */
  NodeBase: 1000,
} as const;

/**
 * Mix a run seed and a stream number into a 32-bit seed (murmur3's finaliser over
 * `seed * 0x9e3779b1 + stream`), so nearby seeds and streams give unrelated sequences.
 */
export function deriveSeed(seed: number, stream: number): number {
  return fmix32((Math.imul(seed | 0, 0x9e3779b1) + Math.imul(stream | 0, 0x85ebca6b)) | 0);
}

/** A seeded RNG for one stream of a run. */
export function streamRng(seed: number, stream: number): Rng {
  return createRng(deriveSeed(seed, stream));
}
