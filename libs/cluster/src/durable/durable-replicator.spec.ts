/**
 * The replicator between nodes on an in-memory network with a fake clock: frames travel as
 * microtasks, timers fire only when the test advances the clock, so every run is the same.
 */
import { describe, expect, it } from '@jest/globals';
import {
  CATCHUP_RESPONSE_KIND,
  decodeCatchupFrame,
  encodeCatchupRequest,
  type CatchupResponse,
} from './catchup-codec.js';
import type { DurableLog, DurableRecord } from './durable-log.js';
import { DurableOptionsError, type DurableReplicatorOptions } from './durable-options.js';
import { DurableReplicator, type DurableReplicatorEvent } from './durable-replicator.js';
import { MemoryDurableLog } from './memory-durable-log.js';

const TOPIC = 'orders';

/** A clock whose timers fire only in `run`. */
class FakeClock {
  nowMs = 1_000_000;
  private nextId = 1;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();
  setTimer = (fn: () => void, ms: number): unknown => {
    const id = this.nextId++;
    this.timers.set(id, { at: this.nowMs + ms, fn });
    return id;
  };
  clearTimer = (h: unknown): void => {
    this.timers.delete(h as number);
  };
  get pendingTimers(): number {
    return this.timers.size;
  }
  /** Let every microtask chain finish, then fire due timers in order up to `forMs` from now. */
  async run(forMs = 60_000): Promise<void> {
    const until = this.nowMs + forMs;
    for (;;) {
      await settle();
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const t of this.timers) if (next === undefined || t[1].at < next[1].at) next = t;
      if (next === undefined || next[1].at > until) break;
      this.timers.delete(next[0]);
      this.nowMs = Math.max(this.nowMs, next[1].at);
      next[1].fn();
    }
    this.nowMs = Math.max(this.nowMs, until);
  }
}

/** setImmediate runs after every queued microtask: the pipeline and the network are quiet. */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
}

interface Delivered {
  readonly id: string;
  readonly from: string;
}

/** A node: a replicator, its log, what it delivered, and what it sent. */
class TestNode {
  readonly replicator: DurableReplicator;
  readonly delivered: Delivered[] = [];
  readonly events: DurableReplicatorEvent[] = [];
  readonly sentTo = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly net: TestNetwork,
    readonly log: DurableLog | undefined,
    options: DurableReplicatorOptions,
  ) {
    this.replicator = new DurableReplicator(
      {
        send: (peer, frame) => {
          this.sentTo.set(peer, (this.sentTo.get(peer) ?? 0) + 1);
          return net.send(name, peer, frame);
        },
        deliver: (topic, r, from) => {
          expect(topic).toBe(TOPIC);
          // Persisted before delivered.
          expect(this.log?.has(r.origin, r.epoch, r.seq)).toBe(true);
          this.delivered.push({ id: idOf(r), from });
        },
        now: () => net.clock.nowMs,
        setTimer: net.clock.setTimer,
        clearTimer: net.clock.clearTimer,
      },
      options,
    );
    this.replicator.events$.subscribe((e) => this.events.push(e));
    if (log !== undefined) this.replicator.addTopic(TOPIC, log);
  }
  ids(): string[] {
    return this.delivered.map((d) => d.id);
  }
  live(r: DurableRecord, from = 'plumtree'): boolean {
    return this.replicator.onLive(TOPIC, r, from);
  }
  peers(...names: string[]): void {
    this.replicator.onPeersChanged(TOPIC, names);
  }
  stats() {
    return this.replicator.stats().topics[TOPIC]!;
  }
}

/** Routes frames by node name as microtasks; silent nodes swallow them, cut links drop them. */
class TestNetwork {
  readonly clock = new FakeClock();
  readonly nodes = new Map<string, TestNode>();
  readonly silent = new Set<string>();
  frames = 0;
  add(name: string, options: DurableReplicatorOptions = {}, durable = true): TestNode {
    const node = new TestNode(name, this, durable ? new MemoryDurableLog(TOPIC) : undefined, {
      paceMs: 10,
      requestTimeoutMs: 1_000,
      gapWaitMs: 60_000,
      ...options,
    });
    this.nodes.set(name, node);
    return node;
  }
  send(from: string, to: string, frame: Uint8Array): boolean {
    const target = this.nodes.get(to);
    if (target === undefined) return false;
    this.frames++;
    if (this.silent.has(to)) return true;
    queueMicrotask(() => target.replicator.onFrame(from, frame));
    return true;
  }
}

function rec(origin: string, seq: number, epoch = 7): DurableRecord {
  return {
    origin,
    epoch,
    seq,
    publishedAtMs: 1_764_000_000_000 + seq,
    headers: seq % 2 === 0 ? { k: String(seq) } : undefined,
    payload: new Uint8Array(100).fill(seq & 0xff),
  };
}

