import { afterEach, describe, expect, it } from '@jest/globals';
import { MemoryNetwork } from '../transport/memory-network.js';
import type { SwimConfigInput } from '../config/swim-config.js';
import type { SwimEvent } from '../protocol/types.js';
import { SwimNode } from './swim-node.js';
import { SwimNodeOptionsError } from './swim-node-options.js';
import { waitFor } from '../../../../test/support/wait-for.js';

const FAST: SwimConfigInput = {
  preset: 'local',
  probeIntervalMs: 100,
  probeTimeoutMs: 50,
  gossipIntervalMs: 30,
  pushPullIntervalMs: 1_000,
};

describe('SwimNode on a MemoryNetwork', () => {
  const nodes: SwimNode[] = [];
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.close()));
  });

  async function cluster(net: MemoryNetwork, n: number, label = ''): Promise<SwimNode[]> {
    for (let i = 0; i < n; i++) {
      nodes.push(
        await SwimNode.start({
          name: `m${i}`,
          transport: net.bind(`10.0.0.${i + 1}:7946`),
          config: FAST,
          label,
          seed: i + 1,
        }),
      );
    }
    for (const x of nodes.slice(1)) await x.join([nodes[0]!.boundAddress]);
    await waitFor('every node to see every member', () => nodes.every((x) => x.numMembers() === n));
    return nodes;
  }

  it('joins, then detects a partitioned node as failed', async () => {
    const net = new MemoryNetwork({ delayMs: 1 });
    const [a, b, c] = (await cluster(net, 3, 'lab')) as [SwimNode, SwimNode, SwimNode];
    expect(a.localMember.address).toBe('10.0.0.1:7946');
    net.partition([[c.boundAddress]]);
    await waitFor(
      'm0 and m1 to mark m2 dead',
      () => a.member('m2')?.state === 'dead' && b.member('m2')?.state === 'dead',
    );
    expect(
      a
        .members()
        .map((m) => m.name)
        .sort(),
    ).toEqual(['m0', 'm1']);
  });

  it('serves at most maxInboundStreams streams at once: one more is closed and counted', async () => {
    const net = new MemoryNetwork();
    const a = await SwimNode.start({
      name: 'a',
      transport: net.bind('10.0.0.1:7946'),
      config: { ...FAST, maxInboundStreams: 3, tcpTimeoutMs: 60_000 },
      seed: 1,
    });
    nodes.push(a);
    const stranger = net.bind('10.0.0.99:7946');
    // Streams that send the first byte of a push-pull and no more: each is held being read
    // until its timeout.
    const open = await Promise.all([1, 2, 3, 4, 5].map(() => stranger.dial(a.boundAddress, 1_000)));
    for (const s of open) {
      s.on('error', () => {});
      s.write(Uint8Array.of(6));
    }
    await waitFor(
      'two streams refused',
      () => (a.stats().drops['stream:too-many-streams'] ?? 0) === 2,
    );
    for (const s of open) s.destroy();
    await stranger.close();
  });

  it('counts a packet with the wrong label as a drop', async () => {
    const net = new MemoryNetwork();
    const [a] = (await cluster(net, 2, 'blue')) as [SwimNode, SwimNode];
    const stranger = net.bind('10.0.0.99:7946');
    // `[244][3]red` then a ping type byte: a label header for another cluster.
    stranger.sendPacket(a.boundAddress, Uint8Array.of(244, 3, 114, 101, 100, 0));
    await waitFor('the label drop', () => (a.stats().drops['packet:label-mismatch'] ?? 0) === 1);
    await stranger.close();
  });

  it('leaves no pending stream behind after reliable sends', async () => {
    const net = new MemoryNetwork();
    const [a, b] = (await cluster(net, 2)) as [SwimNode, SwimNode];
    const got: string[] = [];
    b.events$.subscribe((e) => {
      if (e.type === 'user-message') got.push(new TextDecoder().decode(e.payload));
    });
    for (let i = 0; i < 20; i++) {
      expect(a.sendUserMessage('m1', new TextEncoder().encode(`r${i}`), { reliable: true })).toBe(
        true,
      );
    }
    await waitFor('20 reliable messages', () => got.length === 20, {
      lastSeen: () => `${got.length} received`,
    });
    await waitFor('no pending stream', () => a.stats().pendingStreams === 0);
    expect(a.stats().drops['core:unknown-stream']).toBeUndefined();
  });

  it("replays the local node's join to every subscriber of events$", async () => {
    const net = new MemoryNetwork();
    const a = await SwimNode.start({
      name: 'solo',
      transport: net.bind('10.0.0.1:7946'),
      config: FAST,
      seed: 1,
    });
    nodes.push(a);
    const first: SwimEvent[] = [];
    const second: SwimEvent[] = [];
    a.events$.subscribe((e) => first.push(e));
    a.events$.subscribe((e) => second.push(e));
    // Synchronously on subscription, before any live event.
    for (const log of [first, second]) {
      expect(log).toEqual([
        { type: 'member-join', member: expect.objectContaining({ name: 'solo', state: 'alive' }) },
      ]);
    }
    let members: string[] = [];
    a.members$.subscribe((m) => (members = m.map((x) => x.name)));
    expect(members).toEqual(['solo']);

    // A peer's join arrives live, once, after the replayed one.
    nodes.push(
      await SwimNode.start({
        name: 'peer',
        transport: net.bind('10.0.0.2:7946'),
        config: FAST,
        seed: 2,
        seeds: [a.boundAddress],
      }),
    );
    await waitFor('the peer in members$', () => members.length === 2);
    const joins = (log: SwimEvent[]): string[] =>
      log.flatMap((e) => (e.type === 'member-join' ? [e.member.name] : []));
    await waitFor("the peer's join", () => joins(first).includes('peer'));
    expect(joins(first)).toEqual(['solo', 'peer']);
    expect(joins(second)).toEqual(['solo', 'peer']);
  });

  it('rejects invalid options with every problem at once', async () => {
    const err = await SwimNode.start({
      name: '',
      bindAddr: 'nowhere',
      bindPort: 70_000,
      keys: ['short'],
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SwimNodeOptionsError);
    const fields = (err as SwimNodeOptionsError).problems.map((p) => p.field);
    expect(fields).toEqual(['bindAddr', 'bindPort', 'keys', 'config.bindPort', 'config.name']);
    expect((err as Error).message).toMatch(/^Invalid SWIM node options \(5 problems\): bindAddr: /);
  });
});
