import { describe, expect, it } from '@jest/globals';
import { SwimConfigError, type SwimConfigInput } from '../config/swim-config.js';
import { MessageType, NodeStateType } from '../wire/message-types.js';
import type { Alive, Message, PushNodeState } from '../wire/messages.js';
import { parseIp } from './address.js';
import { estimateEncodedSize } from './message-size.js';
import { LEAVE_DIRECT_FANOUT, SwimCore, type SwimCoreOptions } from './swim-core.js';
import type { SwimDelegate, SwimEvent, SwimStreamRequest, SwimTransmit } from './types.js';

// Single-core behaviour, driven by hand: every input is a decoded message, every output is read
// back through poll*. Rules and numbers are memberlist's (state.go, net.go).

const VSN5 = Uint8Array.from([1, 5, 2, 0, 0, 0]);
const VSN2 = Uint8Array.from([1, 2, 2, 0, 0, 0]);
const noMeta = new Uint8Array(0);

function core(config: SwimConfigInput = {}, extra: Partial<SwimCoreOptions> = {}): SwimCore {
  return new SwimCore({
    config: { preset: 'lan', name: 'me', pushPullIntervalMs: 0, gossipIntervalMs: 0, ...config },
    addr: '10.0.0.1',
    port: 7946,
    nowMs: 0,
    seed: 7,
    ...extra,
  });
}

function drain(c: SwimCore): {
  tx: SwimTransmit[];
  streams: SwimStreamRequest[];
  events: SwimEvent[];
} {
  const tx: SwimTransmit[] = [];
  const streams: SwimStreamRequest[] = [];
  const events: SwimEvent[] = [];
  for (let t = c.pollTransmit(); t; t = c.pollTransmit()) tx.push(t);
  for (let s = c.pollStreamRequest(); s; s = c.pollStreamRequest()) streams.push(s);
  for (let e = c.pollEvent(); e; e = c.pollEvent()) events.push(e);
  return { tx, streams, events };
}

function ipOf(i: number): Uint8Array {
  return parseIp(`10.0.0.${i}`)!;
}

function alive(name: string, incarnation: number, ip: number, meta = noMeta, vsn = VSN5): Message {
  const body: Alive = {
    Incarnation: incarnation,
    Node: name,
    Addr: ipOf(ip),
    Port: 7946,
    Meta: meta,
    Vsn: vsn,
  };
  return { type: MessageType.Alive, body };
}

/** A core that knows `peers` alive members n2..n(peers+1), outputs drained. */
function withPeers(
  peers: number,
  config: SwimConfigInput = {},
  extra: Partial<SwimCoreOptions> = {},
  vsn = VSN5,
): SwimCore {
  const c = core(config, extra);
  for (let i = 2; i < peers + 2; i++)
    c.handlePacket(`10.0.0.${i}:7946`, alive(`n${i}`, 1, i, noMeta, vsn), 0);
  drain(c);
  return c;
}

function types(t: SwimTransmit): number[] {
  return t.messages.map((m) => m.type);
}

/** Advance the core to `t`, firing timers on the way as a shell would. */
function runTo(c: SwimCore, t: number): void {
  for (let d = c.pollTimeout(); d !== undefined && d <= t; d = c.pollTimeout()) c.handleTimeout(d);
}

describe('SwimCore: start and membership rules', () => {
  it('announces itself: join event for the local node, one alive broadcast, incarnation 1', () => {
    const c = core();
    const { events } = drain(c);
    expect(events).toEqual([
      {
        type: 'member-join',
        member: expect.objectContaining({ name: 'me', state: 'alive', incarnation: 1 }),
      },
    ]);
    expect(c.queuedBroadcasts.membership).toBe(1);
    expect(c.localMember.address).toBe('10.0.0.1:7946');
    expect(Array.from(c.localMember.addr)).toEqual([10, 0, 0, 1]);
    expect([c.localMember.pMin, c.localMember.pMax, c.localMember.pCur]).toEqual([1, 5, 2]);
  });

  it('starts above a persisted incarnation', () => {
    expect(core({}, { incarnation: 41 }).incarnation).toBe(42);
  });

  it('rejects bad configuration and oversized meta at construction', () => {
    expect(() => core({ probeTimeoutMs: 0, retransmitMult: 0 })).toThrow(SwimConfigError);
    expect(() => core({}, { meta: new Uint8Array(513) })).toThrow(RangeError);
    expect(() => core({}, { addr: 'not-an-ip' })).toThrow(TypeError);
  });

  it('alive: new member joins, older or equal incarnation is ignored, higher updates meta', () => {
    const c = core();
    drain(c);
    c.handlePacket('10.0.0.2:7946', alive('n2', 5, 2), 10);
    expect(drain(c).events).toEqual([
      { type: 'member-join', member: expect.objectContaining({ name: 'n2', incarnation: 5 }) },
    ]);
    c.handlePacket('10.0.0.2:7946', alive('n2', 5, 2, Uint8Array.of(1)), 20);
    c.handlePacket('10.0.0.2:7946', alive('n2', 4, 2, Uint8Array.of(1)), 20);
    expect(drain(c).events).toEqual([]);
    expect(c.member('n2')!.meta).toEqual(noMeta);
    c.handlePacket('10.0.0.2:7946', alive('n2', 6, 2, Uint8Array.of(9)), 30);
    expect(drain(c).events).toEqual([
      {
        type: 'member-update',
        member: expect.objectContaining({ name: 'n2', incarnation: 6, meta: Uint8Array.of(9) }),
      },
    ]);
    expect(c.numMembers()).toBe(2);
  });

  it('alive with invalid protocol versions or refused by the alive filter is dropped', () => {
    const delegate: SwimDelegate = {
      notifyAlive: (n) => (n.name.startsWith('evil') ? 'wrong cluster' : null),
    };
    const c = core({}, { delegate });
    drain(c);
    c.handlePacket('x:1', alive('n2', 1, 2, noMeta, Uint8Array.from([0, 5, 2, 0, 0, 0])), 1);
    c.handlePacket('x:1', alive('evil3', 1, 3), 1);
    expect(c.member('n2')).toBeUndefined();
    expect(c.member('evil3')).toBeUndefined();
    expect(c.stats.drops['bad-protocol-version']).toBe(1);
    expect(c.stats.drops['alive-filtered']).toBe(1);
  });

  it('name conflict: same name from another address raises a conflict event and changes nothing', () => {
    const c = withPeers(1);
    c.handlePacket('10.0.0.9:7946', alive('n2', 7, 9), 5);
    const { events } = drain(c);
    expect(events).toEqual([
      {
        type: 'conflict',
        existing: expect.objectContaining({ name: 'n2', address: '10.0.0.2:7946' }),
        other: expect.objectContaining({ name: 'n2', address: '10.0.0.9:7946' }),
      },
    ]);
    expect(c.member('n2')).toMatchObject({ address: '10.0.0.2:7946', incarnation: 1 });
  });

  it('a left member may come back from a new address (memberlist updates the address)', () => {
    const c = withPeers(1);
    c.handlePacket(
      '10.0.0.2:7946',
      { type: MessageType.Dead, body: { Incarnation: 1, Node: 'n2', From: 'n2' } },
      5,
    );
    expect(c.member('n2')!.state).toBe('left');
    c.handlePacket('10.0.0.9:7946', alive('n2', 1, 9), 6);
    expect(c.member('n2')).toMatchObject({ state: 'alive', address: '10.0.0.9:7946' });
    expect(drain(c).events.map((e) => e.type)).toEqual(['member-left', 'member-join']);
  });

  it('dead from another member is a failure; dead from the member itself is a leave', () => {
    const c = withPeers(2);
    c.handlePacket(
      'x:1',
      { type: MessageType.Dead, body: { Incarnation: 1, Node: 'n2', From: 'n3' } },
      5,
    );
    c.handlePacket(
      'x:1',
      { type: MessageType.Dead, body: { Incarnation: 1, Node: 'n3', From: 'n3' } },
      5,
    );
    expect(c.member('n2')!.state).toBe('dead');
    expect(c.member('n3')!.state).toBe('left');
    expect(drain(c).events.map((e) => e.type)).toEqual(['member-failed', 'member-left']);
    expect(c.members().map((m) => m.name)).toEqual(['me']);
  });

  it('dead with an older incarnation is ignored', () => {
    const c = withPeers(1);
    c.handlePacket('x:1', alive('n2', 3, 2), 1);
    c.handlePacket(
      'x:1',
      { type: MessageType.Dead, body: { Incarnation: 2, Node: 'n2', From: 'n3' } },
      2,
    );
    expect(c.member('n2')!.state).toBe('alive');
  });
});

