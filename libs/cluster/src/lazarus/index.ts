/** Lazarus: periodic re-join of static seeds that died and came back empty. */
export * from './seed-address.js';
export * from './lazarus.js';
export * from './swim-lazarus-host.js';
