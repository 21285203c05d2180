/**
 * `PlumtreeNode.ready()` on a MemoryNetwork: what it waits for, what it rejects with, and the
 * promise behind it: a publish right after it resolves reaches every subscriber, while the trees
 * are still forming. (Link sync, which covers a subscriber whose link request arrives after the
 * message, is tested on its own in link-sync.spec.ts: on a MemoryNetwork links win that race.)
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { MemoryNetwork } from '@plumtree/swim';
import type { Subscription } from 'rxjs';
import { InvalidTopicError } from '../directory/index.js';
import {
  NodeClosedError,
  PlumtreeNode,
  ReadyTimeoutError,
  type Delivery,
  type PlumtreeNodeOptions,
} from '../index.js';
import { FAST_SWIM } from '../../../../test/support/fast-swim.js';
import { waitFor } from '../../../../test/support/wait-for.js';

class Sink {
  readonly got: Delivery[] = [];
  readonly sub: Subscription;
  constructor(node: PlumtreeNode, topic: string) {
    this.sub = node.subscribe(topic).subscribe((d) => this.got.push(d));
  }
  payloads(): unknown[] {
    return this.got.map((d) => d.payload);
  }
}

describe('PlumtreeNode.ready', () => {
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
      transport: net.bind(`10.4.0.${i + 1}:7946`, { streamTimeoutMs: 600_000 }),
      swim: FAST_SWIM,
      seeds: nodes.length > 0 ? [nodes[0]!.address] : [],
      seed: i + 1,
      ...extra,
    });
    nodes.push(node);
    return node;
  }

  async function cluster(n: number): Promise<PlumtreeNode[]> {
    const net = new MemoryNetwork();
    for (let i = 0; i < n; i++) await start(net, i);
    return nodes.slice();
  }

  it('a publish right after ready() reaches every subscriber, with no warm-up (5 topics, 6 nodes)', async () => {
    const all = await cluster(6);
    for (let round = 0; round < 5; round++) {
      const topic = `fresh.${round.toString()}`;
      // Every node subscribes at once: directory entries and tree links form from here on.
      const sinks = all.map((n) => new Sink(n, topic));
      subs.push(...sinks.map((s) => s.sub));
      const publisher = all[round % all.length]!;
      await publisher.ready(topic, { subscribers: all.length });
      for (let k = 0; k < 20; k++) await publisher.publish(topic, k);
      await waitFor(`every subscriber of ${topic} to get all 20`, () =>
        sinks.every((s) => s.got.length >= 20),
      );
      for (const s of sinks)
        expect(s.payloads().sort((a, b) => Number(a) - Number(b))).toEqual([...Array(20).keys()]);
    }
  }, 60_000);

  it('a non-subscriber is ready once the directory lists the subscribers; its hand-offs reach them all', async () => {
    const [a, b, c] = (await cluster(3)) as [PlumtreeNode, PlumtreeNode, PlumtreeNode];
    const sinks = [new Sink(b, 'handed'), new Sink(c, 'handed')];
    subs.push(...sinks.map((s) => s.sub));
    await a.ready('handed', { subscribers: 2 });
    for (let k = 0; k < 10; k++) await a.publish('handed', k);
    await waitFor('hand-offs delivered', () => sinks.every((s) => s.got.length >= 10));
    for (const s of sinks) expect(new Set(s.payloads()).size).toBe(10);
  });

  it('rejects with ReadyTimeoutError naming what is missing', async () => {
    const [a, b] = (await cluster(2)) as [PlumtreeNode, PlumtreeNode];
    subs.push(new Sink(b, 'sparse').sub);
    await waitFor('directory', () => a.subscribersOf('sparse').length === 1);
    const err = await a
      .ready('sparse', { subscribers: 3, timeoutMs: 100 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReadyTimeoutError);
    const e = err as ReadyTimeoutError;
    expect(e.topic).toBe('sparse');
    expect(e.missing).toEqual(['1 of 3 subscribers in the directory (n1)']);
    expect(e.message).toBe(
      'topic "sparse" not ready after 100 ms: 1 of 3 subscribers in the directory (n1)',
    );
  });

  it('resolves at once when already ready; rejects bad input and on close', async () => {
    const [a] = (await cluster(1)) as [PlumtreeNode];
    subs.push(new Sink(a, 'solo').sub);
    await a.ready('solo');
    await expect(a.ready('orders.*')).rejects.toBeInstanceOf(InvalidTopicError);
    await expect(a.ready('solo', { subscribers: -1 })).rejects.toBeInstanceOf(RangeError);
    const pending = a.ready('solo', { subscribers: 5 });
    await a.close();
    await expect(pending).rejects.toBeInstanceOf(NodeClosedError);
    await expect(a.ready('solo')).rejects.toBeInstanceOf(NodeClosedError);
  });

  it("a subscriber gets a message published the moment the publisher's directory lists it", async () => {
    const [a, b, c] = (await cluster(3)) as [PlumtreeNode, PlumtreeNode, PlumtreeNode];
    subs.push(new Sink(b, 'late').sub);
    const sa = new Sink(a, 'late');
    subs.push(sa.sub);
    await a.ready('late', { subscribers: 2 });
    // c subscribes; a publishes the moment its directory shows c, whatever c's links are doing.
    const sc = new Sink(c, 'late');
    subs.push(sc.sub);
    await waitFor('a to know c subscribes', () => a.subscribersOf('late').includes('n2'));
    await a.publish('late', 'after');
    await waitFor('c to get the message published after it subscribed', () => sc.got.length >= 1);
    expect(sc.payloads()).toEqual(['after']);
  });
});
