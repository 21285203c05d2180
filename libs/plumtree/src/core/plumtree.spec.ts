import { describe, expect, it } from '@jest/globals';
import { createRng } from '@plumtree/common';
import { PlumtreeConfig, resolvePlumtreeConfig } from '../config/plumtree-config.js';
import {
  FrameType,
  type PlumtreeEvent,
  type PlumtreeMessage,
  type TopicView,
  type Transmit,
} from '../types.js';
import { Plumtree } from './plumtree.js';
import { PRUNE_HOLD_MS } from './tree-links.js';
import { MessageTooLargeError, NotSubscribedError } from './errors.js';

function view(peers: string[]): TopicView {
  const set = new Set(peers);
  return { size: peers.length, at: (i) => peers[i], has: (p) => set.has(p) };
}

function drain(core: Plumtree): { tx: Transmit[]; ev: PlumtreeEvent[] } {
  const tx: Transmit[] = [];
  const ev: PlumtreeEvent[] = [];
  for (let t = core.pollTransmit(); t; t = core.pollTransmit()) tx.push(t);
  for (let e = core.pollEvent(); e; e = core.pollEvent()) ev.push(e);
  return { tx, ev };
}

const payload = new Uint8Array([1, 2, 3]);
const T = 'orders';

/** A node "a" with eager peers and lazy peers set up by hand through link messages. */
function node(config: Partial<PlumtreeConfig> = {}, peers = ['b', 'c', 'd', 'e']): Plumtree {
  const core = new Plumtree({
    self: 'a',
    epoch: 7,
    rng: createRng(1),
    config: resolvePlumtreeConfig({ eagerFanout: 1, lazyFanout: 3, ...config }),
  });
  core.subscribe(T, view(peers), 0);
  // The other peers link to "a" as lazy (a PRUNE from a non-neighbour is a lazy link request).
  for (const p of peers)
    if (!core.isEager(T, p)) core.handleMessage(p, { type: FrameType.Prune, topic: T }, 0);
  drain(core);
  return core;
}

function gossip(origin: string, seq: number, hops: number): PlumtreeMessage {
  return {
    type: FrameType.Gossip,
    topic: T,
    id: { origin, epoch: 1, seq },
    hops,
    publishedAtMs: 0,
    payload,
  };
}
function ihave(origin: string, seq: number, hops: number): PlumtreeMessage {
  return { type: FrameType.IHave, topic: T, entries: [{ id: { origin, epoch: 1, seq }, hops }] };
}

