/**
 * @plumtree/plumtree: the Plumtree broadcast protocol, one tree per topic, sans-IO.
 */
export * from './types.js';
export * from './rng.js';
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
