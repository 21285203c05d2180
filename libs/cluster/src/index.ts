/**
 * @plumtree/cluster: the runtime of one node, framework-free: SWIM membership, the topic
 * directory, one Plumtree tree per topic and the stream transport of its frames.
 */
export * from './directory/index.js';
export * from './transport/index.js';
export * from './node/index.js';
export * from './delivery/index.js';
export * from './publish/index.js';
export * from './rpc/index.js';
export * from './handoff/index.js';
export * from './outbound/index.js';
export * from './directory-sync/index.js';
export * from './durable/index.js';
export * from './lazarus/index.js';
export * from './readiness/index.js';
export * from './metrics/index.js';
