import { describe, expect, it } from '@jest/globals';
import { SwimConfigError } from '../config/swim-config.js';
import { MessageType } from '../wire/message-types.js';
import { LEAVE_DIRECT_FANOUT } from './swim-core.js';
import type { SwimEvent } from './types.js';
import {
  core,
  drain,
  ipOf,
  noMeta,
  runTo,
  VSN5,
  withPeers,
} from '../../test-support/swim-core-fixtures.js';

// Single-core behaviour, driven by hand: every input is a decoded message, every output is read
// back through poll*. Rules and numbers are memberlist's (state.go, net.go). This file covers the
// public face of the core, start and the commands; each part has its own spec beside it
// (probing.spec.ts, member-state.spec.ts, dissemination.spec.ts).

describe('SwimCore: start', () => {
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