describe('SwimCore: refutation', () => {
  it('a suspicion about us is refuted with an incarnation above the accusation', () => {
    const c = withPeers(2);
    c.handlePacket(
      'x:1',
      { type: MessageType.Suspect, body: { Incarnation: 7, Node: 'me', From: 'n2' } },
      5,
    );
    expect(c.incarnation).toBe(8);
    expect(c.localMember.state).toBe('alive');
    expect(c.healthScore).toBe(1);
    expect(c.stats.refutes).toBe(1);
    // The refuting alive replaces the queued one about us and rides the next packet.
    c.handlePacket('10.0.0.2:7946', { type: MessageType.Ping, body: { SeqNo: 1, Node: 'me' } }, 6);
    const sent = drain(c).tx[0]!.messages;
    expect(sent).toContainEqual({
      type: MessageType.Alive,
      body: expect.objectContaining({ Node: 'me', Incarnation: 8 }),
    });
  });

  it('a suspicion at a lower incarnation than ours still bumps by one', () => {
    const c = withPeers(2, {}, { incarnation: 10 });
    c.handlePacket(
      'x:1',
      { type: MessageType.Suspect, body: { Incarnation: 11, Node: 'me', From: 'n2' } },
      5,
    );
    expect(c.incarnation).toBe(12);
    c.handlePacket(
      'x:1',
      { type: MessageType.Suspect, body: { Incarnation: 3, Node: 'me', From: 'n2' } },
      5,
    );
    expect(c.incarnation).toBe(12);
  });

  it('a dead claim about us is refuted unless we are leaving', () => {
    const c = withPeers(1);
    c.handlePacket(
      'x:1',
      { type: MessageType.Dead, body: { Incarnation: 1, Node: 'me', From: 'n2' } },
      5,
    );
    expect(c.localMember.state).toBe('alive');
    expect(c.incarnation).toBe(2);
  });

  it('an alive about us with other meta at our incarnation (a previous life) is refuted', () => {
    const c = withPeers(1);
    c.handlePacket(
      'x:1',
      {
        type: MessageType.Alive,
        body: {
          Incarnation: 1,
          Node: 'me',
          Addr: ipOf(1),
          Port: 7946,
          Meta: Uint8Array.of(1),
          Vsn: VSN2,
        },
      },
      5,
    );
    expect(c.incarnation).toBe(2);
    // An echo of our own alive is not.
    const self = c.localMember;
    c.handlePacket(
      'x:1',
      {
        type: MessageType.Alive,
        body: {
          Incarnation: 2,
          Node: 'me',
          Addr: self.addr,
          Port: 7946,
          Meta: noMeta,
          Vsn: Uint8Array.from([1, 5, 2, 0, 0, 0]),
        },
      },
      6,
    );
    expect(c.incarnation).toBe(2);
  });
});

