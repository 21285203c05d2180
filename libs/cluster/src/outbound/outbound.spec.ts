import { describe, expect, it } from '@jest/globals';
import {
  decodeFrame,
  encodeFrame,
  FrameType,
  type GossipMessage,
  type PlumtreeMessage,
} from '@plumtree/plumtree';
import { Outbound, RUN_MESSAGE_MAX_BYTES, type OutboundHost } from './outbound.js';

function gossip(seq: number, bytes = 16): GossipMessage {
  return {
    type: FrameType.Gossip,
    topic: 't',
    id: { origin: 'o', epoch: 1, seq },
    hops: 1,
    publishedAtMs: 0,
    payload: new Uint8Array(bytes).fill(seq & 0xff),
  };
}

function harness(): {
  out: Outbound;
  sent: { to: string; msg: PlumtreeMessage }[];
  flushes: number;
} {
  const sent: { to: string; msg: PlumtreeMessage }[] = [];
  const h = { flushes: 0 };
  const host: OutboundHost = {
    send: (to, frame) => {
      const d = decodeFrame(frame);
      if (!d.ok) throw new Error(`undecodable frame: ${d.error.reason}`);
      sent.push({ to, msg: d.message });
      return 'queued';
    },
    requestFlush: () => h.flushes++,
    pressuredPeers: () => 0,
    frameFilter: undefined,
    isAlive: () => true,
    demote: () => false,
    countBytesSent: () => {},
    countDrop: () => {},
  };
  const out = new Outbound(host, { ihaveBatch: 64, gossipBytesPerPeer: 1 << 20 });
  return {
    out,
    sent,
    get flushes() {
      return h.flushes;
    },
  };
}

describe('Outbound runs', () => {
  it('sends the GOSSIPs of one flush turn to a peer as one GOSSIP_RUN, decodable, in order', () => {
    const h = harness();
    for (let seq = 1; seq <= 5; seq++) h.out.transmit({ to: 'p', message: gossip(seq) });
    expect(h.sent).toHaveLength(0);
    expect(h.flushes).toBe(1);
    h.out.flushWaiting();
    expect(h.sent).toHaveLength(1);
    const m = h.sent[0]!.msg;
    expect(m.type).toBe(FrameType.GossipRun);
    if (m.type !== FrameType.GossipRun) return;
    expect(m.messages.map((g) => g.id.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('sends payloads above RUN_MESSAGE_MAX_BYTES alone, and waiting GOSSIPs before a control frame', () => {
    const h = harness();
    h.out.transmit({ to: 'p', message: gossip(1) });
    h.out.transmit({ to: 'p', message: gossip(2, RUN_MESSAGE_MAX_BYTES + 1) });
    h.out.transmit({ to: 'p', message: gossip(3, RUN_MESSAGE_MAX_BYTES + 1) });
    h.out.transmit({ to: 'p', message: { type: FrameType.Prune, topic: 't' } });
    expect(h.sent.map((s) => s.msg.type)).toEqual([
      FrameType.Gossip,
      FrameType.Gossip,
      FrameType.Gossip,
      FrameType.Prune,
    ]);
  });
});

describe('Outbound forwarding', () => {
  it('forwards GOSSIP_RUNs received in one turn as the received frames, not one run encoded afresh', () => {
    const h = harness();
    const frames: Uint8Array[] = [];
    for (const seqs of [
      [1, 2, 3],
      [4, 5, 6],
    ]) {
      const messages = seqs.map((seq) => gossip(seq));
      const frame = encodeFrame({ type: FrameType.GossipRun, topic: 't', hops: 1, messages });
      frames.push(frame);
      // What the node does for a received run: remember its bytes, then the core pushes each
      // message on with one more hop.
      h.out.rememberRun(messages, frame);
      for (const m of messages) h.out.transmit({ to: 'p', message: { ...m, hops: 2 } });
    }
    h.out.flushWaiting();
    const runs = h.sent.map((x) => x.msg);
    expect(runs.map((m) => (m.type === FrameType.GossipRun ? m.messages.length : 0))).toEqual([
      3, 3,
    ]);
    expect(h.out.counters().encoder).toMatchObject({ forwardedZeroCopy: 2, runsEncoded: 0 });
    expect(runs.every((m) => m.type === FrameType.GossipRun && m.hops === 2)).toBe(true);
  });
});
