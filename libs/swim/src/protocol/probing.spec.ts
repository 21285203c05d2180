import { describe, expect, it } from '@jest/globals';
import type { SwimConfigInput } from '../config/swim-config.js';
import { MessageType } from '../wire/message-types.js';
import type { Message } from '../wire/messages.js';
import {
  drain,
  ipOf,
  noMeta,
  runTo,
  types,
  VSN2,
  withPeers,
} from '../../test-support/swim-core-fixtures.js';

// Probing (probing.ts) through the core: the probe cycle, indirect probes, the TCP fallback,
// awareness, and the pings this node relays for others. Rules and numbers are memberlist's
// (state.go probeNode, net.go).

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
