/**
 * Typed errors of request/reply (`PlumtreeNode.request`), one concern each.
 */
import { NoSubscribersError, PlumtreeNodeError } from '../node/errors.js';

/**
 * No reply arrived, or the reply stream did not end: the responder did not answer within
 * `timeoutMs`, or went down (member failed or left, frame connection lost) before it answered;
 * or every responder tried (at most `maxAttempts`) provably did not take the request (not
 * delivered, or no handler) and no other responder was left. A timeout or a lost responder ends
 * the request unless `retryOnTimeout` is set: the handler may have run, and a retry would run it
 * twice.
 */
export class RequestTimeoutError extends PlumtreeNodeError {
  override readonly name = 'RequestTimeoutError';
  constructor(
    readonly topic: string,
    /** Responders tried, in order, each with what happened. */
    readonly attempts: readonly { readonly peer: string; readonly outcome: string }[],
    readonly timeoutMs: number,
  ) {
    super(
      `request on topic ${JSON.stringify(topic)} got no reply (timeout ${timeoutMs} ms per attempt; ` +
        (attempts.length === 0
          ? 'no responder tried)'
          : `tried ${attempts.map((a) => `${a.peer}: ${a.outcome}`).join(', ')})`),
    );
  }
}

/**
 * The responder's handler threw, rejected or its reply stream errored (or its reply could not be
 * sent: too large, not encodable). `error` is what it failed with, as it crossed the wire: for a
 * thrown `Error` its `{ name, message }`, for any other value (a Nest handler's `RpcException`
 * object, `{ status: 'error', message }`) that value itself.
 */
export class RequestHandlerError extends PlumtreeNodeError {
  override readonly name = 'RequestHandlerError';
  constructor(
    readonly topic: string,
    /** The node whose handler failed. */
    readonly peer: string,
    readonly remoteName: string,
    readonly remoteMessage: string,
    /** The error value the handler failed with (see the class comment). */
    readonly error: unknown = { name: remoteName, message: remoteMessage },
  ) {
    super(`handler of ${JSON.stringify(topic)} on ${peer} failed: ${remoteName}: ${remoteMessage}`);
  }
}

/**
 * No live member answers requests on the topic (none registered a handler of it or of a pattern
 * matching it; event-only subscribers do not count). A {@link NoSubscribersError}, so code that
 * caught that one for requests keeps working.
 */
export class NoRespondersError extends NoSubscribersError {
  override readonly name: string = 'NoRespondersError';
  constructor(topic: string) {
    super(topic);
    this.message = `no live member answers requests on topic ${JSON.stringify(topic)}`;
  }
}

/**
 * The responder had too many requests running (`limits.maxRequestsPerPeer` from this node, or
 * `limits.maxRequests` in all) and refused this one without running its handler: retrying later
 * (or on another responder) is safe. Crosses the wire as an error response named
 * `ResponderBusyError`, so a requester of an earlier release sees a `RequestHandlerError`.
 */
export class ResponderBusyError extends PlumtreeNodeError {
  override readonly name = 'ResponderBusyError';
  constructor(
    /** The topic of the refused request. */
    readonly topic: string,
    /** The busy responder. */
    readonly peer: string,
  ) {
    super(`responder ${peer} is busy: request on ${JSON.stringify(topic)} refused, not run`);
  }
}