describe('SwimCore: probing', () => {
  it('pings the next member at each probe interval, piggybacking broadcasts; an ack gives the RTT', () => {
    const c = withPeers(1);
    expect(c.pollTimeout()).toBe(1000);
    c.handleTimeout(1000);
    const { tx } = drain(c);
    expect(tx).toHaveLength(1);
    expect(tx[0]!.to).toEqual({ addr: '10.0.0.2:7946', name: 'n2' });
    expect(types(tx[0]!)).toEqual([MessageType.Ping, MessageType.Alive, MessageType.Alive]);
    const ping = tx[0]!.messages[0]!.body as { SeqNo: number; Node: string; SourceNode: string };
    expect(ping).toMatchObject({ Node: 'n2', SourceNode: 'me', SourcePort: 7946 });
    c.handlePacket(
      '10.0.0.2:7946',
      { type: MessageType.AckResp, body: { SeqNo: ping.SeqNo, Payload: Uint8Array.of(42) } },
      1012,
    );
    const { events } = drain(c);
    expect(events).toEqual([
      {
        type: 'ping-complete',
        member: expect.objectContaining({ name: 'n2' }),
        rttMs: 12,
        payload: Uint8Array.of(42),
      },
    ]);
    expect(c.member('n2')!.state).toBe('alive');
    expect(c.pollTimeout()).toBe(2000);
  });

  it('answers a ping with an ack to the source address it names, with the delegate payload', () => {
    const c = withPeers(1, {}, { delegate: { ackPayload: () => Uint8Array.of(7) } });
    c.handlePacket(
      '192.168.1.1:5000',
      {
        type: MessageType.Ping,
        body: { SeqNo: 9, Node: 'me', SourceAddr: ipOf(2), SourcePort: 7946, SourceNode: 'n2' },
      },
      1,
    );
    const { tx } = drain(c);
    expect(tx[0]!.to).toEqual({ addr: '10.0.0.2:7946', name: 'n2' });
    expect(tx[0]!.messages[0]).toEqual({
      type: MessageType.AckResp,
      body: { SeqNo: 9, Payload: Uint8Array.of(7) },
    });
    // Without a source the reply goes to the sender; a ping for another name is dropped.
    c.handlePacket(
      '192.168.1.1:5000',
      { type: MessageType.Ping, body: { SeqNo: 10, Node: '' } },
      1,
    );
    expect(drain(c).tx[0]!.to.addr).toBe('192.168.1.1:5000');
    c.handlePacket(
      '192.168.1.1:5000',
      { type: MessageType.Ping, body: { SeqNo: 11, Node: 'other' } },
      1,
    );
    expect(drain(c).tx).toEqual([]);
    expect(c.stats.drops['ping-wrong-node']).toBe(1);
  });

  it('no ack within the probe timeout: indirect pings with nacks, a TCP fallback ping, then suspicion', () => {
    const c = withPeers(4);
    c.handleTimeout(1000);
    const direct = drain(c).tx[0]!;
    const target = direct.to.name;
    const seq = (direct.messages[0]!.body as { SeqNo: number }).SeqNo;
    expect(c.pollTimeout()).toBe(1500);
    c.handleTimeout(1500);
    const { tx, streams } = drain(c);
    // Up to indirectChecks (3) helpers: memberlist's kRandomNodes draws 3n times at random, so on a
    // 5-node cluster it can return fewer than the 3 eligible helpers.
    expect(tx.length).toBeGreaterThanOrEqual(1);
    expect(tx.length).toBeLessThanOrEqual(3);
    expect(new Set(tx.map((t) => t.to.name)).size).toBe(tx.length);
    for (const t of tx) {
      expect(t.to.name).not.toBe(target);
      expect(t.messages[0]).toEqual({
        type: MessageType.IndirectPing,
        body: expect.objectContaining({
          SeqNo: seq,
          Node: target,
          Nack: true,
          Port: 7946,
          SourceNode: 'me',
        }),
      });
    }
    expect(streams).toEqual([
      expect.objectContaining({
        kind: 'ping',
        to: direct.to,
        deadlineMs: 2000,
        ping: expect.objectContaining({ SeqNo: seq, Node: target }),
      }),
    ]);
    // One helper nacks: each missing nack raises the health score by 1 (memberlist probeNode).
    c.handlePacket('x:1', { type: MessageType.NackResp, body: { SeqNo: seq } }, 1600);
    c.handleTimeout(2000);
    expect(c.member(target)!.state).toBe('suspect');
    expect(c.healthScore).toBe(tx.length - 1);
    expect(drain(c).events.map((e) => e.type)).toEqual(['member-suspect', 'health-score']);
    expect(c.stats.probeFailures).toBe(1);
  });

  describe('suspectOnRefusedFallback', () => {
    /** Runs a probe to its indirect phase; returns what the test needs to finish it. */
    function failingProbe(config: SwimConfigInput = {}) {
      const c = withPeers(4, config);
      c.handleTimeout(1000);
      const direct = drain(c).tx[0]!;
      const seq = (direct.messages[0]!.body as { SeqNo: number }).SeqNo;
      c.handleTimeout(1500);
      const { tx, streams } = drain(c);
      const nackAll = (at: number) => {
        for (let i = 0; i < tx.length; i++) {
          c.handlePacket('x:1', { type: MessageType.NackResp, body: { SeqNo: seq } }, at);
        }
      };
      return { c, target: direct.to.name, streamId: streams[0]!.id, nackAll };
    }

    it('a refused TCP fallback plus every nack ends the probe at once with a suspicion', () => {
      const { c, target, streamId, nackAll } = failingProbe();
      c.handleStreamPingResult(streamId, null, 1510, true);
      expect(c.member(target)!.state).toBe('alive'); // the helpers have not answered yet
      nackAll(1700);
      expect(c.member(target)!.state).toBe('suspect');
      expect(c.healthScore).toBe(0); // every nack came: this node is healthy
    });

    it('nacks first, refusal last also ends it', () => {
      const { c, target, streamId, nackAll } = failingProbe();
      nackAll(1700);
      expect(c.member(target)!.state).toBe('alive');
      c.handleStreamPingResult(streamId, null, 1710, true);
      expect(c.member(target)!.state).toBe('suspect');
    });

    it('a fallback that failed otherwise (timeout, reset) waits for the deadline', () => {
      const { c, target, streamId, nackAll } = failingProbe();
      c.handleStreamPingResult(streamId, null, 1510, false);
      nackAll(1700);
      expect(c.member(target)!.state).toBe('alive');
      c.handleTimeout(2000);
      expect(c.member(target)!.state).toBe('suspect');
    });

    it('turned off, a refusal changes nothing (memberlist)', () => {
      const { c, target, streamId, nackAll } = failingProbe({ suspectOnRefusedFallback: false });
      c.handleStreamPingResult(streamId, null, 1510, true);
      nackAll(1700);
      expect(c.member(target)!.state).toBe('alive');
      c.handleTimeout(2000);
      expect(c.member(target)!.state).toBe('suspect');
    });
  });

  it('helpers below protocol 4 get no nack request and a failed probe costs one health point', () => {
    const c = withPeers(4, {}, {}, VSN2);
    c.handleTimeout(1000);
    drain(c);
    c.handleTimeout(1500);
    const { tx, streams } = drain(c);
    expect(tx.every((t) => (t.messages[0]!.body as { Nack: boolean }).Nack === false)).toBe(true);
    // Members below protocol 3 do not get a TCP ping either.
    expect(streams).toEqual([]);
    c.handleTimeout(2000);
    expect(c.healthScore).toBe(1);
  });

  it('an indirect ack saves the target without an RTT sample', () => {
    const c = withPeers(4);
    c.handleTimeout(1000);
    const seq = (drain(c).tx[0]!.messages[0]!.body as { SeqNo: number }).SeqNo;
    c.handleTimeout(1500);
    drain(c);
    c.handlePacket(
      '10.0.0.3:7946',
      { type: MessageType.AckResp, body: { SeqNo: seq, Payload: noMeta } },
      1700,
    );
    c.handleTimeout(2000);
    expect(c.members().every((m) => m.state === 'alive')).toBe(true);
    expect(drain(c).events.some((e) => e.type === 'ping-complete')).toBe(false);
    expect(c.healthScore).toBe(0);
  });

  it('a TCP fallback ack saves the target (network may be misconfigured)', () => {
    const c = withPeers(4);
    c.handleTimeout(1000);
    const seq = (drain(c).tx[0]!.messages[0]!.body as { SeqNo: number }).SeqNo;
    c.handleTimeout(1500);
    const stream = drain(c).streams[0]!;
    c.handleStreamPingResult(stream.id, { SeqNo: seq, Payload: noMeta }, 1600);
    c.handleTimeout(2000);
    expect(c.members().every((m) => m.state === 'alive')).toBe(true);
    // An ack with the wrong sequence number does not count.
    c.handleTimeout(3000);
    const seq2 = (drain(c).tx[0]!.messages[0]!.body as { SeqNo: number }).SeqNo;
    c.handleTimeout(3500);
    const stream2 = drain(c).streams[0]!;
    c.handleStreamPingResult(stream2.id, { SeqNo: seq2 + 100, Payload: noMeta }, 3600);
    c.handleTimeout(4000);
    expect(c.members().filter((m) => m.state === 'suspect')).toHaveLength(1);
  });

  it('disableTcpPings and the per-node hook turn the fallback off', () => {
    for (const c of [
      withPeers(2, { disableTcpPings: true }),
      withPeers(2, {}, { delegate: { disableTcpPingsForNode: () => true } }),
    ]) {
      c.handleTimeout(1000);
      c.handleTimeout(1500);
      expect(drain(c).streams).toEqual([]);
    }
  });

  it('awareness stretches the probe: score s makes the probe last (s+1) probe intervals', () => {
    const c = withPeers(4);
    c.handlePacket(
      'x:1',
      { type: MessageType.Suspect, body: { Incarnation: 1, Node: 'me', From: 'n2' } },
      0,
    );
    c.handlePacket(
      'x:1',
      { type: MessageType.Suspect, body: { Incarnation: 2, Node: 'me', From: 'n2' } },
      0,
    );
    expect(c.healthScore).toBe(2);
    c.handleTimeout(1000);
    drain(c);
    // The probe timeout is not scaled (memberlist: waiting longer does not help UDP through)...
    c.handleTimeout(1500);
    expect(drain(c).tx.length).toBeGreaterThanOrEqual(1); // the indirect pings
    // ...but the probe deadline is: 3 x 1 s. Ticks that come during the probe collapse into one.
    expect(c.pollTimeout()).toBe(2000);
    c.handleTimeout(2000);
    c.handleTimeout(3000);
    expect(drain(c).tx).toEqual([]);
    c.handleTimeout(4000);
    expect(c.members().filter((m) => m.state === 'suspect')).toHaveLength(1);
    // The pending tick starts the next probe as soon as this one ends.
    expect(drain(c).tx[0]!.messages[0]!.type).toBe(MessageType.Ping);
  });

  it('a suspect target gets the suspicion with the ping, in one packet without piggyback', () => {
    const c = withPeers(1);
    c.handlePacket(
      'x:1',
      { type: MessageType.Suspect, body: { Incarnation: 1, Node: 'n2', From: 'n3' } },
      0,
    );
    drain(c);
    c.handleTimeout(1000);
    const t = drain(c).tx[0]!;
    expect(types(t)).toEqual([MessageType.Ping, MessageType.Suspect]);
    expect(t.messages[1]!.body).toEqual({ Incarnation: 1, Node: 'n2', From: 'me' });
    expect(t.crc).toBe(true);
  });

  it('probes every member once per pass, skipping dead ones, and reaps the dead after gossipToTheDeadTime', () => {
    const c = withPeers(4, { gossipToTheDeadTimeMs: 2500 });
    c.handlePacket(
      'x:1',
      { type: MessageType.Dead, body: { Incarnation: 1, Node: 'n5', From: 'n2' } },
      0,
    );
    const probed: string[] = [];
    for (let t = 1000; t <= 6000; t += 1000) {
      c.handleTimeout(t);
      const { tx } = drain(c);
      const ping = tx.find((x) => x.messages[0]!.type === MessageType.Ping)!;
      probed.push(ping.to.name);
      c.handlePacket(
        ping.to.addr,
        {
          type: MessageType.AckResp,
          body: { SeqNo: (ping.messages[0]!.body as { SeqNo: number }).SeqNo, Payload: noMeta },
        },
        t + 1,
      );
    }
    expect(probed).not.toContain('n5');
    expect(new Set(probed.slice(0, 3))).toEqual(new Set(['n2', 'n3', 'n4']));
    expect(new Set(probed.slice(3, 6))).toEqual(new Set(['n2', 'n3', 'n4']));
    expect(c.member('n5')).toBeUndefined();
    expect(c.estNumNodes()).toBe(4);
  });
});

