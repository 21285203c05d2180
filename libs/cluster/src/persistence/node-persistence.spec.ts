import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeStore, StoreLockedError } from '@plumtree/store';
import { MemoryNetwork } from '@plumtree/swim';
import type { Subscription } from 'rxjs';
import {
  PlumtreeNode,
  PlumtreeNodeOptionsError,
  type Delivery,
  type PlumtreeNodeOptions,
} from '../index.js';

import { FAST_SWIM } from '../../../../test/support/fast-swim.js';
import { waitFor } from '../../../../test/support/wait-for.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'plumtree-node-store-'));
  dirs.push(d);
  return d;
}

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('PlumtreeNode persistence', () => {
  const nodes: PlumtreeNode[] = [];
  const subs: Subscription[] = [];
  afterEach(async () => {
    for (const s of subs.splice(0)) s.unsubscribe();
    await Promise.all(nodes.splice(0).map((n) => n.close()));
  });

  async function start(
    net: MemoryNetwork,
    i: number,
    extra: Partial<PlumtreeNodeOptions> = {},
  ): Promise<PlumtreeNode> {
    const node = await PlumtreeNode.start({
      name: `n${i}`,
      persistence: false,
      transport: net.bind(`10.3.0.${i + 1}:7946`, { streamTimeoutMs: 600_000 }),
      swim: FAST_SWIM,
      seed: i + 1,
      ...extra,
    });
    nodes.push(node);
    return node;
  }

  /** Closes a node as a crash would (no leave) and forgets it. */
  async function crash(node: PlumtreeNode): Promise<void> {
    nodes.splice(nodes.indexOf(node), 1);
    await node.close();
  }

  function collect(node: PlumtreeNode, topic: string, durable = true): Delivery[] {
    const got: Delivery[] = [];
    subs.push(node.subscribe(topic, { durable }).subscribe((d) => got.push(d)));
    return got;
  }

  it('rejects invalid persistence options, naming each', async () => {
    let err: unknown;
    try {
      await PlumtreeNode.start({
        name: 'x',
        persistence: false,
        dataDir: '/tmp/x',
        staticSeeds: ['nope', '10.0.0.1:7946', '10.0.0.1:7946'],
        lazarus: { intervalMs: 1, extra: true } as never,
        durable: { topics: ['ok', 'a..b'], retentionMs: 5, maxMessages: 0 },
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PlumtreeNodeOptionsError);
    const fields = (err as PlumtreeNodeOptionsError).problems.map((p) => p.field);
    expect(fields).toEqual(
      expect.arrayContaining([
        'dataDir',
        'staticSeeds',
        'lazarus.intervalMs',
        'lazarus.extra',
        'durable.topics[1]',
        'durable.retentionMs',
        'durable.maxMessages',
      ]),
    );
    expect((err as Error).message).toMatch(/listed twice/);
  });

  it('a restarted node rejoins through its stored peers, above its stored incarnation', async () => {
    const net = new MemoryNetwork();
    const a = await start(net, 0);
    const dir = tempDir();
    const b = await start(net, 1, { persistence: true, dataDir: dir, seeds: [a.address] });
    await waitFor('a to see b', () => a.members().length === 2);
    await waitFor('b to save its peers', () => (b.stats().persistence?.peerSaves ?? 0) > 0);
    const incarnation = a.swimNode.member('n1')!.incarnation;
    await crash(b);
    // No seeds: only the store knows the cluster.
    const b2 = await start(net, 1, { persistence: true, dataDir: dir });
    expect(b2.stats().persistence).toMatchObject({ storedPeers: 1, dataDir: dir });
    expect(b2.stats().persistence!.storedIncarnation).toBeGreaterThanOrEqual(incarnation);
    expect(b2.swimNode.localMember.incarnation).toBeGreaterThan(incarnation);
    await waitFor(
      'a to see the new incarnation',
      () => a.swimNode.member('n1')?.incarnation === b2.swimNode.localMember.incarnation,
    );
    expect(a.swimNode.member('n1')!.state).toBe('alive');
    expect(b2.members().map((m) => m.name)).toContain('n0');
  });

  it('the members of its join are stored before start resolves (a kill right after restarts into the cluster)', async () => {
    const net = new MemoryNetwork();
    const a = await start(net, 0);
    const b = await start(net, 1, { persistence: true, dataDir: tempDir(), seeds: [a.address] });
    // No wait: the save of the join's members is part of start.
    expect(b.stats().persistence?.peerSaves).toBe(1);
    expect(b.stats().persistence?.saveErrors).toBe(0);
  });

  it('a second node on the same dataDir fails with StoreLockedError and releases its transport', async () => {
    const net = new MemoryNetwork();
    const dir = tempDir();
    await start(net, 0, { persistence: true, dataDir: dir });
    await expect(start(net, 1, { persistence: true, dataDir: dir })).rejects.toThrow(
      StoreLockedError,
    );
    // The address of the failed node is free again.
    await expect(start(net, 1)).resolves.toBeInstanceOf(PlumtreeNode);
  });

  it('a durable subscriber that was down gets what it missed, once, in order, across restarts', async () => {
    const net = new MemoryNetwork();
    // While the subscriber is down, frames to it are lost (else the transport would hand the
    // new process what it queued for the old one, and catch-up would have nothing to do).
    let cut = false;
    const pub = await start(net, 0, {
      durable: { topics: ['orders.#'] },
      frameFilter: (peer) => !(cut && peer === 'n1'),
    });
    collect(pub, 'orders.eu');
    const dir = tempDir();
    const subOptions = { persistence: true, dataDir: dir, seeds: [pub.address] };
    let sub = await start(net, 1, subOptions);
    let got = collect(sub, 'orders.eu');
    await waitFor('pub to see sub', () => pub.subscribersOf('orders.eu').length === 1);
    await waitFor('the log to open', () => sub.isDurable('orders.eu'));
    for (let i = 1; i <= 5; i++) await pub.publish('orders.eu', { i });
    await waitFor('the first five', () => got.length === 5);
    cut = true;
    await crash(sub);
    for (let i = 6; i <= 20; i++) await pub.publish('orders.eu', { i });
    cut = false;
    sub = await start(net, 1, subOptions);
    got = collect(sub, 'orders.eu');
    await waitFor('the missed fifteen', () => got.length >= 15, { timeoutMs: 15_000 });
    // Settle: nothing else may arrive (the first five were delivered in the first life).
    await sub.durableIdle('orders.eu');
    expect(got.map((d) => (d.payload as { i: number }).i)).toEqual(
      Array.from({ length: 15 }, (_, k) => k + 6),
    );
    expect(got.every((d) => d.hops === -1)).toBe(true); // pulled from the publisher's log
    const st = sub.stats().durable.topics['orders.eu']!;
    expect(st.recordsPulled).toBe(15);
    // Live traffic after the catch-up goes through the tree again.
    await pub.publish('orders.eu', { i: 21 });
    await waitFor('the live one', () => got.length === 16);
    expect(got[15]!.hops).toBeGreaterThanOrEqual(0);
  });

  it('at least once across a crash: what was logged and not handled comes back once, flagged', async () => {
    const dir = tempDir();
    // The last life logged three records and died after its observers saw only the first.
    const store = await NodeStore.open(dir);
    const log = await store.openTopicLog('t', { retentionMs: 3_600_000, maxMessages: 1_000 });
    const json = { 'content-type': 'application/json' };
    const rec = (seq: number) => ({
      origin: 'x',
      epoch: 7,
      seq,
      publishedAtMs: 1,
      headers: json,
      payload: new TextEncoder().encode(JSON.stringify({ seq })),
    });
    await log.append([rec(1), rec(2), rec(3)]);
    log.markHandled('x', 7, 1);
    await store.close();
    const net = new MemoryNetwork();
    const options = { persistence: true, dataDir: dir, topics: ['t'], durable: { topics: ['t'] } };
    let node = await start(net, 0, options);
    // Handed back at start, before anyone subscribed: kept for the first observer.
    await waitFor('the unhandled two to be parked', () => node.stats().parked.records === 2);
    const got = collect(node, 't');
    await waitFor('the redelivered two', () => got.length === 2);
    expect(got.map((d) => [d.id, d.redelivered, d.hops, d.payload])).toEqual([
      ['x/7/2', true, -1, { seq: 2 }],
      ['x/7/3', true, -1, { seq: 3 }],
    ]);
    expect(node.stats().parked).toEqual({ records: 0, dropped: 0 });
    // Seen by an observer now: the next life hands back nothing.
    await crash(node);
    node = await start(net, 0, options);
    const again = collect(node, 't');
    await waitFor('the log to open', () => node.isDurable('t'));
    await node.durableIdle('t');
    await waitFor('the queue to drain', () => node.stats().node.deliveryQueue.pending === 0);
    expect(again).toEqual([]);
    expect(node.stats().parked.records).toBe(0);
  });

  it('without persistence, durable topics catch up from peers in memory', async () => {
    const net = new MemoryNetwork();
    const a = await start(net, 0, { durable: { topics: ['t'] } });
    collect(a, 't');
    for (let i = 1; i <= 10; i++) await a.publish('t', i);
    // A newcomer pulls the retained history from its peer's in-memory log.
    const b = await start(net, 1, { seeds: [a.address] });
    const got = collect(b, 't');
    await waitFor('the history', () => got.length === 10);
    expect(got.map((d) => d.payload)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(b.dataDir).toBeNull();
  });
});
