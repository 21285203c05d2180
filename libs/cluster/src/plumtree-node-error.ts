/**
 * The base of every error of this package: what a `PlumtreeNode` throws or rejects with, and
 * what its parts (the directory, durable topics, Lazarus) throw. It sits below every folder and
 * imports nothing, so each part can extend it without importing the node. Exported by name from
 * node/errors.ts.
 */

/** Base class of every error a {@link PlumtreeNode} throws or rejects with. */
export class PlumtreeNodeError extends Error {
  override readonly name: string = 'PlumtreeNodeError';
}