describe('Plumtree core', () => {
  it('subscribing opens eagerFanout links, all eager, and tells each peer (GRAFT without ids)', () => {
    const core = new Plumtree({
      self: 'a',
      epoch: 0,
      rng: createRng(3),
      config: resolvePlumtreeConfig({ eagerFanout: 2, lazyFanout: 2 }),
    });
    core.subscribe(T, view(['b', 'c', 'd', 'e', 'f']), 0);
    const { tx } = drain(core);
    const s = core.stats(T)!;
    expect(s.eager).toBe(2);
    expect(s.lazy).toBe(0);
    expect(tx.every((t) => t.message.type === FrameType.Graft && t.message.ids.length === 0)).toBe(
      true,
    );
    expect(tx.map((t) => t.to).sort()).toEqual([...s.eagerPeers].sort());
  });

  it('the lazy set is bounded by lazyFanout: a pruned link beyond it is dropped', () => {
    const core = node({ lazyFanout: 3 }, ['b', 'c', 'd', 'e', 'f']);
    expect(core.stats(T)!.lazy).toBe(3);
    const eagerPeer = core.stats(T)!.eagerPeers[0]!;
    core.handleMessage(eagerPeer, { type: FrameType.Prune, topic: T }, 1);
    expect(core.isEager(T, eagerPeer)).toBe(false);
    expect(core.isLazy(T, eagerPeer)).toBe(false);
    expect(core.stats(T)!.lazy).toBe(3);
  });

  it('prefers measured low-RTT peers for the eager set', () => {
    const peers = ['b', 'c'];
    const core = new Plumtree({
      self: 'a',
      epoch: 0,
      rng: createRng(5),
      config: resolvePlumtreeConfig({ eagerFanout: 1, lazyFanout: 1 }),
    });
    core.recordRtt('b', 80);
    core.recordRtt('c', 2);
    core.subscribe(T, view(peers), 0);
    expect(core.isEager(T, 'c')).toBe(true);
    expect(core.isEager(T, 'b')).toBe(false);
  });

  it('broadcast delivers locally, gossips to eager peers with hops 1 and announces to lazy peers after ihaveInterval', () => {
    const core = node({ ihaveIntervalMs: 100 });
    const eager = core.stats(T)!.eagerPeers;
    const id = core.broadcast(T, payload, 10);
    expect(id).toEqual({ origin: 'a', epoch: 7, seq: 1 });
    const { tx, ev } = drain(core);
    expect(ev).toContainEqual(expect.objectContaining({ type: 'delivered', hops: 0, from: 'a' }));
    expect(tx.map((t) => t.to)).toEqual(eager);
    expect(tx.every((t) => t.message.type === FrameType.Gossip && t.message.hops === 1)).toBe(true);
    expect(core.pollTimeout()).toBe(110);
    core.handleTimeout(109);
    expect(drain(core).tx).toHaveLength(0);
    core.handleTimeout(110);
    const flushed = drain(core).tx;
    expect(flushed.length).toBe(3);
    for (const t of flushed) {
      expect(t.message.type).toBe(FrameType.IHave);
      if (t.message.type === FrameType.IHave) expect(t.message.entries[0]!.hops).toBe(1);
    }
  });

  it('forwards a new GOSSIP to eager peers but the sender, with hops + 1, and never delivers twice', () => {
    const core = node();
    core.handleMessage('b', { type: FrameType.Graft, topic: T, ids: [] }, 0); // b eager
    core.handleMessage('c', { type: FrameType.Graft, topic: T, ids: [] }, 0); // c eager
    drain(core);
    core.handleMessage('b', gossip('z', 1, 4), 1);
    const first = drain(core);
    expect(first.ev.filter((e) => e.type === 'delivered')).toHaveLength(1);
    const fwd = first.tx.filter((t) => t.message.type === FrameType.Gossip);
    expect(fwd.map((t) => t.to)).not.toContain('b');
    expect(fwd.map((t) => t.to)).toContain('c');
    expect(fwd.every((t) => t.message.type === FrameType.Gossip && t.message.hops === 5)).toBe(
      true,
    );
    // Duplicate from c: PRUNE to c, c becomes lazy, no second delivery.
    core.handleMessage('c', gossip('z', 1, 2), 2);
    const dup = drain(core);
    expect(dup.ev.filter((e) => e.type === 'delivered')).toHaveLength(0);
    expect(dup.tx).toEqual([{ to: 'c', message: { type: FrameType.Prune, topic: T } }]);
    expect(dup.ev).toContainEqual({ type: 'lazyDemotion', topic: T, peer: 'c' });
    expect(core.isLazy(T, 'c')).toBe(true);
    expect(core.counters.duplicates).toBe(1);
  });

  it('a PRUNE moves the sender to lazy; a GOSSIP from a non-neighbour makes it eager (symmetric links)', () => {
    const core = node({ lazyFanout: 6 });
    core.handleMessage('x', gossip('z', 1, 1), 0);
    expect(core.isEager(T, 'x')).toBe(true);
    core.handleMessage('x', { type: FrameType.Prune, topic: T }, 1);
    expect(core.isLazy(T, 'x')).toBe(true);
    expect(core.isEager(T, 'x')).toBe(false);
  });

  it('copies a PRUNEd peer sent before reading the PRUNE neither earn more PRUNEs nor re-promote it within PRUNE_HOLD_MS', () => {
    const core = node({ lazyFanout: 6 });
    core.handleMessage('y', gossip('z', 1, 1), 0);
    core.handleMessage('x', gossip('z', 1, 1), 10); // a duplicate: PRUNE x
    expect(drain(core).tx.filter((t) => t.to === 'x')).toEqual([
      { to: 'x', message: { type: FrameType.Prune, topic: T } },
    ]);
    // What x pushed before it read the PRUNE: no second PRUNE, and a new id keeps x lazy.
    core.handleMessage('x', gossip('z', 1, 1), 20);
    core.handleMessage('x', gossip('z', 2, 1), 30);
    expect(drain(core).tx.filter((t) => t.message.type === FrameType.Prune)).toHaveLength(0);
    expect(core.isLazy(T, 'x')).toBe(true);
    // After the hold a duplicate is PRUNEd again (the first PRUNE may have been lost)...
    core.handleMessage('x', gossip('z', 2, 1), 10 + PRUNE_HOLD_MS);
    const again = drain(core).tx.filter((t) => t.message.type === FrameType.Prune);
    expect(again.map((t) => t.to)).toEqual(['x']);
    // ...and a new id from x makes it eager again (symmetric links).
    core.handleMessage('x', gossip('z', 3, 1), 20 + 2 * PRUNE_HOLD_MS);
    expect(core.isEager(T, 'x')).toBe(true);
  });

  it('GRAFTs only after graftTimeout, then retries the next announcer with exponential backoff, then fails', () => {
    const core = node({
      graftTimeoutMs: 500,
      graftRetryTimeoutMs: 100,
      graftBackoffMaxMs: 1000,
      graftMaxRetries: 3,
    });
    core.handleMessage('c', ihave('z', 9, 3), 1000);
    core.handleMessage('d', ihave('z', 9, 2), 1100);
    expect(drain(core).tx).toHaveLength(0);
    expect(core.pollTimeout()).toBe(1500);
    core.handleTimeout(1499);
    expect(drain(core).tx).toHaveLength(0);
    core.handleTimeout(1500);
    let out = drain(core);
    expect(out.tx).toEqual([
      {
        to: 'c',
        message: { type: FrameType.Graft, topic: T, ids: [{ origin: 'z', epoch: 1, seq: 9 }] },
      },
    ]);
    expect(out.ev).toContainEqual({
      type: 'graftSent',
      topic: T,
      peer: 'c',
      id: { origin: 'z', epoch: 1, seq: 9 },
    });
    expect(core.isEager(T, 'c')).toBe(true);
    // Retry 1 after 100 ms to the next announcer.
    expect(core.pollTimeout()).toBe(1600);
    core.handleTimeout(1600);
    out = drain(core);
    expect(out.tx.map((t) => t.to)).toEqual(['d']);
    // Retry 2 after 200 ms (backoff), back to the first announcer.
    expect(core.pollTimeout()).toBe(1800);
    core.handleTimeout(1800);
    expect(drain(core).tx.map((t) => t.to)).toEqual(['c']);
    // Retries exhausted (3 GRAFTs): given up after the next 400 ms.
    expect(core.pollTimeout()).toBe(2200);
    core.handleTimeout(2200);
    out = drain(core);
    expect(out.tx).toHaveLength(0);
    expect(out.ev).toContainEqual({
      type: 'graftFailed',
      topic: T,
      id: { origin: 'z', epoch: 1, seq: 9 },
    });
    expect(core.counters.graftsFailed).toBe(1);
    expect(core.stats(T)!.pendingGrafts).toBe(0);
  });

  it('a fresh IHAVE after the last retry renews one more GRAFT instead of giving the id up', () => {
    const core = node({
      graftTimeoutMs: 500,
      graftRetryTimeoutMs: 100,
      graftBackoffMaxMs: 1000,
      graftMaxRetries: 2,
    });
    const id = { origin: 'z', epoch: 1, seq: 9 };
    core.handleMessage('c', ihave('z', 9, 3), 1000);
    core.handleTimeout(1500); // GRAFT 1 to c
    core.handleTimeout(1600); // GRAFT 2 to c: the last one
    expect(drain(core).tx.filter((t) => t.message.type === FrameType.Graft)).toHaveLength(2);
    // c's answer did not fit its queue; it announces the id again before we give up.
    core.handleMessage('c', ihave('z', 9, 3), 1700);
    core.handleTimeout(1800);
    let out = drain(core);
    expect(out.tx).toEqual([{ to: 'c', message: { type: FrameType.Graft, topic: T, ids: [id] } }]);
    expect(out.ev.some((e) => e.type === 'graftFailed')).toBe(false);
    // Without a further announcement the id is given up after that GRAFT.
    core.handleTimeout(core.pollTimeout()!);
    out = drain(core);
    expect(out.ev).toContainEqual({ type: 'graftFailed', topic: T, id });
  });

  it('cancels the missing timer when the GOSSIP arrives in time', () => {
    const core = node({ graftTimeoutMs: 500 });
    core.handleMessage('c', ihave('z', 1, 2), 0);
    core.handleMessage('b', gossip('z', 1, 3), 200);
    drain(core);
    core.handleTimeout(600);
    expect(drain(core).tx.filter((t) => t.message.type === FrameType.Graft)).toHaveLength(0);
    expect(core.stats(T)!.pendingGrafts).toBe(0);
  });

  it('markSeen: an id that arrived another way (durable catch-up) is neither GRAFTed nor delivered again', () => {
    const core = node({ graftTimeoutMs: 500 });
    // Announced before, caught up meanwhile: the pending GRAFT is cancelled.
    core.handleMessage('c', ihave('z', 1, 2), 0);
    expect(core.markSeen(T, { origin: 'z', epoch: 1, seq: 1 }, 100)).toBe(true);
    // Caught up first, announced after: no GRAFT either.
    expect(core.markSeen(T, { origin: 'z', epoch: 1, seq: 2 }, 100)).toBe(true);
    core.handleMessage('d', ihave('z', 2, 2), 200);
    core.handleTimeout(1000);
    let out = drain(core);
    expect(out.tx.filter((t) => t.message.type === FrameType.Graft)).toHaveLength(0);
    expect(core.stats(T)!.pendingGrafts).toBe(0);
    // A late copy through the tree is a duplicate, not a second delivery.
    core.handleMessage('b', gossip('z', 2, 3), 300);
    out = drain(core);
    expect(out.ev.filter((e) => e.type === 'delivered')).toHaveLength(0);
    expect(core.counters.duplicates).toBe(1);
    // Already seen, or a topic not subscribed: nothing to record.
    expect(core.markSeen(T, { origin: 'z', epoch: 1, seq: 2 }, 400)).toBe(false);
    expect(core.markSeen('other', { origin: 'z', epoch: 1, seq: 3 }, 400)).toBe(false);
  });

  it('holds: an announced id the node holds elsewhere (a durable log) is remembered, never GRAFTed', () => {
    const held = new Set(['z/2']);
    const core = new Plumtree({
      self: 'a',
      epoch: 7,
      rng: createRng(1),
      config: resolvePlumtreeConfig({ eagerFanout: 1, lazyFanout: 3, graftTimeoutMs: 500 }),
      holds: (topic, id) => topic === T && held.has(`${id.origin}/${id.seq.toString()}`),
    });
    core.subscribe(T, view(['b', 'c']), 0);
    drain(core);
    core.handleMessage(
      'c',
      {
        type: FrameType.IHave,
        topic: T,
        entries: [{ id: { origin: 'z', epoch: 1, seq: 1 }, hops: 1, count: 3 }],
      },
      0,
    );
    const grafts: Transmit[] = [];
    for (let t = core.pollTimeout(); t !== undefined && t < 10_000; t = core.pollTimeout()) {
      core.handleTimeout(t);
      grafts.push(...drain(core).tx.filter((x) => x.message.type === FrameType.Graft));
    }
    // Seqs 1 and 3 are missing (3 a little later: its origin looked still in flight); 2 is held.
    const seqs = new Set(
      grafts
        .flatMap((t) => (t.message.type === FrameType.Graft ? t.message.ids : []))
        .map((x) => x.seq),
    );
    expect([...seqs].sort()).toEqual([1, 3]);
    core.handleMessage('b', gossip('z', 2, 2), 10_000);
    expect(drain(core).ev.filter((e) => e.type === 'delivered')).toHaveLength(0);
  });

  it('answers a GRAFT from the cache, promotes the requester, and rate-limits per peer', () => {
    const core = node({ graftRateLimitBurst: 2, graftRateLimitPerSecond: 1 });
    const ids = [1, 2, 3].map(() => core.broadcast(T, payload, 0));
    drain(core);
    core.handleMessage('e', { type: FrameType.Graft, topic: T, ids }, 10);
    const out = drain(core);
    expect(core.isEager(T, 'e')).toBe(true);
    const answers = out.tx.filter((t) => t.to === 'e' && t.message.type === FrameType.Gossip);
    expect(answers).toHaveLength(2);
    expect(core.counters.graftsRateLimited).toBe(1);
    // One token back after one second.
    core.handleMessage('e', { type: FrameType.Graft, topic: T, ids: [ids[2]!] }, 1010);
    expect(drain(core).tx.filter((t) => t.message.type === FrameType.Gossip)).toHaveLength(1);
  });

  it('cache entries expire after messageCacheTtl; GRAFTs for them are counted as missed', () => {
    const core = node({ messageCacheTtlMs: 1000, maintenanceIntervalMs: 500 });
    const id = core.broadcast(T, payload, 0);
    drain(core);
    core.handleTimeout(1000);
    core.handleMessage('e', { type: FrameType.Graft, topic: T, ids: [id] }, 1001);
    expect(drain(core).tx.filter((t) => t.message.type === FrameType.Gossip)).toHaveLength(0);
    expect(core.counters.graftsMissed).toBe(1);
    expect(core.sizes().cache).toBe(0);
  });

  it('optimisation: an IHAVE that arrived first with >= threshold fewer hops swaps the links', () => {
    const core = node({ optimizationThreshold: 2 });
    core.handleMessage('b', { type: FrameType.Graft, topic: T, ids: [] }, 0); // b eager
    drain(core);
    // Below the threshold: GOSSIP at 5 hops after an IHAVE offering 4: no swap.
    core.handleMessage('c', ihave('z', 1, 4), 1);
    core.handleMessage('b', gossip('z', 1, 5), 2);
    expect(
      drain(core).tx.filter((t) => t.to === 'c' || t.message.type === FrameType.Prune),
    ).toHaveLength(0);
    expect(core.counters.optimizations).toBe(0);
    // IHAVE first (2 hops via e), then the GOSSIP over a 7-hop eager path from b: swap.
    core.handleMessage('e', ihave('z', 2, 2), 10);
    core.handleMessage('b', gossip('z', 2, 7), 20);
    const out = drain(core);
    expect(out.tx).toContainEqual({
      to: 'e',
      message: { type: FrameType.Graft, topic: T, ids: [] },
    });
    expect(out.tx).toContainEqual({ to: 'b', message: { type: FrameType.Prune, topic: T } });
    // The announcer is not pushed a copy it announced.
    expect(out.tx.filter((t) => t.to === 'e' && t.message.type === FrameType.Gossip)).toHaveLength(
      0,
    );
    expect(core.isEager(T, 'e')).toBe(true);
    expect(core.isLazy(T, 'b')).toBe(true);
    expect(core.counters.optimizations).toBe(1);
    // An IHAVE after delivery never swaps (the paper acts only when the lazy path was faster).
    core.handleMessage('d', ihave('z', 2, 1), 30);
    expect(drain(core).tx).toHaveLength(0);
    expect(core.counters.optimizations).toBe(1);
  });

  it('optimisation: at most one swap per optimizationCooldownMs per tree', () => {
    const core = node({ optimizationThreshold: 2, optimizationCooldownMs: 1_000 });
    core.handleMessage('b', { type: FrameType.Graft, topic: T, ids: [] }, 0); // b eager
    drain(core);
    // First chance: swap b -> e.
    core.handleMessage('e', ihave('z', 1, 1), 10);
    core.handleMessage('b', gossip('z', 1, 6), 20);
    drain(core);
    expect(core.isEager(T, 'e')).toBe(true);
    expect(core.counters.optimizations).toBe(1);
    // Another origin's shorter path 500 ms later (via c, over e's eager path): throttled.
    core.handleMessage('c', ihave('y', 1, 1), 500);
    core.handleMessage('e', gossip('y', 1, 6), 520);
    const during = drain(core);
    expect(during.tx.filter((t) => t.message.type === FrameType.Prune)).toHaveLength(0);
    expect(core.isEager(T, 'e')).toBe(true);
    expect(core.counters.optimizations).toBe(1);
    expect(core.counters.optimizationsThrottled).toBe(1);
    // After the cooldown the same situation swaps again.
    core.handleMessage('c', ihave('y', 2, 1), 1_100);
    core.handleMessage('e', gossip('y', 2, 6), 1_120);
    drain(core);
    expect(core.isEager(T, 'c')).toBe(true);
    expect(core.isLazy(T, 'e')).toBe(true);
    expect(core.counters.optimizations).toBe(2);
  });

  it('id memory: origin incarnations above the soft cap forgotten by maintenance, hard cap never exceeded', () => {
    const core = node({
      seenSoftCap: 5,
      seenHardCap: 8,
      messageCacheMaxSize: 100,
      maintenanceIntervalMs: 100,
    });
    for (let i = 1; i <= 12; i++) {
      core.handleMessage('b', gossip(`z${i}`, 1, 1), i);
      expect(core.sizes().seen).toBeLessThanOrEqual(8);
    }
    drain(core);
    core.handleTimeout(core.pollTimeout()!);
    expect(core.sizes().seen).toBe(5);
    // The newest ids are still remembered: a replay is a duplicate, not a delivery.
    core.handleMessage('c', gossip('z12', 1, 1), 200);
    expect(drain(core).ev.filter((e) => e.type === 'delivered')).toHaveLength(0);
  });

  it('id memory: a burst of one origin is remembered whole, in any order, for as long as it lasts', () => {
    const core = node({ seenTtlMs: 1_000, maintenanceIntervalMs: 100, messageCacheMaxSize: 10 });
    // 3,000 messages over 30 s (past the TTL of the first ones), every 7th one 5 messages late.
    let delivered = 0;
    const late: number[] = [];
    const deliver = (seq: number, now: number): void => {
      core.handleMessage('b', gossip('z', seq, 1), now);
      const due = core.pollTimeout();
      if (due !== undefined && due <= now) core.handleTimeout(now);
      delivered += drain(core).ev.filter((e) => e.type === 'delivered').length;
    };
    for (let seq = 1; seq <= 3_000; seq++) {
      if (seq % 7 === 0) late.push(seq);
      else deliver(seq, seq * 10);
      if (late.length > 0 && seq - late[0]! >= 5) deliver(late.shift()!, seq * 10);
    }
    for (const seq of late) deliver(seq, 30_000);
    expect(delivered).toBe(3_000);
    // Every one of them, replayed, is a duplicate.
    for (let seq = 1; seq <= 3_000; seq += 97) core.handleMessage('c', gossip('z', seq, 1), 30_001);
    expect(drain(core).ev.filter((e) => e.type === 'delivered')).toHaveLength(0);
  });

  it('peerDown removes the peer everywhere and refills the tree from the view', () => {
    const core = node({}, ['b', 'c', 'd', 'e', 'f', 'g']);
    const before = core.stats(T)!;
    const gone = before.eagerPeers[0]!;
    core.peerDown(gone, 5);
    const after = core.stats(T)!;
    expect(after.eagerPeers).not.toContain(gone);
    expect(after.lazyPeers).not.toContain(gone);
    // Refilled to 2 * eagerFanout links at least, never above the lazy bound.
    expect(after.eager).toBeGreaterThanOrEqual(1);
    expect(after.lazy).toBeLessThanOrEqual(3);
    expect(after.eager + after.lazy).toBeGreaterThanOrEqual(2);
  });

  it('rejects oversized broadcasts and broadcasts on unsubscribed topics with typed errors; counts oversized input', () => {
    const core = node({ maxMessageSize: 2 });
    expect(() => core.broadcast(T, payload, 0)).toThrow(MessageTooLargeError);
    expect(() => core.broadcast('other', new Uint8Array(1), 0)).toThrow(NotSubscribedError);
    core.handleMessage('b', gossip('z', 1, 1), 0);
    expect(core.counters.oversizedDropped).toBe(1);
    core.handleMessage('b', { type: FrameType.Prune, topic: 'other' }, 0);
    expect(core.counters.unsubscribedFrames).toBe(1);
  });

  it('ihaveRepeats: each id is announced again in that many later flushes, ihaveInterval apart', () => {
    const core = node({ ihaveIntervalMs: 100, ihaveRepeats: 2 });
    const { lazyPeers, eagerPeers } = core.stats(T)!;
    expect(eagerPeers.length).toBeGreaterThan(0);
    core.broadcast(T, payload, 0);
    drain(core);
    const announced = (): string[][] =>
      drain(core)
        .tx.map((t) =>
          t.message.type === FrameType.IHave
            ? [t.to, ...t.message.entries.map((e) => String(e.id.seq))]
            : ['not an IHAVE'],
        )
        .sort();
    const to = (peers: readonly string[]): string[][] => peers.map((p) => [p, '1']).sort();
    // The first announcement goes to the lazy peers, as in the paper.
    expect(core.pollTimeout()).toBe(100);
    core.handleTimeout(100);
    expect(announced()).toEqual(to(lazyPeers));
    // Two repeats, each on its own timer, to every neighbour: an eager peer whose GOSSIP was
    // lost has no other announcement to learn the id from. Then nothing more.
    for (const at of [200, 300]) {
      expect(core.pollTimeout()).toBe(at);
      core.handleTimeout(at);
      expect(announced()).toEqual(to([...lazyPeers, ...eagerPeers]));
    }
    core.handleTimeout(1_000);
    expect(announced()).toEqual([]);
    // A second message joins the repeats of the first in later flushes, in frames of its own.
    const c2 = node({ ihaveIntervalMs: 100, ihaveRepeats: 1, ihaveBatchSize: 1 });
    c2.broadcast(T, payload, 0);
    drain(c2); // batch of 1: flushed at once
    c2.broadcast(T, payload, 50);
    const frames = drain(c2).tx.filter((t) => t.to === c2.stats(T)!.lazyPeers[0]);
    expect(
      frames.map((t) => t.message.type === FrameType.IHave && t.message.entries[0]!.id.seq),
    ).toEqual([2, 1]);
  });

  it('ihaveRepeats: a lost IHAVE is made up for by its repeat (the receiver GRAFTs)', () => {
    const sender = node({ ihaveIntervalMs: 100, ihaveRepeats: 1 });
    const receiver = node({ graftTimeoutMs: 500 }, ['a2']);
    sender.broadcast(T, payload, 0);
    drain(sender);
    sender.handleTimeout(100);
    drain(sender); // the first IHAVE: lost
    sender.handleTimeout(200);
    const repeat = drain(sender).tx.find((t) => t.message.type === FrameType.IHave)!;
    receiver.handleMessage('a2', repeat.message, 200);
    receiver.handleTimeout(700);
    const graft = drain(receiver).tx.find((t) => t.message.type === FrameType.Graft);
    expect(graft).toMatchObject({ to: 'a2', message: { ids: [{ origin: 'a', seq: 1 }] } });
  });

  it('ihaveRepeats: a node with eager peers only announces too, in the repeats', () => {
    const core = new Plumtree({
      self: 'a',
      epoch: 7,
      rng: createRng(1),
      config: resolvePlumtreeConfig({ eagerFanout: 2, ihaveIntervalMs: 100, ihaveRepeats: 1 }),
    });
    core.subscribe(T, view(['b', 'c']), 0);
    drain(core);
    expect(core.stats(T)!.lazy).toBe(0);
    core.broadcast(T, payload, 0);
    drain(core); // the GOSSIPs
    core.handleTimeout(100); // the first flush: no lazy peer to tell
    expect(drain(core).tx).toEqual([]);
    core.handleTimeout(200);
    expect(
      drain(core)
        .tx.map((t) => `${t.to}:${t.message.type === FrameType.IHave ? 'IHAVE' : 'other'}`)
        .sort(),
    ).toEqual(['b:IHAVE', 'c:IHAVE']);
  });

  it('ihaveRepeats 0 (every preset): one announcement per id and lazy peer', () => {
    for (const c of [PlumtreeConfig.default(), PlumtreeConfig.lan(), PlumtreeConfig.wan()]) {
      expect(c.ihaveRepeats).toBe(0);
    }
    const core = node({ ihaveIntervalMs: 100 });
    core.broadcast(T, payload, 0);
    drain(core);
    core.handleTimeout(100);
    expect(drain(core).tx.length).toBe(core.stats(T)!.lazy);
    core.handleTimeout(1_000);
    expect(drain(core).tx).toEqual([]);
  });

  it('lan/wan/largeCluster presets validate', () => {
    for (const c of [PlumtreeConfig.lan(), PlumtreeConfig.wan(), PlumtreeConfig.largeCluster()]) {
      expect(resolvePlumtreeConfig(c)).toBeInstanceOf(PlumtreeConfig);
    }
  });
});
