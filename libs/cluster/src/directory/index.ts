/**
 * The topic directory: topic and pattern rules, every node's versioned subscription set, and
 * its binary codec (SWIM user broadcasts, push-pull state, meta digest).
 */
export * from './topic-pattern.js';
export * from './directory-errors.js';
export * from './directory-options.js';
export * from './directory-codec.js';
export * from './topic-directory.js';