describe('SwimCore: indirect probes for others', () => {
  it('relays: pings the target, forwards its ack under the original sequence number', () => {
    const c = withPeers(2);
    c.handlePacket(
      '10.0.0.2:7946',
      {
        type: MessageType.IndirectPing,
        body: {
          SeqNo: 77,
          Target: ipOf(3),
          Port: 7946,
          Node: 'n3',
          Nack: true,
          SourceAddr: ipOf(2),
          SourcePort: 7946,
          SourceNode: 'n2',
        },
      },
      10,
    );
    const ping = drain(c).tx[0]!;
    expect(ping.to).toEqual({ addr: '10.0.0.3:7946', name: 'n3' });
    const local = (ping.messages[0]!.body as { SeqNo: number }).SeqNo;
    c.handlePacket(
      '10.0.0.3:7946',
      { type: MessageType.AckResp, body: { SeqNo: local, Payload: noMeta } },
      20,
    );
    const fwd = drain(c).tx[0]!;
    expect(fwd.to).toEqual({ addr: '10.0.0.2:7946', name: 'n2' });
    expect(fwd.messages[0]).toEqual({
      type: MessageType.AckResp,
      body: { SeqNo: 77, Payload: noMeta },
    });
    // No nack after an ack.
    runTo(c, 600);
    expect(drain(c).tx.filter((t) => t.messages[0]!.type === MessageType.NackResp)).toEqual([]);
  });

  it('sends a nack after the probe timeout when asked to, and nothing when not', () => {
    const c = withPeers(2, { probeIntervalMs: 0 });
    const req = (seq: number, nack: boolean): Message => ({
      type: MessageType.IndirectPing,
      body: {
        SeqNo: seq,
        Target: ipOf(3),
        Port: 7946,
        Node: 'n3',
        Nack: nack,
        SourceAddr: ipOf(2),
        SourcePort: 7946,
        SourceNode: 'n2',
      },
    });
    c.handlePacket('10.0.0.2:7946', req(1, true), 0);
    c.handlePacket('10.0.0.2:7946', req(2, false), 0);
    drain(c);
    expect(c.pollTimeout()).toBe(500);
    c.handleTimeout(500);
    const { tx } = drain(c);
    expect(tx).toHaveLength(1);
    expect(tx[0]!.messages[0]).toEqual({ type: MessageType.NackResp, body: { SeqNo: 1 } });
    expect(c.pollTimeout()).toBeUndefined();
  });
});

