import { describe, expect, it } from '@jest/globals';
import { createRng } from '@plumtree/common';
import { PlumtreeConfigError, resolvePlumtreeConfig } from '../config/plumtree-config.js';
import {
  FrameType,
  type GossipMessage,
  type PlumtreeEvent,
  type TopicView,
  type Transmit,
} from '../types.js';
import { Plumtree } from './plumtree.js';

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

const T = 'metrics';
const payload = new Uint8Array([1, 2, 3]);
const PEERS = ['b', 'c', 'd', 'e', 'f', 'g', 'h'];

function floodCore(): Plumtree {
  const c = new Plumtree({
    self: 'a',
    epoch: 1,
    rng: createRng(11),
    config: resolvePlumtreeConfig({ preset: 'lan', eagerFanout: 2, flood: true }),
  });
  c.subscribe(T, view(PEERS), 0);
  return c;
}

describe('Plumtree with flood: true (the benchmarks baseline)', () => {
  it('makes every peer of the view eager on subscribe, without any frame', () => {
    const c = floodCore();
    const { tx } = drain(c);
    expect(tx).toEqual([]);
    expect(c.stats(T)!.eagerPeers.slice().sort()).toEqual(PEERS);
    expect(c.stats(T)!.lazy).toBe(0);
  });

  it('forwards a payload to every other subscriber and never prunes a duplicate', () => {
    const c = floodCore();
    drain(c);
    const id = { origin: 'b', epoch: 1, seq: 1 };
    const msg: GossipMessage = {
      type: FrameType.Gossip,
      topic: T,
      id,
      hops: 0,
      publishedAtMs: 0,
      payload,
    };
    c.handleMessage('b', msg, 1);
    const first = drain(c);
    expect(first.tx.every((t) => t.message.type === FrameType.Gossip)).toBe(true);
    expect(first.tx.map((t) => t.to).sort()).toEqual(PEERS.filter((p) => p !== 'b'));
    expect(first.ev.filter((e) => e.type === 'delivered')).toHaveLength(1);

    c.handleMessage('c', { ...msg, hops: 1 }, 2);
    const dup = drain(c);
    expect(dup.tx).toEqual([]); // no PRUNE back
    expect(dup.ev).toEqual([]);
    expect(c.counters.duplicates).toBe(1);
    expect(c.isEager(T, 'c')).toBe(true);
  });

  it('ignores a PRUNE and announces nothing lazily', () => {
    const c = floodCore();
    drain(c);
    c.handleMessage('d', { type: FrameType.Prune, topic: T }, 1);
    expect(c.isEager(T, 'd')).toBe(true);
    c.broadcast(T, payload, 2);
    c.handleTimeout(1_000);
    const { tx } = drain(c);
    expect(tx.map((t) => t.message.type)).toEqual(PEERS.map(() => FrameType.Gossip));
  });

  it('takes new peers of a grown view as eager', () => {
    const c = floodCore();
    drain(c);
    c.subscribe(T, view([...PEERS, 'i']), 1);
    expect(c.isEager(T, 'i')).toBe(true);
    expect(drain(c).tx).toEqual([]);
  });

  it('is off by default and validated as a boolean', () => {
    expect(resolvePlumtreeConfig({ preset: 'lan' }).flood).toBe(false);
    expect(() => resolvePlumtreeConfig({ flood: 'yes' as unknown as boolean })).toThrow(
      PlumtreeConfigError,
    );
  });
});
