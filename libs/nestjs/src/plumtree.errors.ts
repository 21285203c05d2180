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
  override readonly name = 'PlumtreeOptionsError';
  constructor(problems: readonly NodeOptionProblem[]) {
    super('Plumtree options', problems);
  }
}

/** The node could not start (port in use, no seed answered, ...); the cause is kept. */
export class PlumtreeStartError extends Error {
  override readonly name = 'PlumtreeStartError';
  constructor(
    message: string,
    override readonly cause: unknown,
  ) {
    super(message);
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