describe('SwimCore: suspicion (Lifeguard)', () => {
  // 6 nodes, LAN: k = suspicionMult - 2 = 2; min = 4 x 1 x 1 s = 4 s (log10(6) < 1), max = 24 s.
  it('starts at the max timeout and shrinks with independent confirmations to the min', () => {
    const c = withPeers(5);
    const suspect = (from: string, at: number) =>
      c.handlePacket(
        'x:1',
        { type: MessageType.Suspect, body: { Incarnation: 1, Node: 'n2', From: from } },
        at,
      );
    suspect('n3', 100);
    expect(c.suspicion('n2')).toEqual({ deadlineMs: 24_100, confirmations: 0 });
    suspect('n3', 150); // same accuser: no new information
    expect(c.suspicion('n2')).toEqual({ deadlineMs: 24_100, confirmations: 0 });
    suspect('n4', 200); // remaining(1, 2) = 24 - ln2/ln3 x 20 = 11.381 s from the start
    expect(c.suspicion('n2')).toEqual({ deadlineMs: 11_481, confirmations: 1 });
    suspect('n5', 300); // k reached: the min, 4 s from the start
    expect(c.suspicion('n2')).toEqual({ deadlineMs: 4_100, confirmations: 2 });
    const regossiped = c.queuedBroadcasts.membership;
    suspect('n6', 350); // beyond k: ignored, not re-gossiped
    expect(c.queuedBroadcasts.membership).toBe(regossiped);
    expect(c.suspicion('n2')!.deadlineMs).toBe(4_100);
    // Drive time without probing n2's accusers into the picture: ack every probe.
    for (let t = c.pollTimeout()!; t <= 4_100; t = c.pollTimeout()!) {
      c.handleTimeout(t);
      for (const x of drain(c).tx) {
        const m = x.messages[0]!;
        if (m.type === MessageType.Ping && x.to.name !== 'n2') {
          c.handlePacket(
            x.to.addr,
            { type: MessageType.AckResp, body: { SeqNo: m.body.SeqNo, Payload: noMeta } },
            t,
          );
        }
      }
      if (t < 4_100) expect(c.member('n2')!.state).toBe('suspect');
    }
    expect(c.member('n2')!.state).toBe('dead');
    expect(c.suspicion('n2')).toBeUndefined();
  });

  /** The target of the first ping the next probe tick sends. */
  function nextProbeTarget(c: SwimCore, from: number): string | undefined {
    for (let t = c.pollTimeout(); t !== undefined && t <= from + 2_000; t = c.pollTimeout()) {
      c.handleTimeout(t);
      const ping = drain(c).tx.find((x) => x.messages[0]!.type === MessageType.Ping);
      if (ping) return ping.to.name;
    }
    return undefined;
  }

  it('a suspicion heard from another member makes the next probe check the suspect (suspicionProbeFanout)', () => {
    // Round-robin alone: what the first tick probes without any suspicion.
    const plain = nextProbeTarget(withPeers(5), 0);
    const target = ['n2', 'n4', 'n5', 'n6'].find((n) => n !== plain)!;
    const suspect = (c: SwimCore) => {
      c.handlePacket(
        'x:1',
        { type: MessageType.Suspect, body: { Incarnation: 1, Node: target, From: 'n3' } },
        10,
      );
      drain(c);
    };
    const c = withPeers(5);
    suspect(c);
    expect(nextProbeTarget(c, 10)).toBe(target);
    // memberlist's behaviour when turned off.
    const off = withPeers(5, { suspicionProbeFanout: 0 });
    suspect(off);
    expect(nextProbeTarget(off, 10)).toBe(plain);
  });

  it('a failed priority probe confirms the suspicion with our own suspect message', () => {
    const c = withPeers(5);
    c.handlePacket(
      'x:1',
      { type: MessageType.Suspect, body: { Incarnation: 1, Node: 'n5', From: 'n3' } },
      10,
    );
    expect(c.suspicion('n5')!.confirmations).toBe(0);
    runTo(c, 2_100); // the probe of n5 and its deadline pass without an ack
    expect(c.suspicion('n5')!.confirmations).toBe(1);
  });

  it('in a large cluster only about suspicionProbeFanout members answer a suspicion with a probe', () => {
    let prioritised = 0;
    const trials = 200;
    for (let seed = 1; seed <= trials; seed++) {
      const c = withPeers(101, { probeIntervalMs: 1_000 }, { seed });
      c.handlePacket(
        'x:1',
        { type: MessageType.Suspect, body: { Incarnation: 1, Node: 'n50', From: 'n3' } },
        10,
      );
      drain(c);
      if (nextProbeTarget(c, 10) === 'n50') prioritised++;
    }
    // p = 4 / 100 per member, plus the 1 % chance that round-robin picks n50 anyway: about 10 of 200.
    expect(prioritised).toBeGreaterThanOrEqual(2);
    expect(prioritised).toBeLessThanOrEqual(25);
  });

  it('a death this node declares is also sent directly to deadNoticeFanout alive members', () => {
    const deadSends = (fanout: number): string[] => {
      const c = withPeers(8, { probeIntervalMs: 0, deadNoticeFanout: fanout });
      c.handlePacket(
        'x:1',
        { type: MessageType.Suspect, body: { Incarnation: 1, Node: 'n2', From: 'n3' } },
        0,
      );
      drain(c);
      runTo(c, 60_000);
      expect(c.member('n2')!.state).toBe('dead');
      return drain(c)
        .tx.filter(
          (x) =>
            x.messages.length === 1 &&
            x.messages[0]!.type === MessageType.Dead &&
            x.messages[0]!.body.Node === 'n2' &&
            x.messages[0]!.body.From === 'me',
        )
        .map((x) => x.to.name);
    };
    const told = deadSends(4);
    expect(told).toHaveLength(4);
    expect(new Set(told).size).toBe(4);
    expect(told).not.toContain('n2');
    expect(deadSends(0)).toEqual([]);
  });

  it('with too few members to confirm (n - 2 < k) the min timeout applies at once', () => {
    const c = withPeers(2); // n = 3, k = 2 > 1
    c.handlePacket(
      'x:1',
      { type: MessageType.Suspect, body: { Incarnation: 1, Node: 'n2', From: 'n3' } },
      0,
    );
    expect(c.suspicion('n2')).toEqual({ deadlineMs: 4_000, confirmations: 0 });
  });

  it('an alive with a higher incarnation clears the suspicion; one at the same incarnation does not', () => {
    const c = withPeers(5, { probeIntervalMs: 0 });
    c.handlePacket(
      'x:1',
      { type: MessageType.Suspect, body: { Incarnation: 1, Node: 'n2', From: 'n3' } },
      0,
    );
    c.handlePacket('x:1', alive('n2', 1, 2), 10);
    expect(c.member('n2')!.state).toBe('suspect');
    c.handlePacket('x:1', alive('n2', 2, 2), 20);
    expect(c.member('n2')!.state).toBe('alive');
    expect(c.pollTimeout()).toBeUndefined();
  });

  it('suspect about an unknown node or with an old incarnation is ignored', () => {
    const c = withPeers(2, { probeIntervalMs: 0 });
    c.handlePacket('x:1', alive('n2', 4, 2), 0);
    c.handlePacket(
      'x:1',
      { type: MessageType.Suspect, body: { Incarnation: 3, Node: 'n2', From: 'n3' } },
      1,
    );
    c.handlePacket(
      'x:1',
      { type: MessageType.Suspect, body: { Incarnation: 9, Node: 'zz', From: 'n3' } },
      1,
    );
    expect(c.member('n2')!.state).toBe('alive');
    expect(c.member('zz')).toBeUndefined();
  });
});

