/** The SWIM protocol core, sans-IO: one export line per concept. */
export * from './address.js';
export * from './awareness.js';
export * from './formulas.js';
export * from './message-size.js';
export * from './node-state.js';
export * from './protocol-versions.js';
// The seeded RNG lives in @plumtree/common; re-exported because SwimCoreOptions takes one.
export { createRng, type Rng } from '@plumtree/common';
export * from './suspicion.js';
export * from './swim-core.js';
export * from './timer-table.js';
export * from './transmit-limited-queue.js';
export * from './types.js';
