/**
 * Typed errors of the NestJS layer (the node's own errors come from `@plumtree/cluster`).
 */
import type { NodeOptionProblem } from '@plumtree/cluster';

/**
 * Invalid `PlumtreeModule` / `PlumtreeServer` / `PlumtreeClient` options, thrown at startup: one
 * error naming every bad field (the Nest-level ones and every problem of the node options).
 */
export class PlumtreeOptionsError extends Error {
  override readonly name: string = 'PlumtreeOptionsError';
  constructor(readonly problems: readonly NodeOptionProblem[]) {
    super(listed('Invalid Plumtree options', problems, (p) => `${p.field}: ${p.message}`));
  }
}

/** `title (n problems): a; b; c`. */
function listed<T>(title: string, problems: readonly T[], line: (p: T) => string): string {
  const n = problems.length;
  return `${title} (${n} problem${n === 1 ? '' : 's'}): ${problems.map(line).join('; ')}`;
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
    super(problems);
    this.message = listed('Invalid Plumtree handlers', problems, (p) => `${p.field} ${p.message}`);
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