describe('SwimCore: dissemination', () => {
  it('gossips to gossipNodes members every gossip interval until the queue is empty', () => {
    const c = withPeers(5, { gossipIntervalMs: 200, probeIntervalMs: 0 });
    // 6 members: retransmit limit 4 x ceil(log10(7)) = 4 per broadcast; 6 queued alives.
    const rounds: number[] = [];
    for (let t = 200; t <= 2000; t += 200) {
      c.handleTimeout(t);
      rounds.push(drain(c).tx.length);
    }
    expect(rounds[0]).toBe(3);
    expect(rounds.at(-1)).toBe(0);
    expect(c.queuedBroadcasts.membership).toBe(0);
  });

  it('gossips to recently dead members, not to those dead longer than gossipToTheDeadTime, never to left ones', () => {
    const c = withPeers(2, {
      gossipIntervalMs: 200,
      gossipNodes: 5,
      probeIntervalMs: 0,
      gossipToTheDeadTimeMs: 1000,
    });
    c.handlePacket(
      'x:1',
      { type: MessageType.Dead, body: { Incarnation: 1, Node: 'n2', From: 'n3' } },
      0,
    );
    c.handlePacket(
      'x:1',
      { type: MessageType.Dead, body: { Incarnation: 1, Node: 'n3', From: 'n3' } },
      0,
    );
    c.handlePacket('x:1', alive('n4', 1, 4), 0);
    const early = new Set<string>();
    for (let t = 200; t <= 1000; t += 200) {
      c.queueBroadcast(Uint8Array.of(t & 255));
      c.handleTimeout(t);
      for (const x of drain(c).tx) early.add(x.to.name);
    }
    expect(early).toEqual(new Set(['n2', 'n4']));
    const late = new Set<string>();
    for (let t = 1200; t <= 2000; t += 200) {
      c.queueBroadcast(Uint8Array.of(t & 255));
      c.handleTimeout(t);
      for (const x of drain(c).tx) late.add(x.to.name);
    }
    expect(late).toEqual(new Set(['n4']));
  });

  it('a newer broadcast about a member replaces the queued one', () => {
    const c = withPeers(1, { probeIntervalMs: 0 });
    const before = c.queuedBroadcasts.membership;
    c.handlePacket('x:1', alive('n2', 2, 2), 0);
    c.handlePacket('x:1', alive('n2', 3, 2), 0);
    c.handlePacket(
      'x:1',
      { type: MessageType.Suspect, body: { Incarnation: 3, Node: 'n2', From: 'n9' } },
      0,
    );
    expect(c.queuedBroadcasts.membership).toBe(before);
  });

  it('user broadcasts ride behind membership broadcasts within the packet budget', () => {
    const c = withPeers(3, { udpBufferSize: 400, gossipIntervalMs: 200, probeIntervalMs: 0 });
    for (let i = 0; i < 20; i++) c.queueBroadcast(new Uint8Array(100).fill(i));
    c.handleTimeout(200);
    const { tx } = drain(c);
    expect(tx.length).toBeGreaterThan(0);
    for (const t of tx) {
      const size = 2 + t.messages.reduce((s, m) => s + 2 + estimateEncodedSize(m), 0);
      expect(size).toBeLessThanOrEqual(400);
      const kinds = types(t);
      // Membership first, user messages after.
      expect(kinds.indexOf(MessageType.User)).toBeGreaterThanOrEqual(
        kinds.lastIndexOf(MessageType.Alive),
      );
    }
    expect(tx.some((t) => types(t).includes(MessageType.User))).toBe(true);
  });

  it('the delegate getBroadcasts fills what the user queue leaves', () => {
    const seen: Array<[number, number]> = [];
    const delegate: SwimDelegate = {
      getBroadcasts: (overhead, limit) => {
        seen.push([overhead, limit]);
        return [Uint8Array.of(5, 5)];
      },
    };
    const c = withPeers(1, { probeIntervalMs: 0 }, { delegate });
    c.sendToAddress({ addr: '10.0.0.2:7946', name: 'n2' }, Uint8Array.of(1));
    expect(types(drain(c).tx[0]!)).toEqual([MessageType.User]); // best-effort sends do not piggyback
    c.handlePacket('10.0.0.2:7946', { type: MessageType.Ping, body: { SeqNo: 1, Node: 'me' } }, 1);
    const t = drain(c).tx[0]!;
    expect(t.messages.at(-1)).toEqual({ type: MessageType.User, body: Uint8Array.of(5, 5) });
    expect(seen[0]![0]).toBe(3); // compound overhead 2 + user message type byte 1
  });

  it('a received user message becomes an event', () => {
    const c = core();
    drain(c);
    c.handlePacket('10.0.0.5:1', { type: MessageType.User, body: Uint8Array.of(1, 2) }, 1);
    expect(drain(c).events).toEqual([
      { type: 'user-message', from: '10.0.0.5:1', payload: Uint8Array.of(1, 2) },
    ]);
  });
});

