/**
 * Typed errors of the node runtime, one concern each, so callers can tell a full payload from a
 * closed node from a topic nobody subscribes to without parsing messages.
 */
import { formatProblems, type Problem } from '@plumtree/common';

import { PlumtreeNodeError } from '../plumtree-node-error.js';

export { PlumtreeNodeError };

/** One invalid option: the field (dotted for nested ones) and what is wrong with it. */
export type NodeOptionProblem = Problem;

/**
 * Thrown by `PlumtreeNode.start` for invalid options; names every bad field at once. The shape of
 * `@plumtree/common`'s `ProblemListError`, kept under the node's own base error.
 */
export class PlumtreeNodeOptionsError extends PlumtreeNodeError {
  override readonly name = 'PlumtreeNodeOptionsError';
  constructor(readonly problems: readonly NodeOptionProblem[]) {
    super(formatProblems('PlumtreeNode options', problems));
  }
}

/** A payload, once encoded, above the Plumtree `maxMessageSize`. */
export class PayloadTooLargeError extends PlumtreeNodeError {
  override readonly name = 'PayloadTooLargeError';
  constructor(
    readonly sizeBytes: number,
    readonly limitBytes: number,
  ) {
    super(`payload of ${sizeBytes} bytes exceeds maxMessageSize (${limitBytes} bytes)`);
  }
}

/** Publishing or subscribing on a node that was closed (or is leaving). */
export class NodeClosedError extends PlumtreeNodeError {
  override readonly name = 'NodeClosedError';
  constructor(readonly node: string) {
    super(`PlumtreeNode ${node} is closed`);
  }
}

/**
 * A publish to a topic this node does not subscribe to found no live subscriber to hand the
 * message to, or every subscriber tried failed to acknowledge it.
 */
export class NoSubscribersError extends PlumtreeNodeError {
  override readonly name: string = 'NoSubscribersError';
  constructor(
    readonly topic: string,
    /** Subscribers tried, in order; empty when none was known. */
    readonly attempted: readonly string[] = [],
  ) {
    super(
      attempted.length === 0
        ? `no live subscriber of topic ${JSON.stringify(topic)} to hand the message to`
        : `no subscriber of topic ${JSON.stringify(topic)} acknowledged the message (tried ${attempted.join(', ')})`,
    );
  }
}

/** Publish headers the frame format cannot carry (non-string values, too many, too long). */
export class InvalidHeadersError extends PlumtreeNodeError {
  override readonly name = 'InvalidHeadersError';
  constructor(readonly reason: string) {
    super(`invalid headers: ${reason}`);
  }
}
