/**
 * `@plumtree/common`: the utilities every layer shares, below `@plumtree/swim` and
 * `@plumtree/plumtree`; it imports nothing from the repository. One copy of each: the seeded RNG,
 * the bounds-checked byte reader and the byte writers of the binary codecs, and the problem-list
 * error with the preset + overrides pipeline of the configurations, the retry backoff, and the
 * mark of options resolved once.
 */
export * from './rng.js';
export * from './byte-reader.js';
export * from './byte-writer.js';
export * from './problem-list.js';
export * from './preset-config.js';
export * from './backoff.js';
export * from './resolved.js';
