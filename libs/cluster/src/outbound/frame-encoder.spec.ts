import { describe, expect, it } from '@jest/globals';
import { encodeFrame, FrameType, type GossipMessage } from '@plumtree/plumtree';
import { FrameEncoder } from './frame-encoder.js';

const gossip: GossipMessage = {
  type: FrameType.Gossip,
  topic: 'orders.created',
  id: { origin: 'node/a', epoch: 1_764_000_000_000, seq: 42 },
  hops: 0,
  publishedAtMs: 1_764_000_000_123,
  headers: { trace: 'x' },
  payload: Uint8Array.of(1, 2, 3),
};

describe('FrameEncoder', () => {
  it('encodes a message once for several peers and forwards received GOSSIP bytes with the hop count patched', () => {
    const enc = new FrameEncoder();
    const own = { ...gossip, hops: 1 };
    const a = enc.encode(own);
    expect(enc.encode(own)).toBe(a);
    expect(enc.stats).toMatchObject({ encoded: 1, reused: 1 });
    enc.endBatch();

    const received = encodeFrame({ ...gossip, id: { ...gossip.id, seq: 43 }, hops: 4 });
    const id = { ...gossip.id, seq: 43 };
    enc.rememberGossip(id, received);
    const forwarded = enc.encode({ ...gossip, id, hops: 5 });
    expect(forwarded).toBe(received);
    expect([...forwarded]).toEqual([...encodeFrame({ ...gossip, id, hops: 5 })]);
    expect(enc.stats.forwardedZeroCopy).toBe(1);
    // A GRAFT answer for the same id (same hop count) reuses the same bytes.
    enc.endBatch();
    expect(enc.encode({ ...gossip, id, hops: 5 })).toBe(received);
  });
});
