/**
 * Answers to the sender of a frame just received (RPC replies, hand-off ACK/NACK).
 *
 * A sender this node's SWIM has not met yet (its join is still gossiping) has no address here, so
 * the frame transport refuses the answer as `unknown-peer`. It has just sent us a frame, so it is
 * alive: the answer is retried until membership catches up, within a bound, instead of leaving the
 * sender to wait out its own timeout.
 */

/** Retry period of an answer to a sender not yet in the member list. */
export const UNKNOWN_SENDER_RETRY_MS = 50;
/** Retries of such an answer (2 s in all) before it is given up. */
export const UNKNOWN_SENDER_RETRIES = 40;

/** How to send and whether to stop; `onGiveUp` runs when every retry met `unknown-peer`. */
export interface ReplySenderHost {
  readonly send: (peer: string, frame: Uint8Array) => string;
  readonly isClosed: () => boolean;
}

/** Sends `frame` to `to`, retrying while the transport does not know `to` yet (see the file comment). */
export function sendToSender(
  host: ReplySenderHost,
  to: string,
  frame: Uint8Array,
  onGiveUp?: () => void,
): void {
  let tries = 0;
  const attempt = (): void => {
    if (host.isClosed()) return;
    if (host.send(to, frame) !== 'unknown-peer') return;
    if (++tries > UNKNOWN_SENDER_RETRIES) {
      onGiveUp?.();
      return;
    }
    setTimeout(attempt, UNKNOWN_SENDER_RETRY_MS);
  };
  attempt();
}
