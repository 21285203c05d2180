/**
 * The node runtime's root: `PlumtreeNode` (SWIM + topic directory + one Plumtree tree per topic +
 * frame transport), its options, statistics and typed errors. The engines it wires live in the
 * folders beside this one.
 */
export * from './errors.js';
export * from './plumtree-node-options.js';
export type { NodeCounters, NodeTopicStats, PlumtreeNodeStats } from './node-stats.js';
export * from './plumtree-node.js';
