/** The SWIM protocol core, sans-IO: one export line per concept. */
export * from './address.js';
export * from './awareness.js';
export * from './formulas.js';
export * from './message-size.js';
export * from './node-state.js';
export * from './protocol-versions.js';
export * from './rng.js';
export * from './suspicion.js';
export * from './swim-core.js';
export * from './timer-table.js';
export * from './transmit-limited-queue.js';
export * from './types.js';
