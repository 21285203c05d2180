/**
 * `@plumtree/common`: the utilities every layer shares, below `@plumtree/swim` and
 * `@plumtree/plumtree`; it imports nothing from the repository. One copy of each: the seeded RNG,
 * the bounds-checked byte reader and the byte writers of the binary codecs, and the problem-list
 * error with the preset + overrides pipeline of the configurations, the retry backoff, the
 * mark of options resolved once, and the FIFO queue of the core's outputs and the node's deliveries.
 */
export { backoffDelayMs } from './backoff.js';
export type { BackoffBounds } from './backoff.js';
export { ByteReader } from './byte-reader.js';
export type { ByteReadError, ByteReadReason } from './byte-reader.js';
export { ByteWriter, utf8Length, varintSize, writeUtf8, writeVarint } from './byte-writer.js';
export { FifoQueue } from './fifo-queue.js';
export { presetResolver, validationProblems } from './preset-config.js';
export type { PresetResolverSpec, PresetSpec } from './preset-config.js';
export { ProblemListError, formatProblems } from './problem-list.js';
export type { Problem } from './problem-list.js';
export { ResolvedMarks, resolveOnce } from './resolved.js';
export type { OnceResolver, Resolved } from './resolved.js';
export { createRng, fmix32, kRandom, randomInt, shuffle } from './rng.js';
export type { Rng } from './rng.js';
