/** The SWIM node runtime: the core bound to the codec, a transport and one timer. */
export * from './swim-node-options.js';
export * from './swim-node.js';
export { JoinError, type JoinRetryOptions } from './join-retry.js';
