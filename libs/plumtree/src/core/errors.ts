/** Base class of errors the Plumtree core throws at its caller (never for peer input). */
export class PlumtreeError extends Error {
  override readonly name: string = 'PlumtreeError';
}

/** `broadcast` with a payload above `maxMessageSize`. */
export class MessageTooLargeError extends PlumtreeError {
  override readonly name = 'MessageTooLargeError';
  constructor(
    readonly size: number,
    readonly maxMessageSize: number,
  ) {
    super(`payload of ${size} bytes exceeds maxMessageSize (${maxMessageSize} bytes)`);
  }
}

/** `broadcast` on a topic this node has not subscribed to (the runtime hands such messages to a subscriber). */
export class NotSubscribedError extends PlumtreeError {
  override readonly name = 'NotSubscribedError';
  constructor(readonly topic: string) {
    super(`not subscribed to topic ${JSON.stringify(topic)}`);
  }
}

/**
 * A topic, node name or header set the frame format or the decoder's default limits cannot carry
 * (`DEFAULT_FRAME_LIMITS`): refused where it enters the core, so no frame the core builds is
 * refused by a peer.
 */
export class UnencodableError extends PlumtreeError {
  override readonly name = 'UnencodableError';
  constructor(
    /** `topic`, `self` or `headers`. */
    readonly field: string,
    problem: string,
  ) {
    super(`${field} ${problem}`);
  }
}
