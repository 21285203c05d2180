import { describe, expect, it } from '@jest/globals';
import { AgeOrderedMap } from './age-ordered-map.js';
import { MessageCache } from './message-cache.js';
import { SeenSet } from './seen-set.js';
import { FrameType, type GossipMessage } from '../types.js';

describe('AgeOrderedMap', () => {
  it('evicts the oldest entry at the cap and counts it', () => {
    const m = new AgeOrderedMap<number>(2);
    m.set('a', 1);
    m.set('b', 2);
    m.set('c', 3);
    expect([m.has('a'), m.get('b'), m.get('c'), m.size, m.evicted]).toEqual([false, 2, 3, 2, 1]);
  });

  it('expires from the front and stops at the first entry that stays', () => {
    const m = new AgeOrderedMap<number>(10);
    for (const [k, v] of [
      ['a', 1],
      ['b', 5],
      ['c', 2],
    ] as const)
      m.set(k, v);
    expect(m.expireWhile((v) => v < 3)).toBe(1); // 'c' is behind 'b', which stays
    expect([m.has('a'), m.has('b'), m.has('c')]).toEqual([false, true, true]);
  });
});

describe('MessageCache and SeenSet on it', () => {
  const msg: GossipMessage = {
    type: FrameType.Gossip,
    topic: 't',
    id: { origin: 'o', epoch: 0, seq: 1 },
    hops: 1,
    publishedAtMs: 0,
    payload: new Uint8Array(0),
  };

  it('the cache keeps the first copy, answers until the TTL, and evicts the oldest when full', () => {
    const c = new MessageCache(100, 2);
    c.put('x', msg, 0);
    c.put('x', { ...msg, hops: 9 }, 10);
    expect(c.get('x', 99)?.hops).toBe(1);
    expect(c.get('x', 100)).toBeUndefined();
    c.put('y', msg, 50);
    c.put('z', msg, 60);
    expect([c.size, c.evictedForSize]).toEqual([2, 1]);
    expect(c.expire(155)).toBe(1);
  });

  it('the seen set drops ids past the TTL, then the oldest above the soft cap', () => {
    const s = new SeenSet(100, 2, 3);
    for (let i = 0; i < 4; i++) s.add(`k${i}`, { atMs: i * 10, hops: 1, from: 'p' });
    expect([s.size, s.evictedForCap]).toEqual([3, 1]); // the hard cap evicted k0
    expect(s.expire(50)).toBe(1); // none expired by age; k1 goes to get back to the soft cap
    expect([s.has('k1'), s.size, s.evictedForCap]).toEqual([false, 2, 2]);
    expect(s.expire(125)).toBe(1); // k2 (atMs 20) is older than 125 - 100
    expect(s.has('k3')).toBe(true);
  });
});
