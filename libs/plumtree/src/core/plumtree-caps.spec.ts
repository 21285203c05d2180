import { describe, expect, it } from '@jest/globals';
import { createRng } from '@plumtree/common';
import { resolvePlumtreeConfig, type PlumtreeConfig } from '../config/plumtree-config.js';
import { FrameType, type IHaveMessage, type TopicView } from '../types.js';
import { Plumtree } from './plumtree.js';

// The caps on state that peers' frames grow (docs/limits.md): each is hit here.

const T = 'orders';
const PEERS = ['b', 'c', 'd', 'e'];

function view(peers: string[]): TopicView {
  const set = new Set(peers);
  return { size: peers.length, at: (i) => peers[i], has: (p) => set.has(p) };
}

function core(config: Partial<PlumtreeConfig>): Plumtree {
  const c = new Plumtree({
    self: 'a',
    epoch: 1,
    rng: createRng(3),
    config: resolvePlumtreeConfig({ preset: 'lan', ...config }),
  });
  c.subscribe(T, view(PEERS), 0);
  c.handleTimeout(0);
  while (c.pollTransmit() !== undefined || c.pollEvent() !== undefined);
  return c;
}

function ihave(origin: string, seq: number, count = 1): IHaveMessage {
  return {
    type: FrameType.IHave,
    topic: T,
    entries: [{ id: { origin, epoch: 1, seq }, hops: 1, count }],
  };
}

describe('Plumtree core caps', () => {
  it('keeps at most maxMissingIds missing ids, giving the oldest up first', () => {
    const c = core({ maxMissingIds: 100, newMissingPerPeerBurst: 100_000 });
    // One IHAVE announcing 65,536 ids of one origin: 100 kept, the rest evicted in turn.
    c.handleMessage('b', ihave('x', 1, 65_536), 1);
    expect(c.sizes().missing).toBe(100);
    expect(c.counters.missingEvicted).toBe(65_536 - 100);
    // Distinct origins, each announced once: the incarnations met only this way go too.
    for (let i = 0; i < 5_000; i++) c.handleMessage('b', ihave(`o${i}`, 1), 2);
    expect(c.sizes().missing).toBe(100);
    expect(c.sizes().seen).toBeLessThanOrEqual(101);
    // The newest ones are the ones kept: o4999's id is still grafted when its timer fires.
    c.handleTimeout(10_000);
    const grafts: string[] = [];
    for (let t = c.pollTransmit(); t; t = c.pollTransmit()) {
      if (t.message.type === FrameType.Graft) grafts.push(...t.message.ids.map((id) => id.origin));
    }
    expect(grafts).toContain('o4999');
    expect(grafts).not.toContain('x');
  });

  it('tracks at most newMissingPerPeerBurst new missing ids per announcer, refilled per second', () => {
    const c = core({ newMissingPerPeerBurst: 100, newMissingPerPeerPerSecond: 10 });
    // 1,000 unknown ids from b: its first 100 are tracked, the rest dropped and counted.
    c.handleMessage('b', ihave('x', 1, 1_000), 1);
    expect(c.sizes().missing).toBe(100);
    expect(c.counters.missingOverBudget).toBe(900);
    // The same ids from c: ids 1..100 are not new (c joins their announcers), c's own budget
    // takes 101..200.
    c.handleMessage('c', ihave('x', 1, 1_000), 1);
    expect(c.sizes().missing).toBe(200);
    expect(c.counters.missingOverBudget).toBe(900 + 800);
    // Out of budget, b creates no origin incarnation either.
    const seen = c.sizes().seen;
    for (let i = 0; i < 50; i++) c.handleMessage('b', ihave(`o${i}`, 1, 4_096), 2);
    expect(c.sizes().seen).toBe(seen);
    expect(c.counters.missingOverBudget).toBe(1_700 + 50 * 4_096);
    // One second later b has 10 ids again.
    c.handleMessage('b', ihave('y', 1, 50), 1_002);
    expect(c.sizes().missing).toBe(210);
    // Only tracked ids are ever grafted: x's 1..200 and y's 1..10.
    const grafted = new Set<string>();
    for (let t = 1_000; t <= 60_000; t += 500) {
      c.handleTimeout(t);
      for (let tx = c.pollTransmit(); tx; tx = c.pollTransmit()) {
        if (tx.message.type !== FrameType.Graft) continue;
        for (const id of tx.message.ids) grafted.add(`${id.origin}:${id.seq.toString()}`);
      }
    }
    expect(grafted.size).toBe(210);
    expect(grafted.has('x:200')).toBe(true);
    expect(grafted.has('x:201')).toBe(false);
    expect(grafted.has('y:10')).toBe(true);
    expect(grafted.has('y:11')).toBe(false);
  });

  it('gives a peer that went down a full budget when it comes back', () => {
    const c = core({ newMissingPerPeerBurst: 10, newMissingPerPeerPerSecond: 0.001 });
    c.handleMessage('b', ihave('x', 1, 20), 1);
    expect(c.sizes().missing).toBe(10);
    c.peerDown('b', 2);
    c.handleMessage('b', ihave('x', 21, 20), 3);
    expect(c.sizes().missing).toBe(20);
    expect(c.counters.missingOverBudget).toBe(20);
  });

  it('keeps at most maxAnnouncersPerId announcers of one missing id', () => {
    const c = core({ maxMissingIds: 100, maxAnnouncersPerId: 2 });
    for (const p of PEERS) c.handleMessage(p, ihave('x', 1), 1);
    expect(c.counters.announcersDropped).toBe(2);
    expect(c.sizes().missing).toBe(1);
  });

  it('keeps the message cache under messageCacheMaxBytes, evicting the oldest', () => {
    const c = core({ messageCacheMaxBytes: 10 * 1024, messageCacheMaxSize: 10_000 });
    const payload = new Uint8Array(1024);
    for (let seq = 1; seq <= 50; seq++) {
      c.handleMessage(
        'b',
        {
          type: FrameType.Gossip,
          topic: T,
          id: { origin: 'p', epoch: 1, seq },
          hops: 0,
          publishedAtMs: 0,
          payload,
        },
        seq,
      );
    }
    expect(c.sizes().cacheBytes).toBeLessThanOrEqual(10 * 1024);
    expect(c.sizes().cache).toBe(10);
  });
});
