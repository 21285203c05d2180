/**
 * Durable topics: the log interface, an in-memory log, the catch-up frames (0x83/0x84) and the
 * replicator that persists, orders and catches up deliveries.
 */
export * from './durable-log.js';
export * from './memory-durable-log.js';
export * from './catchup-codec.js';
export * from './durable-options.js';
export * from './durable-replicator-types.js';
export * from './durable-replicator.js';
