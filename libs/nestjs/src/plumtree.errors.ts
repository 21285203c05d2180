/**
 * Typed errors of the NestJS layer (the node's own errors come from `@plumtree/cluster`).
 */
import type { NodeOptionProblem } from '@plumtree/cluster';
import { ProblemListError } from '@plumtree/common';

/**
 * Invalid `PlumtreeModule` / `PlumtreeServer` / `PlumtreeClient` options, thrown at startup: one
 * error naming every bad field (the Nest-level ones and every problem of the node options).
 */
export class PlumtreeOptionsError extends ProblemListError {
  override readonly name: string = 'PlumtreeOptionsError';
  /** @param subject what the problems are of, for the message (`Invalid <subject> (...)`). */
  constructor(problems: readonly NodeOptionProblem[], subject = 'Plumtree options') {
    super(subject, problems);
  }
}

/**
 * The node could not start (port in use, no seed answered, ...); the cause is kept. `code` is the
 * errno of the cause (`EADDRINUSE`, ...), and `ECONNREFUSED` when no seed answered the join: what
 * Nest's transports report when their broker is down, so code written for them (Nest's
 * disconnected-client handling answers 408 on it) works unchanged.
 */
export class PlumtreeStartError extends Error {
  override readonly name = 'PlumtreeStartError';
  constructor(
    message: string,
    override readonly cause: unknown,
    readonly code?: string,
  ) {
    super(message);
  }
}

/**
 * Handlers that cannot be served, found at startup (`app.init()` / `app.listen()` rejects with
 * it, and nothing the module started is left running): an invalid topic pattern, a handler on a
 * request-scoped provider. Each problem's `field` is the handler's `Class.method`, its `message`
 * the decorator as written and what is wrong.
 */
export class PlumtreeHandlerError extends PlumtreeOptionsError {
  override readonly name: string = 'PlumtreeHandlerError';
  constructor(problems: readonly NodeOptionProblem[]) {
    super(problems, 'Plumtree handlers');
  }
}

/** `unwrap()` or `node` used before the transport started listening. */
export class PlumtreeNotStartedError extends Error {
  override readonly name = 'PlumtreeNotStartedError';
  constructor(what: string) {
    super(
      `${what} is not started yet: call listen() (app.listen() / app.startAllMicroservices()) first`,
    );
  }
}

/**
 * `PlumtreeContext.ack()` / `nack()` misused: on a handler that is not `ack: 'manual'` (it
 * acknowledges by returning), or on a request.
 */
export class PlumtreeAckError extends Error {
  override readonly name = 'PlumtreeAckError';
}

/** A handler declared `ack: 'manual'` neither acked nor nacked within `ackTimeoutMs`. */
export class PlumtreeAckTimeoutError extends Error {
  override readonly name = 'PlumtreeAckTimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`the handler neither acked nor nacked within ${timeoutMs} ms`);
  }
}
