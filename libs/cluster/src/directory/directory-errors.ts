/**
 * Errors of the topic directory. Only local misuse throws (an invalid topic handed to
 * `subscribe`, options out of range, a local set beyond its limits); bytes from peers never
 * throw, they become counted drops (see `DirectoryDropReason`).
 */
import { PlumtreeNodeError } from '../plumtree-node-error.js';
import { formatProblems, type Problem } from '@plumtree/common';

/** A topic or pattern given to the directory is not valid; `reason` says why. */
export class InvalidTopicError extends PlumtreeNodeError {
  override readonly name = 'InvalidTopicError';

  constructor(
    /** The rejected topic or pattern. */
    readonly topic: string,
    /** Why it was rejected, as returned by `validatePattern`. */
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** A local change would take the local entry past a configured limit. */
export class DirectoryLimitError extends PlumtreeNodeError {
  override readonly name = 'DirectoryLimitError';

  constructor(
    /** The option whose limit would be exceeded. */
    readonly limit: string,
    message: string,
  ) {
    super(message);
  }
}

/** Directory options out of range; `problems` lists every one of them. */
export class DirectoryOptionsError extends PlumtreeNodeError {
  override readonly name = 'DirectoryOptionsError';

  constructor(
    /** Every problem, field by field. */
    readonly problems: readonly Problem[],
  ) {
    super(formatProblems('topic directory options', problems));
  }
}