describe('SwimCore: push-pull', () => {
  const state = (name: string, s: number, inc: number, ip: number, vsn = VSN5): PushNodeState => ({
    Name: name,
    Addr: ipOf(ip),
    Port: 7946,
    Meta: noMeta,
    Incarnation: inc,
    State: s as PushNodeState['State'],
    Vsn: vsn,
  });

  it('join opens a push-pull stream per seed with our full state; the answer merges', () => {
    const c = core(
      { pushPullIntervalMs: 0 },
      { delegate: { localState: (join) => Uint8Array.of(join ? 1 : 0) } },
    );
    drain(c);
    c.join(['10.0.0.2:7946'], 5);
    const { streams } = drain(c);
    expect(streams).toEqual([
      expect.objectContaining({
        kind: 'push-pull',
        to: { addr: '10.0.0.2:7946', name: '' },
        deadlineMs: 10_005,
      }),
    ]);
    const req = streams[0]! as Extract<SwimStreamRequest, { kind: 'push-pull' }>;
    expect(req.local.join).toBe(true);
    expect(req.local.userState).toEqual(Uint8Array.of(1));
    expect(req.local.nodes).toEqual([
      expect.objectContaining({ Name: 'me', State: NodeStateType.Alive, Incarnation: 1 }),
    ]);
    c.handlePushPullResponse(
      req.id,
      [state('n2', NodeStateType.Alive, 3, 2), state('n3', NodeStateType.Alive, 1, 3)],
      noMeta,
      10,
    );
    expect(c.numMembers()).toBe(3);
    expect(drain(c).events.map((e) => e.type)).toEqual([
      'member-join',
      'member-join',
      'join-result',
    ]);
  });

  it('merge rules: remote dead only makes us suspect, remote left is believed', () => {
    const c = withPeers(3, { probeIntervalMs: 0 });
    const answer = c.handlePushPull(
      '10.0.0.2:7946',
      [
        state('n2', NodeStateType.Dead, 1, 2),
        state('n3', NodeStateType.Left, 1, 3),
        state('n4', NodeStateType.Suspect, 1, 4),
      ],
      noMeta,
      false,
      10,
    );
    // The answer is our state before the merge.
    expect(answer.nodes.map((s) => s.State)).toEqual([0, 0, 0, 0]);
    expect(c.member('n2')!.state).toBe('suspect');
    expect(c.member('n3')!.state).toBe('left');
    expect(c.member('n4')!.state).toBe('suspect');
  });

  it('hands remote user state to the delegate, and the merge filter can refuse a join', () => {
    const merged: Array<[number[], boolean]> = [];
    const c = core(
      { probeIntervalMs: 0 },
      {
        delegate: {
          mergeRemoteState: (buf, join) => merged.push([Array.from(buf), join]),
          notifyMerge: (nodes) => (nodes.some((n) => n.name === 'bad') ? 'not our cluster' : null),
        },
      },
    );
    drain(c);
    c.handlePushPull('x:1', [state('n2', 0, 1, 2)], Uint8Array.of(9), false, 1);
    expect(merged).toEqual([[[9], false]]);
    c.join(['10.0.0.3:7946'], 2);
    const req = drain(c).streams[0]!;
    c.handlePushPullResponse(req.id, [state('bad', 0, 1, 3)], Uint8Array.of(1), 3);
    expect(c.member('bad')).toBeUndefined();
    expect(merged).toHaveLength(1);
    expect(drain(c).events.at(-1)).toEqual({
      type: 'join-result',
      seed: { addr: '10.0.0.3:7946', name: '' },
      ok: false,
      error: 'not our cluster',
    });
  });

  it('refuses state from members speaking an incompatible protocol version', () => {
    const c = core({ probeIntervalMs: 0 });
    drain(c);
    c.join(['10.0.0.3:7946'], 1);
    const req = drain(c).streams[0]!;
    c.handlePushPullResponse(
      req.id,
      [state('n3', 0, 1, 3, Uint8Array.from([3, 5, 3, 0, 0, 0]))],
      noMeta,
      2,
    );
    expect(c.member('n3')).toBeUndefined();
    expect(drain(c).events.at(-1)).toMatchObject({
      type: 'join-result',
      ok: false,
      error: expect.stringMatching(/protocol version \(2\) is incompatible/),
    });
  });

  it('a failed stream fails the join; unknown stream answers are counted and ignored', () => {
    const c = core();
    drain(c);
    c.join(['10.0.0.3:7946'], 1);
    const req = drain(c).streams[0]!;
    c.handleStreamFailure(req.id, 'connection refused', 2);
    expect(drain(c).events).toEqual([
      {
        type: 'join-result',
        seed: { addr: '10.0.0.3:7946', name: '' },
        ok: false,
        error: 'connection refused',
      },
    ]);
    c.handlePushPullResponse(999, [], noMeta, 3);
    expect(c.stats.drops['unknown-stream']).toBe(1);
  });

  it('periodic push-pull picks an alive member, every pushPullScale(interval, n)', () => {
    const c = withPeers(2, { pushPullIntervalMs: 30_000, probeIntervalMs: 0 });
    const first = c.pollTimeout()!;
    expect(first).toBeGreaterThanOrEqual(30_000);
    expect(first).toBeLessThan(60_000);
    c.handleTimeout(first);
    const { streams } = drain(c);
    expect(streams).toEqual([
      expect.objectContaining({
        kind: 'push-pull',
        local: expect.objectContaining({ join: false }),
      }),
    ]);
    expect(['n2', 'n3']).toContain(streams[0]!.to.name);
    expect(c.pollTimeout()).toBe(first + 30_000);
  });

  it('a stream ping is acked when it names us', () => {
    const c = core();
    expect(c.handleStreamPing('x:1', { SeqNo: 4, Node: 'me' }, 1)).toEqual({
      SeqNo: 4,
      Payload: noMeta,
    });
    expect(c.handleStreamPing('x:1', { SeqNo: 4, Node: 'you' }, 1)).toBeNull();
  });
});

