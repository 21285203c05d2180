/**
 * @plumtree/plumtree: the Plumtree broadcast protocol, one tree per topic, sans-IO.
 */
export * from './types.js';
// The seeded RNG lives in @plumtree/common; re-exported for the core's users (its options take one).
export { createRng, fmix32, randomInt, shuffle } from '@plumtree/common';
export * from './config/plumtree-config.js';
export * from './core/errors.js';
export {
  Plumtree,
  type PlumtreeOptions,
  type TopicStats,
  type PlumtreeCounters,
} from './core/plumtree.js';
export type { FrameCounters } from './core/topic-tree.js';
export * from './wire/index.js';
