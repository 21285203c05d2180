/**
 * Hand-off frames: how a publisher that does not subscribe to a topic gives a message to a
 * subscriber, and how the subscriber answers. They travel on the frame transport beside the other
 * kinds of frame and are told apart by their first byte (see frame-kinds.ts).
 *
 * | offset | size | field                                                                |
 * |--------|------|----------------------------------------------------------------------|
 * | 0      | 1    | `FrameKind.Handoff` (0x80)                                             |
 * | 1      | 1    | 1 = REQUEST, 2 = ACK, 3 = NACK, 4 = HOLD                              |
 * | 2      | rest | REQUEST: a Plumtree GOSSIP frame (hops 0) holding the message          |
 * |        |      | ACK/NACK/HOLD: a Plumtree GRAFT frame naming the topic and the one id   |
 *
 * HOLD: the subscriber has the request and waits for its publish window to admit it; the ACK
 * follows once it is injected (handoff.ts). A node older than HOLD drops it as malformed
 * (`drops.handoff`) and keeps waiting for the ACK, as before.
 *
 * Reusing the Plumtree frame codec for the body keeps one fuzzed, bounded decoder for every byte
 * that comes off the wire, and lets the subscriber forward the GOSSIP body without re-encoding.
 */
import {
  decodeFrame,
  encodeFrameInto,
  encodedFrameSize,
  FrameType,
  type FrameLimits,
  type GossipMessage,
  type MessageId,
} from '@plumtree/plumtree';
import { FrameKind } from '../frame-kinds.js';

/** First byte of every hand-off frame (`FrameKind.Handoff`). */
export const HANDOFF_FRAME_KIND = FrameKind.Handoff;

/** The second byte of a hand-off frame. */
export enum HandoffType {
  Request = 1,
  Ack = 2,
  Nack = 3,
  /** Received; waiting for the subscriber's publish window (the ACK follows). */
  Hold = 4,
}

/** The answers to a REQUEST. */
export type HandoffAnswerType = HandoffType.Ack | HandoffType.Nack | HandoffType.Hold;

/** A decoded hand-off frame. */
export type HandoffFrame =
  | {
      readonly type: HandoffType.Request;
      readonly message: GossipMessage;
      /** The GOSSIP body (a view of the received bytes), forwardable as is. */
      readonly gossipFrame: Uint8Array;
    }
  | {
      readonly type: HandoffAnswerType;
      readonly topic: string;
      readonly id: MessageId;
    };

/** Encode a REQUEST carrying `message` (hops must be 0). Throws `FrameEncodeError` like `encodeFrame`. */
export function encodeHandoffRequest(message: GossipMessage): Uint8Array {
  const size = encodedFrameSize(message);
  const out = new Uint8Array(2 + size);
  out[0] = FrameKind.Handoff;
  out[1] = HandoffType.Request;
  encodeFrameInto(message, out, 2);
  return out;
}

/** Encode an ACK (injected), NACK (not a subscriber, or refused) or HOLD (waiting) of one message. */
export function encodeHandoffAnswer(
  type: HandoffAnswerType,
  topic: string,
  id: MessageId,
): Uint8Array {
  const body = { type: FrameType.Graft, topic, ids: [id] } as const;
  const out = new Uint8Array(2 + encodedFrameSize(body));
  out[0] = FrameKind.Handoff;
  out[1] = type;
  encodeFrameInto(body, out, 2);
  return out;
}

/** Decode a hand-off frame; null for anything malformed (never throws). */
export function decodeHandoff(
  bytes: Uint8Array,
  limits?: Partial<FrameLimits>,
): HandoffFrame | null {
  if (bytes.length < 2 || bytes[0] !== FrameKind.Handoff) return null;
  const body = bytes.subarray(2);
  const d = decodeFrame(body, limits);
  if (!d.ok) return null;
  const m = d.message;
  switch (bytes[1]) {
    case HandoffType.Request:
      if (m.type !== FrameType.Gossip || m.hops !== 0) return null;
      return { type: HandoffType.Request, message: m, gossipFrame: body };
    case HandoffType.Ack:
    case HandoffType.Nack:
    case HandoffType.Hold:
      if (m.type !== FrameType.Graft || m.ids.length !== 1) return null;
      return { type: bytes[1], topic: m.topic, id: m.ids[0]! };
    default:
      return null;
  }
}
