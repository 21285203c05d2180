import { describe, expect, it } from '@jest/globals';
import {
  encodeFrame,
  FrameType,
  type GossipMessage,
  type PlumtreeMessage,
} from '@plumtree/plumtree';
import {
  decodeHandoff,
  encodeHandoffAnswer,
  encodeHandoffRequest,
  HandoffType,
} from './handoff-codec.js';

const gossip: GossipMessage = {
  type: FrameType.Gossip,
  topic: 'orders.created',
  id: { origin: 'node/a', epoch: 1_764_000_000_000, seq: 42 },
  hops: 0,
  publishedAtMs: 1_764_000_000_123,
  headers: { trace: 'x' },
  payload: Uint8Array.of(1, 2, 3),
};

describe('hand-off frames', () => {
  it('a request carries a GOSSIP whose body is forwardable as is', () => {
    const frame = encodeHandoffRequest(gossip);
    expect(frame[0]).toBe(0x80);
    const h = decodeHandoff(frame);
    expect(h?.type).toBe(HandoffType.Request);
    if (h?.type !== HandoffType.Request) return;
    expect(h.message).toEqual(gossip);
    expect([...h.gossipFrame]).toEqual([...encodeFrame(gossip)]);
  });

  it('ACK, NACK and HOLD name the topic and the id', () => {
    for (const type of [HandoffType.Ack, HandoffType.Nack, HandoffType.Hold] as const) {
      expect(decodeHandoff(encodeHandoffAnswer(type, 't', gossip.id))).toEqual({
        type,
        topic: 't',
        id: gossip.id,
      });
    }
  });

  it('returns null for malformed input instead of throwing', () => {
    const ok = encodeHandoffRequest(gossip);
    expect(decodeHandoff(new Uint8Array(0))).toBeNull();
    expect(decodeHandoff(Uint8Array.of(0x80))).toBeNull();
    expect(decodeHandoff(Uint8Array.of(0x81, 1, ...ok.subarray(2)))).toBeNull();
    expect(decodeHandoff(Uint8Array.of(0x80, 9, ...ok.subarray(2)))).toBeNull();
    expect(decodeHandoff(ok.subarray(0, ok.length - 1))).toBeNull();
    // A request must carry a GOSSIP with hops 0; an answer a GRAFT with exactly one id.
    expect(
      decodeHandoff(Uint8Array.of(0x80, 1, ...encodeFrame({ ...gossip, hops: 3 }))),
    ).toBeNull();
    const twoIds: PlumtreeMessage = {
      type: FrameType.Graft,
      topic: 't',
      ids: [gossip.id, gossip.id],
    };
    expect(decodeHandoff(Uint8Array.of(0x80, 2, ...encodeFrame(twoIds)))).toBeNull();
  });
});
