import { describe, expect, it } from '@jest/globals';
import { MessageType } from '../wire/message-types.js';
import { SwimCore } from './swim-core.js';
import type { SwimDelegate } from './types.js';
import {
  alive,
  core,
  drain,
  ipOf,
  noMeta,
  runTo,
  VSN2,
  withPeers,
} from '../../test-support/swim-core-fixtures.js';

// The membership rules (member-state.ts) through the core: alive, suspect and dead claims,
// refutation, Lifeguard suspicion. Rules and numbers are memberlist's (state.go).

describe('SwimCore: membership rules', () => {
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
