import { afterEach, describe, expect, it } from '@jest/globals';
import { MemoryNetwork } from '@plumtree/swim';
import type { Subscription } from 'rxjs';
import { InvalidTopicError } from '../directory/index.js';
import {
  NoSubscribersError,
  NodeClosedError,
  PayloadTooLargeError,
  PlumtreeNode,
  PlumtreeNodeOptionsError,
  type Delivery,
  type PlumtreeNodeEvent,
  type PlumtreeNodeOptions,
} from '../index.js';

import { FAST_SWIM } from '../../../../test/support/fast-swim.js';
import { waitFor } from '../../../../test/support/wait-for.js';
import { HANDOFF_FRAME_KIND } from '../handoff/handoff-codec.js';
import { parseMessageId } from '../delivery/message-id.js';

/** Collects deliveries of one subscription. */
class Sink {
  readonly got: Delivery[] = [];
  readonly sub: Subscription;
  constructor(node: PlumtreeNode, topicOrPattern: string) {
    this.sub = node.subscribe(topicOrPattern).subscribe((d) => this.got.push(d));
  }
  ids(): string[] {
    return this.got.map((d) => d.id);
  }
}

describe('PlumtreeNode on a MemoryNetwork', () => {
  const nodes: PlumtreeNode[] = [];
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.close()));
  });

  async function start(
    net: MemoryNetwork,
    i: number,
    extra: Partial<PlumtreeNodeOptions> = {},
  ): Promise<PlumtreeNode> {
    const seeds = nodes.length > 0 ? [nodes[0]!.address] : [];
    const node = await PlumtreeNode.start({
      name: `n${i}`,
      persistence: false,
      // Long stream timeout: the memory transport would otherwise cut idle frame connections.
      transport: net.bind(`10.0.0.${i + 1}:7946`, { streamTimeoutMs: 600_000 }),
      swim: FAST_SWIM,
      seeds,
      seed: i + 1,
      ...extra,
    });
    nodes.push(node);
    return node;
  }

  async function cluster(net: MemoryNetwork, n: number): Promise<PlumtreeNode[]> {
    for (let i = 0; i < n; i++) await start(net, i);
    await waitFor('membership', () => nodes.every((x) => x.members().length === n));
    return nodes.slice();
  }

  /** Every node in `watchers` sees `topic` subscribed by exactly `subscribers`. */
  async function directoryShows(
    watchers: PlumtreeNode[],
    topic: string,
    subscribers: PlumtreeNode[],
  ): Promise<void> {
    await waitFor(`directory of ${topic}`, () =>
      watchers.every((w) => {
        const expected = subscribers
          .filter((s) => s !== w)
          .map((s) => s.name)
          .sort();
        return JSON.stringify(w.subscribersOf(topic)) === JSON.stringify(expected);
      }),
    );
  }

  it('rejects invalid options with one error naming every bad field', async () => {
    const bad = {
      name: '',
      bindPort: 70_000,
      seeds: ['nope'],
      keys: ['not base64!'],
      topics: ['a..b'],
      swim: { probeIntervalMs: -1 },
      plumtree: { eagerFanout: 0 },
      codec: {},
      colour: 'blue',
    } as unknown as PlumtreeNodeOptions;
    let error: unknown;
    try {
      await PlumtreeNode.start(bad);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PlumtreeNodeOptionsError);
    const fields = (error as PlumtreeNodeOptionsError).problems.map((p) => p.field);
    expect(fields).toEqual(
      expect.arrayContaining([
        'name',
        'bindPort',
        'seeds[0]',
        'keys[0]',
        'topics[0]',
        'swim.probeIntervalMs',
        'plumtree.eagerFanout',
        'codec',
        'colour',
      ]),
    );
  });

  it('delivers to every subscriber exactly once, and no payload reaches a non-subscriber', async () => {
    const net = new MemoryNetwork();
    const [a, b, c, d] = (await cluster(net, 4)) as [
      PlumtreeNode,
      PlumtreeNode,
      PlumtreeNode,
      PlumtreeNode,
    ];
    const sinks = [new Sink(a, 'orders'), new Sink(b, 'orders'), new Sink(c, 'orders')];
    await directoryShows([a, b, c, d], 'orders', [a, b, c]);
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) {
      ids.push(await [a, b, c][i % 3]!.publish('orders', { n: i }, { headers: { k: `v${i}` } }));
    }
    await waitFor('deliveries', () => sinks.every((s) => s.got.length >= 50));
    for (const s of sinks) {
      expect(s.ids().sort()).toEqual([...ids].sort());
      const byN = s.got
        .slice()
        .sort((x, y) => (x.payload as { n: number }).n - (y.payload as { n: number }).n);
      expect(byN[7]!.payload).toEqual({ n: 7 });
      expect(byN[7]!.headers).toEqual({ k: 'v7' });
      expect(byN[7]!.contentType).toBe('application/json');
      expect(byN[7]!.topic).toBe('orders');
    }
    const sample = sinks[1]!.got.find((x) => x.id === ids[0])!;
    expect(sample.origin).toBe('n0');
    expect(parseMessageId(sample.id)).toEqual({ origin: 'n0', epoch: a.epoch, seq: 1 });
    expect(sample.publishedAtMs).toBeGreaterThan(0);
    expect(d.stats().node.gossipReceivedUnsubscribed).toBe(0);
    expect(d.stats().topics['orders']).toBeUndefined();
    expect(a.stats().topics['orders']!.delivered).toBe(50);
  });

  it('spreads subscriptions to every member without periodic push-pull', async () => {
    const net = new MemoryNetwork();
    // Without periodic push-pull, membership itself spreads only by gossip, which can miss a
    // member for good (memberlist's few retransmits): each node joins through every node before
    // it, so membership is whole at once and only the directory has to spread by broadcasts.
    for (let i = 0; i < 8; i++) {
      await start(net, i, {
        swim: { ...FAST_SWIM, pushPullIntervalMs: 0 },
        seeds: nodes.map((x) => x.address),
      });
    }
    await waitFor('membership', () => nodes.every((x) => x.members().length === 8));
    const subs = nodes.filter((_, i) => i % 2 === 1);
    for (const n of subs) n.subscribe('spread').subscribe();
    // Broadcasts reach a member with probability ~1 - e^-retransmits; the rest is found stale
    // through the digest in probe acks and pulled.
    await directoryShows(nodes, 'spread', subs);
  }, 30_000);

  it('hands a publish from a non-subscriber to a subscriber, which injects it under the original id', async () => {
    const net = new MemoryNetwork();
    const [a, b, c] = (await cluster(net, 3)) as [PlumtreeNode, PlumtreeNode, PlumtreeNode];
    const sb = new Sink(b, 'news');
    const sc = new Sink(c, 'news');
    await directoryShows([a], 'news', [b, c]);
    const raw = Uint8Array.of(1, 2, 3);
    const id = await a.publish('news', raw);
    expect(parseMessageId(id)).toEqual({ origin: 'n0', epoch: a.epoch, seq: 1 });
    await waitFor('hand-off deliveries', () => sb.got.length === 1 && sc.got.length === 1);
    expect(sb.got[0]!.id).toBe(id);
    expect(sc.got[0]!.id).toBe(id);
    expect([...(sb.got[0]!.payload as Uint8Array)]).toEqual([1, 2, 3]);
    expect(a.stats().node.handoffs).toMatchObject({ acked: 1, failed: 0 });
    expect(a.stats().node.gossipReceivedUnsubscribed).toBe(0);
  });

  it('retries a hand-off that is not acknowledged with another subscriber', async () => {
    const net = new MemoryNetwork();
    // The publisher loses the first copy of every hand-off request (a retry resends the same bytes).
    const lost = new Set<Uint8Array>();
    const a = await start(net, 0, {
      handoffTimeoutMs: 200,
      frameFilter: (_peer, frame) => {
        if (frame[0] !== HANDOFF_FRAME_KIND || lost.has(frame)) return true;
        lost.add(frame);
        return false;
      },
    });
    const b = await start(net, 1);
    const c = await start(net, 2);
    await waitFor('membership', () => nodes.every((x) => x.members().length === 3));
    const sb = new Sink(b, 'jobs');
    const sc = new Sink(c, 'jobs');
    await directoryShows([a], 'jobs', [b, c]);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await a.publish('jobs', Uint8Array.of(i)));
    await waitFor('deliveries', () => sb.got.length === 4 && sc.got.length === 4);
    expect(sb.ids().sort()).toEqual(ids.sort());
    expect(a.stats().node.handoffs).toMatchObject({ acked: 4, retried: 4, failed: 0 });
  });

  it('rejects with NoSubscribersError when nobody subscribes, and with typed errors for bad publishes', async () => {
    const net = new MemoryNetwork();
    const [a] = (await cluster(net, 2)) as [PlumtreeNode, PlumtreeNode];
    await expect(a.publish('nobody.here', 'x')).rejects.toBeInstanceOf(NoSubscribersError);
    await expect(a.publish('bad..topic', 'x')).rejects.toBeInstanceOf(InvalidTopicError);
    expect(() => a.subscribe('a.#.b')).toThrow(InvalidTopicError);
    const s = new Sink(a, 'big');
    await expect(a.publish('big', new Uint8Array(70_000))).rejects.toBeInstanceOf(
      PayloadTooLargeError,
    );
    s.sub.unsubscribe();
    await a.close();
    await expect(a.publish('big', 'x')).rejects.toBeInstanceOf(NodeClosedError);
    expect(() => a.subscribe('big')).toThrow(NodeClosedError);
  });

  it('a pattern subscription joins matching topics known now, later, and first seen in a hand-off', async () => {
    const net = new MemoryNetwork();
    const [a, b, c] = (await cluster(net, 3)) as [PlumtreeNode, PlumtreeNode, PlumtreeNode];
    const early = new Sink(b, 'orders.created');
    await directoryShows([a, c], 'orders.created', [b]);
    const wild = new Sink(c, 'orders.*');
    await waitFor('pattern joins a known topic', () => c.topics().includes('orders.created'));
    await directoryShows([a], 'orders.created', [b, c]);
    await b.publish('orders.created', 'one');
    await waitFor('wildcard delivery', () => wild.got.length === 1 && early.got.length === 1);
    expect(wild.got[0]!.topic).toBe('orders.created');
    // A topic only the pattern matches: the hand-off lands on c, which joins it then.
    await directoryShows([a], 'orders.shipped', [c]);
    const id = await a.publish('orders.shipped', 'two');
    await waitFor('hand-off to a pattern subscriber', () => wild.got.length === 2);
    expect(wild.got[1]).toMatchObject({ id, topic: 'orders.shipped', payload: 'two' });
    expect(c.topics()).toContain('orders.shipped');
    // `#` matches the rest, `*` one segment only.
    const deep = new Sink(b, 'orders.#');
    await directoryShows([a], 'orders.eu.created', [b]);
    await a.publish('orders.eu.created', 'three');
    await waitFor('deep pattern delivery', () => deep.got.length === 1);
    expect(wild.got.map((d) => d.topic)).not.toContain('orders.eu.created');
  });

  it('the last unsubscribe leaves the topic: the directory drops it and payloads stop', async () => {
    const net = new MemoryNetwork();
    const [a, b, c] = (await cluster(net, 3)) as [PlumtreeNode, PlumtreeNode, PlumtreeNode];
    const sa = new Sink(a, 'chat');
    const sb1 = new Sink(b, 'chat');
    const sb2 = new Sink(b, 'chat');
    const sc = new Sink(c, 'chat');
    await directoryShows([a, b, c], 'chat', [a, b, c]);
    await a.publish('chat', 'hello');
    await waitFor(
      'first',
      () => sb1.got.length === 1 && sb2.got.length === 1 && sc.got.length === 1,
    );
    // Both observers saw the same delivery object (decoded once).
    expect(sb1.got[0]).toBe(sb2.got[0]);
    sb1.sub.unsubscribe();
    expect(b.topics()).toContain('chat');
    sb2.sub.unsubscribe();
    expect(b.topics()).not.toContain('chat');
    await directoryShows([a, c], 'chat', [a, c]);
    const gossipBefore = b.stats().node.framesReceived.gossip;
    for (let i = 0; i < 20; i++) await a.publish('chat', `m${i}`);
    await waitFor('later messages at c', () => sc.got.length === 21);
    expect(sa.got.length).toBe(21);
    expect(sb1.got.length + sb2.got.length).toBe(2);
    expect(b.stats().node.framesReceived.gossip).toBe(gossipBefore);
  });

  it('holds a burst beyond the queue cap in the publish window: nothing overflows, nothing is demoted, everyone gets everything', async () => {
    const net = new MemoryNetwork();
    for (let i = 0; i < 3; i++) await start(net, i, { maxQueueBytes: 8192 });
    await waitFor('membership', () => nodes.every((x) => x.members().length === 3));
    const [a, b, c] = nodes as [PlumtreeNode, PlumtreeNode, PlumtreeNode];
    const events: PlumtreeNodeEvent[] = [];
    a.events$.subscribe((e) => events.push(e));
    const sa = new Sink(a, 'bulk');
    const sb = new Sink(b, 'bulk');
    const sc = new Sink(c, 'bulk');
    await directoryShows([a, b, c], 'bulk', [a, b, c]);
    // Every link up at both ends first (a late link GRAFT would make the demoted peer eager
    // again, which is the protocol working, not backpressure).
    await Promise.all([a, b, c].map((n) => n.ready('bulk', { subscribers: 3 })));
    const n = 30;
    // One synchronous burst, 30 KiB for 8 KiB queues: the window admits a turn's share at a time
    // and the rest waits until the queues are below their pressure mark.
    const pending: Promise<string>[] = [];
    for (let i = 0; i < n; i++) pending.push(a.publish('bulk', new Uint8Array(1024).fill(i)));
    await Promise.all(pending);
    const st = a.stats();
    expect(st.node.publishWindow.waited).toBeGreaterThan(0);
    expect(st.node.sendFailures['overflow'] ?? 0).toBe(0);
    expect(st.node.backpressureDemotions).toBe(0);
    expect(events.some((e) => e.type === 'demotion')).toBe(false);
    await waitFor('every message', () => sb.got.length === n && sc.got.length === n);
    expect(new Set(sb.ids()).size).toBe(n);
    expect(new Set(sc.ids()).size).toBe(n);
    expect(sa.got.length).toBe(n);
  }, 20_000);

  it('leave() prunes, says goodbye through SWIM and completes observers; peers forget its entry', async () => {
    const net = new MemoryNetwork();
    const [a, b, c] = (await cluster(net, 3)) as [PlumtreeNode, PlumtreeNode, PlumtreeNode];
    let completed = false;
    b.subscribe('room').subscribe({ complete: () => (completed = true) });
    const sc = new Sink(c, 'room');
    await directoryShows([a, c], 'room', [b, c]);
    const membersCompleted = new Promise<void>((resolve) =>
      b.members$.subscribe({ complete: resolve }),
    );
    await b.leave();
    await membersCompleted;
    expect(completed).toBe(true);
    expect(b.isClosed).toBe(true);
    await expect(b.publish('room', 'x')).rejects.toBeInstanceOf(NodeClosedError);
    await waitFor('leave seen', () => a.members().length === 2 && c.members().length === 2);
    await directoryShows([a, c], 'room', [c]);
    await a.publish('room', 'after');
    await waitFor('delivery after the leave', () => sc.got.length === 1);
  });

  it('reports per-topic stats and forwards received frames without re-encoding', async () => {
    const net = new MemoryNetwork();
    const all = await cluster(net, 5);
    const sinks = all.map((n) => new Sink(n, 'metrics'));
    await directoryShows(all, 'metrics', all);
    for (let i = 0; i < 20; i++) await all[0]!.publish('metrics', Uint8Array.of(i));
    await waitFor('deliveries', () => sinks.every((s) => s.got.length === 20));
    const s = all[2]!.stats();
    const t = s.topics['metrics']!;
    expect(t.delivered).toBe(20);
    expect(t.peers).toBe(4);
    expect(t.observers).toBe(1);
    expect(t.eager + t.lazy).toBeGreaterThan(0);
    expect(t.bytesReceived).toBeGreaterThan(0);
    expect(s.core.cache).toBe(20);
    expect(s.swim.members).toBe(5);
    expect(s.directory.subscriptions).toEqual(['metrics']);
    const forwarded = all.reduce((n, x) => n + x.stats().node.encoder.forwardedZeroCopy, 0);
    const received = all.reduce((n, x) => n + x.stats().topics['metrics']!.received.gossip, 0);
    // 5 nodes, 20 messages: the 4 receivers forward what they got without re-encoding it.
    expect(received).toBeGreaterThanOrEqual(80);
    expect(forwarded).toBeGreaterThan(0);
    expect(sinks[3]!.got.every((d) => d.hops >= 1 && d.receivedFrom !== 'n3')).toBe(true);
  });

  it('runs with a keyring (SWIM and frames sealed with the same keys); another key cannot join', async () => {
    const net = new MemoryNetwork();
    const key = Buffer.alloc(16, 7).toString('base64');
    const a = await start(net, 0, { keys: [key] });
    const b = await start(net, 1, { keys: [key] });
    await waitFor('membership', () => a.members().length === 2 && b.members().length === 2);
    const sb = new Sink(b, 'secret');
    await directoryShows([a], 'secret', [b]);
    const sa = new Sink(a, 'secret');
    await directoryShows([b], 'secret', [a]);
    await a.publish('secret', 'psst');
    await waitFor('sealed delivery', () => sb.got.length === 1);
    expect(sb.got[0]!.payload).toBe('psst');
    expect(sa.got.length).toBe(1);
    expect(a.stats().transport.drops['encryption-mismatch']).toBe(0);
    const other = Buffer.alloc(16, 9).toString('base64');
    await expect(
      PlumtreeNode.start({
        name: 'intruder',
        persistence: false,
        transport: net.bind('10.0.0.50:7946'),
        swim: { ...FAST_SWIM, tcpTimeoutMs: 300 },
        seeds: [a.address],
        joinTimeoutMs: 0,
        keys: [other],
      }),
    ).rejects.toThrow();
    expect(a.members().length).toBe(2);
  });
});
