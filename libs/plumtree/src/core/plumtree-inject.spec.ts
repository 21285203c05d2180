import { describe, expect, it } from '@jest/globals';
import { createRng } from '@plumtree/common';
import { resolvePlumtreeConfig } from '../config/plumtree-config.js';
import { FrameType, type PlumtreeEvent, type TopicView, type Transmit } from '../types.js';
import { Plumtree } from './plumtree.js';
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

const T = 'orders';
const payload = new Uint8Array([9, 8, 7]);

function core(eagerFanout = 2): Plumtree {
  const c = new Plumtree({
    self: 'a',
    epoch: 1,
    rng: createRng(5),
    config: resolvePlumtreeConfig({ eagerFanout, lazyFanout: 3, maxMessageSize: 16 }),
  });
  c.subscribe(T, view(['b', 'c', 'd']), 0);
  drain(c);
  return c;
}

describe('Plumtree.inject (a message under an id minted elsewhere)', () => {
  it('delivers locally under the given id and pushes it to the eager peers', () => {
    const c = core();
    const id = { origin: 'p', epoch: 42, seq: 7 };
    expect(c.inject(T, id, payload, 10, { from: 'p', publishedAtMs: 5, headers: { k: 'v' } })).toBe(
      true,
    );
    const { tx, ev } = drain(c);
    const delivered = ev.filter((e) => e.type === 'delivered');
    expect(delivered).toEqual([
      {
        type: 'delivered',
        topic: T,
        id,
        payload,
        hops: 0,
        from: 'p',
        publishedAtMs: 5,
        headers: { k: 'v' },
      },
    ]);
    const gossip = tx.filter((t) => t.message.type === FrameType.Gossip);
    expect(gossip.map((t) => t.to).sort()).toEqual(c.stats(T)!.eagerPeers.slice().sort());
    for (const t of gossip) {
      expect(t.message).toMatchObject({ id, hops: 1, publishedAtMs: 5, headers: { k: 'v' } });
    }
  });

  it('does nothing for an id already seen (a retried hand-off) and counts a duplicate', () => {
    const c = core();
    const id = { origin: 'p', epoch: 42, seq: 1 };
    c.handleMessage(
      'b',
      { type: FrameType.Gossip, topic: T, id, hops: 3, publishedAtMs: 0, payload },
      0,
    );
    drain(c);
    const before = c.counters.duplicates;
    expect(c.inject(T, { ...id }, payload, 1)).toBe(false);
    const { tx, ev } = drain(c);
    expect(tx).toEqual([]);
    expect(ev).toEqual([]);
    expect(c.counters.duplicates).toBe(before + 1);
  });

  it('a later GOSSIP of an injected id is a duplicate (no second delivery)', () => {
    const c = core();
    const id = { origin: 'p', epoch: 42, seq: 2 };
    c.inject(T, id, payload, 0);
    drain(c);
    c.handleMessage(
      'b',
      { type: FrameType.Gossip, topic: T, id: { ...id }, hops: 2, publishedAtMs: 0, payload },
      1,
    );
    const { ev } = drain(c);
    expect(ev.some((e) => e.type === 'delivered')).toBe(false);
  });

  it('rejects oversized payloads and unsubscribed topics like broadcast', () => {
    const c = core();
    expect(() => c.inject(T, { origin: 'p', epoch: 0, seq: 1 }, new Uint8Array(17), 0)).toThrow(
      MessageTooLargeError,
    );
    expect(() => c.inject('other', { origin: 'p', epoch: 0, seq: 1 }, payload, 0)).toThrow(
      NotSubscribedError,
    );
  });

  it('cancels the missing-message timer of an id announced before the hand-off arrived', () => {
    const c = core();
    const id = { origin: 'p', epoch: 42, seq: 3 };
    c.handleMessage('d', { type: FrameType.IHave, topic: T, entries: [{ id, hops: 1 }] }, 0);
    drain(c);
    expect(c.stats(T)!.pendingGrafts).toBe(1);
    c.inject(T, { ...id }, payload, 1);
    drain(c);
    expect(c.stats(T)!.pendingGrafts).toBe(0);
    c.handleTimeout(10_000);
    const { tx } = drain(c);
    expect(tx.some((t) => t.message.type === FrameType.Graft && t.message.ids.length > 0)).toBe(
      false,
    );
  });
});

describe('Plumtree.demotePeer (backpressure)', () => {
  it('moves an eager peer to the lazy set and sends it a PRUNE', () => {
    const c = core();
    const peer = c.stats(T)!.eagerPeers[0]!;
    expect(c.demotePeer(T, peer, 0)).toBe(true);
    const { tx, ev } = drain(c);
    expect(c.isEager(T, peer)).toBe(false);
    expect(c.isLazy(T, peer)).toBe(true);
    expect(tx).toEqual([{ to: peer, message: { type: FrameType.Prune, topic: T } }]);
    expect(ev).toContainEqual({ type: 'lazyDemotion', topic: T, peer });
  });

  it('returns false and sends nothing for a peer that is not eager or an unknown topic', () => {
    const c = core(1);
    const lazyOrNone = ['b', 'c', 'd'].find((p) => !c.isEager(T, p))!;
    expect(c.demotePeer(T, lazyOrNone, 0)).toBe(false);
    expect(c.demotePeer('nope', 'b', 0)).toBe(false);
    expect(drain(c).tx).toEqual([]);
  });

  it('a demoted peer that misses a message is grafted back to eager', () => {
    const c = core(1);
    const peer = c.stats(T)!.eagerPeers[0]!;
    c.demotePeer(T, peer, 0);
    drain(c);
    const id = { origin: 'z', epoch: 1, seq: 1 };
    c.handleMessage(peer, { type: FrameType.IHave, topic: T, entries: [{ id, hops: 1 }] }, 0);
    c.handleTimeout(c.pollTimeout()!);
    const { tx } = drain(c);
    expect(tx).toContainEqual({
      to: peer,
      message: { type: FrameType.Graft, topic: T, ids: [id] },
    });
    expect(c.isEager(T, peer)).toBe(true);
  });
});

describe('Plumtree: a lazy peer promoted before the IHAVE flush', () => {
  it('is told about the pending announcements it would otherwise never hear of', () => {
    const c = new Plumtree({
      self: 'a',
      epoch: 1,
      rng: createRng(9),
      config: resolvePlumtreeConfig({ eagerFanout: 1, lazyFanout: 3 }),
    });
    c.subscribe(T, view(['b', 'c']), 0);
    drain(c);
    // Make every link lazy: both peers PRUNE "a".
    for (const p of ['b', 'c']) c.handleMessage(p, { type: FrameType.Prune, topic: T }, 0);
    drain(c);
    expect(c.stats(T)!.eager).toBe(0);
    // Accepted while everyone is lazy: only announced, at the next flush.
    const id = c.broadcast(T, payload, 1);
    expect(drain(c).tx).toEqual([]);
    // Before the flush, "b" grafts a link (no ids): it becomes eager...
    c.handleMessage('b', { type: FrameType.Graft, topic: T, ids: [] }, 2);
    const { tx } = drain(c);
    // ...and hears of the pending message at once, as "c" will at the flush.
    expect(tx).toContainEqual({
      to: 'b',
      message: { type: FrameType.IHave, topic: T, entries: [{ id, hops: 1 }] },
    });
    c.handleTimeout(c.pollTimeout()!);
    expect(drain(c).tx).toContainEqual({
      to: 'c',
      message: { type: FrameType.IHave, topic: T, entries: [{ id, hops: 1 }] },
    });
  });
});