function idOf(r: { origin: string; epoch: number; seq: number }): string {
  return `${r.origin}/${r.epoch}/${r.seq}`;
}

/** Every delivered id once, and per stream in ascending seq order. */
function expectOncePerStreamOrder(ids: readonly string[]): void {
  expect(new Set(ids).size).toBe(ids.length);
  const last = new Map<string, number>();
  for (const id of ids) {
    const at = id.lastIndexOf('/');
    const stream = id.slice(0, at);
    const seq = Number(id.slice(at + 1));
    expect(seq).toBeGreaterThan(last.get(stream) ?? 0);
    last.set(stream, seq);
  }
}

/** 500 records from three origins, interleaved as a live stream would be. */
function fiveHundred(): DurableRecord[] {
  const out: DurableRecord[] = [];
  const counts = { p1: 0, p2: 0, p3: 0 };
  for (let i = 0; i < 500; i++) {
    const origin = (['p1', 'p2', 'p3'] as const)[i % 3]!;
    out.push(rec(origin, ++counts[origin]));
  }
  return out;
}

describe('DurableReplicator', () => {
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

  it('clamps a request asking for huge limits to its own caps and the frame size', async () => {
    const net = new TestNetwork();
    const a = net.add('a', { serveMaxMessages: 20, maxFrameBytes: 64 * 1024 });
    for (let s = 1; s <= 100; s++) a.live(rec('p', s));
    await net.clock.run();
    const frames: Uint8Array[] = [];
    net.nodes.set('probe', {
      replicator: { onFrame: (_p: string, f: Uint8Array) => frames.push(f) },
    } as unknown as TestNode);
    const ask = (maxMessages: number, maxBytes: number): void => {
      a.replicator.onFrame(
        'probe',
        encodeCatchupRequest({ requestId: 1, topic: TOPIC, marks: [], maxMessages, maxBytes }),
      );
    };
    ask(0xffffffff, 0xffffffff);
    await net.clock.run(0);
    let r = decodeCatchupFrame(frames.pop()!) as CatchupResponse;
    expect(r.kind).toBe(CATCHUP_RESPONSE_KIND);
    expect(r.records).toHaveLength(20);
    expect(r.more).toBe(true);

    // Big records: the frame cap binds before the message cap.
    const big = net.add('big', { maxFrameBytes: 4096 });
    for (let s = 1; s <= 10; s++) big.live({ ...rec('p', s), payload: new Uint8Array(1000) });
    await net.clock.run();
    big.replicator.onFrame(
      'probe',
      encodeCatchupRequest({
        requestId: 2,
        topic: TOPIC,
        marks: [],
        maxMessages: 0xffffffff,
        maxBytes: 0xffffffff,
      }),
    );
    await net.clock.run(0);
    const bytes = frames.pop()!;
    expect(bytes.length).toBeLessThanOrEqual(4096);
    r = decodeCatchupFrame(bytes) as CatchupResponse;
    expect(r.records.map((x) => x.seq)).toEqual([1, 2, 3]);
    expect(r.more).toBe(true);
    // Zero limits still make progress: one record.
    ask(0, 0);
    await net.clock.run(0);
    r = decodeCatchupFrame(frames.pop()!) as CatchupResponse;
    expect(r.records).toHaveLength(1);
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

  it('stops a topic cleanly on removeTopic: no timers left, no deliveries after it', async () => {
    const net = new TestNetwork();
    const a = net.add('a');
    for (let s = 1; s <= 100; s++) a.live(rec('p', s));
    await net.clock.run(0);
    const b = net.add('b', { pageMessages: 10 });
    b.peers('a');
    await settle();
    const before = b.delivered.length;
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(100);
    b.live(rec('q', 5));
    b.replicator.removeTopic(TOPIC);
    expect(b.replicator.hasTopic(TOPIC)).toBe(false);
    expect(net.clock.pendingTimers).toBe(0);
    await net.clock.run();
    expect(b.delivered.length).toBe(before);
    expect(b.replicator.onLive(TOPIC, rec('p', 1), 'x')).toBe(false);
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

  it('counts malformed frames and ignores frames of other kinds', () => {
    const net = new TestNetwork();
    const b = net.add('b');
    expect(b.replicator.onFrame('x', Uint8Array.of(1, 2, 3))).toBe(false);
    expect(b.replicator.onFrame('x', Uint8Array.of(0x83, 0))).toBe(true);
    expect(b.replicator.onFrame('x', Uint8Array.of(0x84))).toBe(true);
    expect(b.replicator.stats().malformedFrames).toBe(2);
  });

  it('validates options, listing every problem', () => {
    const net = new TestNetwork();
    let error: unknown;
    try {
      net.add('b', { paceMs: -1, maxHeldPerTopic: 0.5, bogus: 1 } as DurableReplicatorOptions);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DurableOptionsError);
    expect((error as DurableOptionsError).problems).toHaveLength(3);
  });
});
