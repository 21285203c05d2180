/**
 * Typed errors of request/reply (`PlumtreeNode.request`), one concern each.
 */
import { PlumtreeNodeError } from '../node/errors.js';

/**
 * No reply arrived: every responder tried (at most `maxAttempts`, one retry by default) timed
 * out, went down, or had no handler, and no other live subscriber of the topic was left to try.
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

/** The responder's handler threw or rejected; its error's name and message are carried back. */
export class RequestHandlerError extends PlumtreeNodeError {
  override readonly name = 'RequestHandlerError';
  constructor(
    readonly topic: string,
    /** The node whose handler failed. */
    readonly peer: string,
    readonly remoteName: string,
    readonly remoteMessage: string,
  ) {
    super(`handler of ${JSON.stringify(topic)} on ${peer} failed: ${remoteName}: ${remoteMessage}`);
  }
}
