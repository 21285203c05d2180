import { describe, expect, it } from '@jest/globals';
import { MessageType, NodeStateType } from '../wire/message-types.js';
import type { PushNodeState } from '../wire/messages.js';
import { estimateEncodedSize } from './message-size.js';
import type { SwimCore } from './swim-core.js';
import type { SwimDelegate, SwimStreamRequest } from './types.js';
import {
  alive,
  core,
  drain,
  ipOf,
  noMeta,
  types,
  VSN5,
  withPeers,
} from '../../test-support/swim-core-fixtures.js';

// Dissemination (dissemination.ts) through the core: gossip, the broadcast queues, push-pull
// and the merge of remote state. Rules and numbers are memberlist's (broadcast.go, state.go,
// net.go).

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

  /** A fresh core that joins through one seed answering with `peers` alive members (n2..). */
  function joined(
    peers: number,
    config: Parameters<typeof core>[0] = {},
  ): { c: ReturnType<typeof core>; tx: ReturnType<typeof drain>['tx'] } {
    const c = core({ probeIntervalMs: 0, ...config });
    drain(c);
    c.join(['10.0.0.2:7946'], 5);
    const req = drain(c).streams[0]!;
    const answer = Array.from({ length: peers }, (_, k) =>
      state(`n${k + 2}`, NodeStateType.Alive, 1, k + 2),
    );
    c.handlePushPullResponse(req.id, answer, noMeta, 10);
    return { c, tx: drain(c).tx };
  }

  /** Names told directly (our alive alone in a packet) after the join. */
  const noticed = (tx: ReturnType<typeof drain>['tx']): string[] =>
    tx
      .filter(
        (t) =>
          t.messages.length === 1 &&
          t.messages[0]!.type === MessageType.Alive &&
          t.messages[0]!.body.Node === 'me',
      )
      .map((t) => t.to.name);

  it('a join answered sends our alive directly to joinNoticeFanout members of the answer (ours)', () => {
    const all = noticed(joined(5).tx);
    expect(all.sort()).toEqual(['n2', 'n3', 'n4', 'n5', 'n6']);
    const some = noticed(joined(10, { joinNoticeFanout: 3 }).tx);
    expect(some).toHaveLength(3);
    expect(new Set(some).size).toBe(3);
    // 0 is memberlist's behaviour: gossip only.
    expect(noticed(joined(5, { joinNoticeFanout: 0 }).tx)).toEqual([]);
  });

  it('a join answered brings the next push-pull, with the seed, to joinPushPullDelayMs from now (ours)', () => {
    const { c } = joined(3, { pushPullIntervalMs: 30_000, joinPushPullDelayMs: 1_000 });
    expect(c.pollTimeout()).toBe(10 + 1_000);
    c.handleTimeout(1_010);
    const { streams } = drain(c);
    expect(streams).toEqual([
      expect.objectContaining({
        kind: 'push-pull',
        to: expect.objectContaining({ addr: '10.0.0.2:7946' }),
        local: expect.objectContaining({ join: false }),
      }),
    ]);
    // Then the regular cycle, with random members.
    expect(c.pollTimeout()).toBe(1_010 + 30_000);
    const off = joined(3, { pushPullIntervalMs: 30_000, joinPushPullDelayMs: 0 }).c;
    expect(off.pollTimeout()).toBeGreaterThanOrEqual(30_000);
  });

  it('an alive broadcast is sent at least aliveRetransmitFloor times; others keep the limit (ours)', () => {
    const sends = (floor: number, message: Parameters<SwimCore['handlePacket']>[1]): number => {
      // local: retransmitMult 2, so 2 x ceil(log10(n + 1)) = 2 with these 4 entries.
      const c = withPeers(3, {
        preset: 'local',
        probeIntervalMs: 0,
        gossipIntervalMs: 100,
        gossipNodes: 1,
        aliveRetransmitFloor: floor,
      });
      c.handlePacket('10.0.0.2:7946', message, 1);
      let count = 0;
      for (let t = 100; t <= 5_000; t += 100) {
        c.handleTimeout(t);
        for (const x of drain(c).tx) {
          count += x.messages.filter((m) => JSON.stringify(m) === JSON.stringify(message)).length;
        }
      }
      return count;
    };
    const fresh = alive('n9', 1, 9);
    expect(sends(0, fresh)).toBe(2);
    expect(sends(8, fresh)).toBe(8);
    const dead = {
      type: MessageType.Dead,
      body: { Incarnation: 1, Node: 'n3', From: 'n2' },
    } as const;
    expect(sends(8, dead)).toBe(2);
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
