/**
 * The node runtime: `PlumtreeNode` (SWIM + topic directory + one Plumtree tree per topic +
 * frame transport), its options, payload codecs, deliveries, events and typed errors.
 */
export * from './errors.js';
export * from './payload-codec.js';
export * from './json-payload.js';
export * from './message-id.js';
export * from './delivery.js';
export * from './plumtree-node-options.js';
export * from './handoff-codec.js';
export * from './frame-encoder.js';
export * from './deferred-control.js';
export * from './topic-peers.js';
export * from './plumtree-node.js';
export * from './rpc-codec.js';
export * from './rpc-errors.js';
export * from './rpc.js';
