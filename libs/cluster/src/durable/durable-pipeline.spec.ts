/**
 * The pipeline of a durable topic (dedupe, order, append, deliver), through the replicator on
 * the in-memory harness (test/support/durable-replicator-harness.ts).
 */
import { describe, expect, it } from '@jest/globals';
import type { DurableLog } from './durable-log.js';
import { MemoryDurableLog } from './memory-durable-log.js';
import {
  rec,
  settle,
  TestNetwork,
  TestNode,
  TOPIC,
} from '../../../../test/support/durable-replicator-harness.js';

describe('DurableReplicator pipeline', () => {
  it('holds a record after a gap and delivers in order once catch-up fills the gap', async () => {
    const net = new TestNetwork();
    const a = net.add('a');
    const c = net.add('c');
    c.peers('a');
    await net.clock.run();
    for (let s = 1; s <= 4; s++) a.live(rec('p', s));
    await net.clock.run(0);
    // Seq 2 never reaches c live: the gap starts a catch-up with a, which has it.
    for (const s of [1, 3, 4]) c.live(rec('p', s));
    await net.clock.run(0);
    expect(c.ids()).toEqual(['p/7/1', 'p/7/2', 'p/7/3', 'p/7/4']);
    expect(c.delivered.map((d) => d.from)).toEqual(['plumtree', 'a', 'plumtree', 'plumtree']);
    expect(c.stats()).toMatchObject({ gapsSeen: 1, held: 0, recordsPulled: 1 });
    expect(c.events.filter((e) => e.type === 'catchup-started').map((e) => e.reason)).toEqual([
      'start',
      'gap',
    ]);
  });

  it('holds a caught-up record that follows a gap in the peer log until the gap fills', async () => {
    const net = new TestNetwork();
    const a = net.add('a');
    // a's log lacks seq 2 (still on its way to a through the tree).
    await a.log!.append([rec('p', 1), rec('p', 3)]);
    const c = net.add('c');
    c.peers('a');
    await net.clock.run(0);
    expect(c.ids()).toEqual(['p/7/1']);
    // The gap asked once more (the same peer: the only one), which lacks it too.
    expect(c.stats()).toMatchObject({ held: 1, catchupsCompleted: 2 });
    c.live(rec('p', 2));
    await net.clock.run(0);
    expect(c.ids()).toEqual(['p/7/1', 'p/7/2', 'p/7/3']);
  });

  it('keeps live records held when a catch-up completes without the gap, until gapWaitMs', async () => {
    const net = new TestNetwork();
    const a = net.add('a');
    a.live(rec('p', 1));
    const c = net.add('c', { gapWaitMs: 2_000 });
    c.peers('a');
    await net.clock.run(0);
    c.live(rec('p', 3));
    await net.clock.run(1_000);
    // a did not have seq 2 either: still held, in case it arrives live.
    expect(c.ids()).toEqual(['p/7/1']);
    expect(c.stats().catchupsCompleted).toBe(2);
    await net.clock.run(1_000);
    expect(c.ids()).toEqual(['p/7/1', 'p/7/3']);
  });

  it('does not give up a gap while a catch-up request is unanswered, then waits gapWaitMs', async () => {
    const net = new TestNetwork();
    net.add('x');
    net.silent.add('x');
    // requestTimeoutMs 1,000 (the test network's): longer than gapWaitMs.
    const c = net.add('c', { gapWaitMs: 500 });
    c.peers('x');
    await net.clock.run(1_000);
    c.live(rec('p', 1));
    c.live(rec('p', 3));
    await net.clock.run(900);
    expect(c.ids()).toEqual(['p/7/1']);
    // The request times out (1,000 ms), the catch-up fails (no other peer), 500 ms later: given up.
    await net.clock.run(599);
    expect(c.ids()).toEqual(['p/7/1']);
    await net.clock.run(1);
    expect(c.ids()).toEqual(['p/7/1', 'p/7/3']);
    expect(c.stats().catchupsFailed).toBe(2);
  });

  it('does not give up a gap while a catch-up is still pulling pages', async () => {
    const net = new TestNetwork();
    const a = net.add('a');
    await a.log!.append(Array.from({ length: 600 }, (_, k) => rec('p', k + 1)));
    // Pages of 256, 10 ms apart: longer in all than gapWaitMs, never longer between pages.
    const c = net.add('c', { gapWaitMs: 15, pageMessages: 256 });
    c.live(rec('p', 601));
    c.peers('a');
    await net.clock.run(1_000);
    expect(c.ids()).toEqual(Array.from({ length: 601 }, (_, k) => `p/7/${(k + 1).toString()}`));
    expect(c.stats()).toMatchObject({ held: 0, recordsPulled: 600 });
  });

  it('fills a gap given up later: the hole is asked for again, backing off, until a peer has it', async () => {
    const net = new TestNetwork();
    const a = net.add('a');
    a.live(rec('p', 1));
    a.live(rec('p', 3));
    const c = net.add('c', { gapWaitMs: 1_000, repairMaxDelayMs: 4_000 });
    c.peers('a');
    c.live(rec('p', 1));
    c.live(rec('p', 3));
    // Nobody has seq 2: given up after gapWaitMs, 3 goes on, the log keeps a hole.
    await net.clock.run(30_000);
    expect(c.ids()).toEqual(['p/7/1', 'p/7/3']);
    const repairs = (): number =>
      c.events.filter((e) => e.type === 'catchup-started' && e.reason === 'repair').length;
    // Repairs at +1, +2, +4, +4, ... s: backing off to repairMaxDelayMs.
    expect(repairs()).toBeGreaterThanOrEqual(7);
    expect(repairs()).toBeLessThanOrEqual(9);
    // a gets seq 2 at last (late through the tree): the next repair brings it to c.
    a.live(rec('p', 2));
    await net.clock.run(4_000);
    expect(c.ids()).toEqual(['p/7/1', 'p/7/3', 'p/7/2']);
    const done = repairs();
    await net.clock.run(60_000);
    expect(repairs()).toBe(done);
    expect(net.clock.pendingTimers).toBe(0);
  });

  it('holds live records after a gap until the gap fills live', async () => {
    const net = new TestNetwork();
    const silentPeer = net.add('x', {}, false);
    net.silent.add('x');
    const b = net.add('b');
    b.peers('x');
    b.live(rec('p', 1));
    b.live(rec('p', 3));
    b.live(rec('p', 4));
    await net.clock.run(500);
    expect(b.ids()).toEqual(['p/7/1']);
    expect(b.stats()).toMatchObject({ held: 2, gapsSeen: 1 });
    b.live(rec('p', 2));
    await net.clock.run(0);
    expect(b.ids()).toEqual(['p/7/1', 'p/7/2', 'p/7/3', 'p/7/4']);
    expect(b.stats().held).toBe(0);
    expect(silentPeer.delivered).toHaveLength(0);
  });

  it('holds an unknown stream starting above 1, and catch-up supplies its start', async () => {
    const net = new TestNetwork();
    const a = net.add('a');
    for (let s = 1; s <= 3; s++) a.live(rec('p', s));
    await net.clock.run(0);
    const b = net.add('b');
    b.peers('a');
    await net.clock.run();
    const c = net.add('c');
    c.live(rec('p', 4));
    c.peers('a');
    await net.clock.run();
    expect(c.ids()).toEqual(['p/7/1', 'p/7/2', 'p/7/3', 'p/7/4']);
  });

  it('never blocks a stream: after gapWaitMs the held records go, and a late fill still arrives once', async () => {
    const net = new TestNetwork();
    const b = net.add('b', { gapWaitMs: 2_000 });
    b.live(rec('p', 1));
    b.live(rec('p', 3));
    b.live(rec('p', 4));
    await net.clock.run(1_999);
    expect(b.ids()).toEqual(['p/7/1']);
    await net.clock.run(1);
    expect(b.ids()).toEqual(['p/7/1', 'p/7/3', 'p/7/4']);
    // The stream moves on without waiting again.
    b.live(rec('p', 5));
    b.live(rec('p', 2));
    b.live(rec('p', 2));
    await net.clock.run(0);
    expect(b.ids()).toEqual(['p/7/1', 'p/7/3', 'p/7/4', 'p/7/5', 'p/7/2']);
    expect(b.stats().duplicatesDropped).toBe(1);
    // The repair of the hole finds it filled and stops.
    await net.clock.run(60_000);
    expect(net.clock.pendingTimers).toBe(0);
  });

  it('flushes the hold-back buffer in order when it is full', async () => {
    const net = new TestNetwork();
    const b = net.add('b', { maxHeldPerTopic: 4 });
    b.live(rec('p', 1));
    for (const s of [6, 3, 5]) b.live(rec('p', s));
    await net.clock.run(0);
    expect(b.ids()).toEqual(['p/7/1']);
    b.live(rec('p', 4));
    await net.clock.run(0);
    expect(b.ids()).toEqual(['p/7/1', 'p/7/3', 'p/7/4', 'p/7/5', 'p/7/6']);
    expect(b.stats().held).toBe(0);
  });

  it('drops live copies of records already caught up, in flight or held', async () => {
    const net = new TestNetwork();
    const a = net.add('a');
    for (let s = 1; s <= 10; s++) a.live(rec('p', s));
    await net.clock.run(0);
    const b = net.add('b');
    b.peers('a');
    await net.clock.run();
    expect(b.delivered).toHaveLength(10);
    b.live(rec('p', 5));
    b.live(rec('p', 11));
    b.live(rec('p', 11)); // same turn: still in flight
    b.live(rec('p', 13));
    b.live(rec('p', 13)); // held
    // The gap fills live before the catch-up it started completes.
    b.live(rec('p', 12));
    await net.clock.run();
    expect(b.ids().slice(10)).toEqual(['p/7/11', 'p/7/12', 'p/7/13']);
    expect(b.stats().duplicatesDropped).toBe(3);
  });

  it('delivers nothing twice after a restart with the same log', async () => {
    const net = new TestNetwork();
    const a = net.add('a');
    for (let s = 1; s <= 5; s++) a.live(rec('p', s));
    await net.clock.run();
    const restarted = new TestNode('a2', net, a.log, {});
    restarted.live(rec('p', 5));
    restarted.live(rec('p', 6));
    await net.clock.run();
    expect(restarted.ids()).toEqual(['p/7/6']);
  });

  it('refuses live records past maxPendingPerTopic and pulls them later by catch-up', async () => {
    const net = new TestNetwork();
    const a = net.add('a');
    for (let s = 1; s <= 6; s++) a.live(rec('p', s));
    await net.clock.run();
    const b = net.add('b', { maxPendingPerTopic: 4 });
    const results = [1, 2, 3, 4, 5, 6].map((s) => b.live(rec('p', s)));
    expect(results).toEqual([true, true, true, true, false, false]);
    expect(b.stats().liveRefused).toBe(2);
    await net.clock.run();
    expect(b.ids()).toHaveLength(4);
    b.peers('a');
    await net.clock.run();
    expect(b.ids()).toEqual([1, 2, 3, 4, 5, 6].map((s) => `p/7/${s}`));
  });

  it('reports an append failure and delivers nothing of that batch', async () => {
    const net = new TestNetwork();
    const failing: DurableLog = {
      topic: TOPIC,
      has: () => false,
      marks: () => [],
      append: () => Promise.reject(new Error('disk full')),
      readMissing: () => Promise.resolve({ records: [], more: false }),
    };
    const b = new TestNode('b', net, failing, {});
    b.live(rec('p', 1));
    b.live(rec('p', 2));
    await net.clock.run();
    expect(b.delivered).toHaveLength(0);
    expect(b.events).toEqual([
      { type: 'append-failed', topic: TOPIC, records: 2, error: 'disk full' },
    ]);
    expect(b.stats()).toMatchObject({ appendFailures: 2, pending: 0 });
  });

  it('batches records accepted in the same turn into one append', async () => {
    const net = new TestNetwork();
    const log = new MemoryDurableLog(TOPIC);
    const sizes: number[] = [];
    const counting: DurableLog = {
      topic: TOPIC,
      has: (o, e, s) => log.has(o, e, s),
      marks: () => log.marks(),
      append: (rs) => {
        sizes.push(rs.length);
        return log.append(rs);
      },
      readMissing: (m, l) => log.readMissing(m, l),
    };
    const b = new TestNode('b', net, counting, {});
    for (let s = 1; s <= 5; s++) b.live(rec('p', s));
    await settle();
    for (let s = 6; s <= 7; s++) b.live(rec('p', s));
    await net.clock.run();
    expect(sizes).toEqual([5, 2]);
    expect(b.delivered).toHaveLength(7);
  });
});
