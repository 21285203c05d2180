/** The Plumtree frame codec: encode, decode, patch hops in place, peek; limits and errors. */
export * from './frame-codec.js';
export * from './frame-errors.js';
export * from './frame-limits.js';
