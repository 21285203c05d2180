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
    const c = core({ maxMissingIds: 100 });
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
