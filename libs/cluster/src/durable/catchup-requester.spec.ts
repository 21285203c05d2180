/**
 * Catch-up, requesting side: pages, pacing, retries and partitions, through the replicator on
 * the in-memory harness (test/support/durable-replicator-harness.ts).
 */
import { describe, expect, it } from '@jest/globals';
import {
  expectOncePerStreamOrder,
  fiveHundred,
  idOf,
  rec,
  settle,
  TestNetwork,
} from '../../../../test/support/durable-replicator-harness.js';

describe('DurableReplicator catch-up', () => {
  it('catches up 500 missed messages from 3 origins once each, in per-stream order, in paced pages', async () => {
    const net = new TestNetwork();
    const a = net.add('a');
    const all = fiveHundred();
    for (const r of all) a.live(r);
    await net.clock.run();
    expect(a.delivered).toHaveLength(500);

    const b = net.add('b', { pageMessages: 64 });
    b.peers('a');
    await net.clock.run();

    expect(b.delivered).toHaveLength(500);
    expectOncePerStreamOrder(b.ids());
    expect(new Set(b.ids())).toEqual(new Set(all.map(idOf)));
    expect(b.delivered.every((d) => d.from === 'a')).toBe(true);
    const done = b.events.find((e) => e.type === 'catchup-completed');
    expect(done).toMatchObject({ peer: 'a', reason: 'start', records: 500, pages: 8 });
    // Seven pauses between eight pages.
    expect(done!.type === 'catchup-completed' && done!.durationMs).toBeGreaterThanOrEqual(70);
    expect(b.stats()).toMatchObject({
      catchupsStarted: 1,
      catchupsCompleted: 1,
      recordsPulled: 500,
      duplicatesDropped: 0,
    });
    expect(a.stats()).toMatchObject({ requestsServed: 8, recordsServed: 500 });
  });

  it('lets live traffic through between catch-up pages and keeps each stream in order', async () => {
    const net = new TestNetwork();
    const a = net.add('a');
    for (let s = 1; s <= 300; s++) a.live(rec('p1', s));
    await net.clock.run();
    const b = net.add('b', { pageMessages: 50 });
    b.peers('a');
    // First page is in; live messages of another stream flow before the catch-up ends.
    await settle();
    expect(b.delivered.length).toBeGreaterThan(0);
    expect(b.delivered.length).toBeLessThan(300);
    for (let s = 1; s <= 5; s++) b.live(rec('q', s));
    // And live messages that continue the caught-up stream wait for it.
    for (let s = 301; s <= 310; s++) b.live(rec('p1', s));
    await settle();
    expect(b.ids().filter((id) => id.startsWith('q/'))).toHaveLength(5);
    expect(b.ids().filter((id) => id.startsWith('p1/')).length).toBeLessThan(300);
    await net.clock.run();
    expect(b.delivered).toHaveLength(315);
    expectOncePerStreamOrder(b.ids());
  });

  it('heals a partition: both sides end with every message exactly once', async () => {
    const net = new TestNetwork();
    const [a1, a2, b1, b2] = ['a1', 'a2', 'b1', 'b2'].map((n) => net.add(n, { pageMessages: 32 }));
    a1!.peers('a2');
    a2!.peers('a1');
    b1!.peers('b2');
    b2!.peers('b1');
    await net.clock.run();
    // Each side publishes its own messages; Plumtree delivers them within the side.
    for (let s = 1; s <= 100; s++) {
      for (const n of [a1!, a2!]) n.live(rec('pa', s), 'pa');
      for (const n of [b1!, b2!]) n.live(rec('pb', s), 'pb');
    }
    await net.clock.run();
    // Healed: each node sees the other side's nodes appear.
    a1!.peers('a2', 'b1', 'b2');
    a2!.peers('a1', 'b1', 'b2');
    b1!.peers('b2', 'a1', 'a2');
    b2!.peers('b1', 'a1', 'a2');
    await net.clock.run();
    for (const n of [a1!, a2!, b1!, b2!]) {
      expect(n.delivered).toHaveLength(200);
      expectOncePerStreamOrder(n.ids());
      expect(n.stats().catchupsFailed).toBe(0);
    }
    // Each new peer got a catch-up of its own, sent to THAT peer; the second found nothing new.
    expect(a1!.events.filter((e) => e.type === 'catchup-completed').map((e) => e.peer)).toEqual([
      'a2',
      'b1',
      'b2',
    ]);
    expect(a1!.stats().catchupsCompleted).toBe(3);
    expect(a1!.stats().recordsPulled).toBe(100);
  });

  it('retries a silent peer with another, then fails with an event', async () => {
    const net = new TestNetwork();
    net.add('x', {}, false);
    net.add('y', {}, false);
    net.silent.add('x');
    net.silent.add('y');
    const b = net.add('b', { requestTimeoutMs: 1_000 });
    b.peers('x', 'y');
    await net.clock.run();
    const kinds = b.events.map((e) => `${e.type}:${'peer' in e ? e.peer : ''}`);
    expect(kinds).toEqual(['catchup-started:x', 'catchup-started:y', 'catchup-failed:y']);
    expect(b.events[2]).toMatchObject({ failure: 'timeout', attempts: 2, reason: 'start' });
    expect(b.stats()).toMatchObject({ catchupsFailed: 1, requestTimeouts: 2 });
  });

  it('retries a silent peer with one that answers', async () => {
    const net = new TestNetwork();
    const a = net.add('a');
    for (let s = 1; s <= 3; s++) a.live(rec('p', s));
    net.add('x', {}, false);
    net.silent.add('x');
    const b = net.add('b');
    b.peers('x', 'a');
    await net.clock.run();
    expect(b.ids()).toEqual(['p/7/1', 'p/7/2', 'p/7/3']);
    expect(b.events.at(-1)).toMatchObject({ type: 'catchup-completed', peer: 'a' });
    expect(b.stats().requestTimeouts).toBe(1);
  });

  it('moves on at once when the peer of a request in flight leaves the peer list', async () => {
    const net = new TestNetwork();
    const a = net.add('a');
    for (let s = 1; s <= 3; s++) a.live(rec('p', s));
    net.add('x', {}, false);
    net.silent.add('x');
    const b = net.add('b', { requestTimeoutMs: 60_000 });
    b.peers('x');
    await Promise.resolve();
    expect(b.events.map((e) => e.type)).toEqual(['catchup-started']);
    // x is cut off (failed, partitioned): the request to it is over, a is asked instead.
    b.peers('a');
    await net.clock.run();
    expect(b.ids()).toEqual(['p/7/1', 'p/7/2', 'p/7/3']);
    expect(b.events.at(-1)).toMatchObject({ type: 'catchup-completed', peer: 'a' });
    expect(b.stats().requestTimeouts).toBe(0);
  });

  it('skips a peer that is not durable for the topic', async () => {
    const net = new TestNetwork();
    const a = net.add('a');
    for (let s = 1; s <= 3; s++) a.live(rec('p', s));
    net.add('n', {}, false);
    const b = net.add('b');
    b.peers('n', 'a');
    await net.clock.run();
    expect(b.ids()).toEqual(['p/7/1', 'p/7/2', 'p/7/3']);
    expect(b.events.map((e) => e.type)).toEqual([
      'catchup-started',
      'catchup-started',
      'catchup-completed',
    ]);
    // Later catch-ups (a gap) do not ask it again.
    b.live(rec('p', 9));
    await net.clock.run(100);
    expect(b.sentTo.get('n')).toBe(1);
    expect(b.sentTo.get('a')).toBe(2);
  });

  it('fails with no-peer when every peer is not durable', async () => {
    const net = new TestNetwork();
    net.add('n', {}, false);
    const b = net.add('b');
    b.peers('n');
    await net.clock.run();
    expect(b.events.at(-1)).toMatchObject({ type: 'catchup-failed', failure: 'not-durable' });
  });

  it('asks a peer that answered not-durable again after it left and rejoined', async () => {
    const net = new TestNetwork();
    net.add('n', {}, false);
    const b = net.add('b');
    b.peers('n');
    await net.clock.run();
    expect(b.sentTo.get('n')).toBe(1);
    b.peers();
    b.peers('n');
    await net.clock.run();
    expect(b.sentTo.get('n')).toBe(2);
  });
});
