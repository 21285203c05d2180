import { describe, expect, it } from '@jest/globals';
import {
  encodeFrame,
  FrameType,
  type GossipMessage,
  type PlumtreeMessage,
} from '@plumtree/plumtree';
import {
  APPLICATION_JSON,
  DeferredControl,
  decodeHandoff,
  defaultPayloadCodec,
  encodeHandoffAnswer,
  encodeHandoffRequest,
  formatMessageId,
  FrameEncoder,
  HandoffType,
  OCTET_STREAM,
  parseMessageId,
  rawPayloadCodec,
  TopicPeers,
} from './index.js';

const gossip: GossipMessage = {
  type: FrameType.Gossip,
  topic: 'orders.created',
  id: { origin: 'node/a', epoch: 1_764_000_000_000, seq: 42 },
  hops: 0,
  publishedAtMs: 1_764_000_000_123,
  headers: { trace: 'x' },
  payload: Uint8Array.of(1, 2, 3),
};

describe('payload codecs', () => {
  it('the default codec passes bytes raw and carries other values as JSON', () => {
    const bytes = Uint8Array.of(9, 8);
    expect(defaultPayloadCodec.encode(bytes)).toBe(bytes);
    expect(defaultPayloadCodec.contentTypeOf!(bytes)).toBe(OCTET_STREAM);
    const json = defaultPayloadCodec.encode({ a: [1, 'ü'] });
    expect(defaultPayloadCodec.contentTypeOf!({})).toBe(APPLICATION_JSON);
    expect(defaultPayloadCodec.decode(json, APPLICATION_JSON)).toEqual({ a: [1, 'ü'] });
    expect(defaultPayloadCodec.decode(bytes, OCTET_STREAM)).toBe(bytes);
    expect(() => defaultPayloadCodec.encode(undefined)).toThrow(TypeError);
    expect(() => defaultPayloadCodec.decode(Uint8Array.of(0xff), APPLICATION_JSON)).toThrow();
  });

  it('the raw codec refuses anything but bytes', () => {
    expect(() => rawPayloadCodec.encode('text')).toThrow(TypeError);
  });
});

describe('message ids', () => {
  it('format and parse round-trip, origins with slashes included', () => {
    const text = formatMessageId(gossip.id);
    expect(text).toBe('node/a/1764000000000/42');
    expect(parseMessageId(text)).toEqual(gossip.id);
  });

  it.each(['', 'a', 'a/1', 'a/x/1', 'a/1/0', 'a/1/-1', '/1'])('rejects %j', (s) => {
    expect(parseMessageId(s)).toBeNull();
  });
});

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

  it('ACK and NACK name the topic and the id', () => {
    for (const type of [HandoffType.Ack, HandoffType.Nack] as const) {
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

describe('DeferredControl', () => {
  it('keeps refused PRUNEs and announcements until the transport takes them, PRUNEs first', () => {
    const d = new DeferredControl(3, 2);
    const e = (seq: number) => ({ id: { origin: 'o', epoch: 0, seq }, hops: 1 });
    d.addAnnouncements('p', 't', [e(1), e(2), e(3), e(4)]);
    d.addPrune('p', 't');
    expect(d.dropped).toBe(1);
    const sent: PlumtreeMessage[] = [];
    let room = 2;
    const trySend = (_peer: string, m: PlumtreeMessage): boolean => {
      if (room === 0) return false;
      room--;
      sent.push(m);
      return true;
    };
    d.flush(trySend);
    expect(sent).toEqual([
      { type: FrameType.Prune, topic: 't' },
      { type: FrameType.IHave, topic: 't', entries: [e(1), e(2)] },
    ]);
    expect(d.isEmpty).toBe(false);
    room = 10;
    d.flush(trySend);
    expect(sent[2]).toEqual({ type: FrameType.IHave, topic: 't', entries: [e(3)] });
    expect(d.isEmpty).toBe(true);
  });

  it('forgets a peer that went away', () => {
    const d = new DeferredControl(10, 10);
    d.addPrune('p', 't');
    d.forget('p');
    expect(d.isEmpty).toBe(true);
  });
});

describe('TopicPeers', () => {
  it('reports who left and how many arrived', () => {
    const v = new TopicPeers('t');
    expect(v.update(['a', 'b'])).toEqual({ removed: [], added: 2 });
    expect(v.update(['b', 'c', 'c'])).toEqual({ removed: ['a'], added: 1 });
    expect(v.size).toBe(2);
    expect(v.has('a')).toBe(false);
    expect([v.at(0), v.at(1)].sort()).toEqual(['b', 'c']);
  });
});