describe('SwimCore: commands', () => {
  it('leave: the local node is left, peers get a dead message from itself, leave-complete follows', () => {
    const c = withPeers(2, { gossipIntervalMs: 200, probeIntervalMs: 0 });
    c.leave(10);
    expect(c.hasLeft).toBe(true);
    expect(c.localMember.state).toBe('left');
    const events: SwimEvent[] = drain(c).events;
    expect(events.map((e) => e.type)).toEqual(['member-left']);
    // A stale alive about us no longer resurrects us.
    c.handlePacket(
      'x:1',
      {
        type: MessageType.Alive,
        body: { Incarnation: 9, Node: 'me', Addr: ipOf(1), Port: 7946, Meta: noMeta, Vsn: VSN5 },
      },
      11,
    );
    expect(c.localMember.state).toBe('left');
    let sawDead = false;
    for (let t = 200; t <= 3000 && !events.some((e) => e.type === 'leave-complete'); t += 200) {
      c.handleTimeout(t);
      const out = drain(c);
      sawDead ||= out.tx.some((x) =>
        x.messages.some(
          (m) => m.type === MessageType.Dead && m.body.From === 'me' && m.body.Node === 'me',
        ),
      );
      events.push(...out.events);
    }
    expect(sawDead).toBe(true);
    expect(events.filter((e) => e.type === 'leave-complete')).toHaveLength(1);
  });

  it('leave: every alive member (up to LEAVE_DIRECT_FANOUT) is told directly, the dead are not', () => {
    const c = withPeers(4, { probeIntervalMs: 0 });
    // n5 is dead (from another member), so it must not get a direct copy.
    c.handlePacket(
      '10.0.0.2:7946',
      { type: MessageType.Dead, body: { Incarnation: 1, Node: 'n5', From: 'n2' } },
      1,
    );
    drain(c);
    c.leave(2);
    const direct = drain(c).tx.filter(
      (x) =>
        x.messages.length === 1 &&
        x.messages[0]!.type === MessageType.Dead &&
        x.messages[0]!.body.Node === 'me' &&
        x.messages[0]!.body.From === 'me',
    );
    expect(direct.map((x) => x.to.name).sort()).toEqual(['n2', 'n3', 'n4']);
  });

  it('leave tells at most LEAVE_DIRECT_FANOUT members directly', () => {
    const c = withPeers(LEAVE_DIRECT_FANOUT + 10, { probeIntervalMs: 0 });
    c.leave(2);
    const direct = drain(c).tx.filter(
      (x) => x.messages.length === 1 && x.messages[0]!.type === MessageType.Dead,
    );
    expect(new Set(direct.map((x) => x.to.name)).size).toBe(LEAVE_DIRECT_FANOUT);
  });

  it('leave when alone completes at once', () => {
    const c = core();
    drain(c);
    c.leave(1);
    expect(drain(c).events.map((e) => e.type)).toEqual(['member-left', 'leave-complete']);
  });

  it('updateMeta bumps the incarnation and broadcasts the new meta', () => {
    const c = withPeers(1, { probeIntervalMs: 0 });
    c.updateMeta(Uint8Array.of(1, 2, 3), 5);
    expect(c.incarnation).toBe(2);
    expect(c.localMember.meta).toEqual(Uint8Array.of(1, 2, 3));
    expect(drain(c).events).toEqual([
      { type: 'member-update', member: expect.objectContaining({ name: 'me', incarnation: 2 }) },
    ]);
    c.handlePacket('10.0.0.2:7946', { type: MessageType.Ping, body: { SeqNo: 1, Node: 'me' } }, 6);
    expect(drain(c).tx[0]!.messages).toContainEqual({
      type: MessageType.Alive,
      body: expect.objectContaining({ Node: 'me', Incarnation: 2, Meta: Uint8Array.of(1, 2, 3) }),
    });
    expect(() => c.updateMeta(new Uint8Array(513), 7)).toThrow(RangeError);
  });

  it('ping: a one-off probe reports the RTT, or null after the probe timeout', () => {
    const c = withPeers(1, { probeIntervalMs: 0 });
    const seq = c.ping({ addr: '10.0.0.2:7946', name: 'n2' }, 100);
    drain(c);
    c.handlePacket(
      '10.0.0.2:7946',
      { type: MessageType.AckResp, body: { SeqNo: seq, Payload: noMeta } },
      130,
    );
    const seq2 = c.ping({ addr: '10.0.0.2:7946', name: 'n2' }, 200);
    runTo(c, 1000);
    expect(drain(c).events).toEqual([
      { type: 'ping-result', name: 'n2', seqNo: seq, rttMs: 30 },
      { type: 'ping-result', name: 'n2', seqNo: seq2, rttMs: null },
    ]);
  });

  it('sendBestEffort and sendReliable address a known member', () => {
    const c = withPeers(1, { probeIntervalMs: 0 });
    expect(c.sendBestEffort('n2', Uint8Array.of(1))).toBe(true);
    expect(c.sendBestEffort('nobody', Uint8Array.of(1))).toBe(false);
    expect(c.sendReliable('n2', Uint8Array.of(2), 0)).toEqual(expect.any(Number));
    const { tx, streams } = drain(c);
    expect(tx).toEqual([
      {
        to: { addr: '10.0.0.2:7946', name: 'n2' },
        messages: [{ type: MessageType.User, body: Uint8Array.of(1) }],
        crc: true,
      },
    ]);
    expect(streams).toEqual([expect.objectContaining({ kind: 'user', payload: Uint8Array.of(2) })]);
  });

  it('forgets a reliable send once the shell reports it done or failed', () => {
    const c = withPeers(1, { probeIntervalMs: 0 });
    const ids: number[] = [];
    for (let i = 0; i < 50; i++) ids.push(c.sendReliable('n2', Uint8Array.of(i), i)!);
    expect(drain(c).streams).toHaveLength(50);
    expect(c.pendingStreamCount).toBe(50);
    for (const id of ids.slice(0, 49)) c.handleStreamDone(id, 100);
    c.handleStreamFailure(ids[49]!, 'connection refused', 100);
    expect(c.pendingStreamCount).toBe(0);
    expect(c.stats.drops['unknown-stream']).toBe(0);
    // A second report, or a "done" for a stream that expects an answer, changes nothing.
    c.handleStreamDone(ids[0]!, 101);
    c.join(['10.0.0.9:7946'], 102);
    const pushPull = drain(c).streams[0]!;
    c.handleStreamDone(pushPull.id, 103);
    expect(c.pendingStreamCount).toBe(1);
    expect(c.stats.drops['unknown-stream']).toBe(2);
  });
});
