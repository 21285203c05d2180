import { describe, expect, it } from '@jest/globals';
import { createRng } from '@plumtree/common';
import { MembershipOracle } from './membership-oracle.js';
import { SimTopicView } from './topic-view.js';
import { buildTopicLayout } from './topic-layout.js';

describe('MembershipOracle', () => {
  it('plans one bucket per detection interval, every live observer once, within delay + jitter', () => {
    const o = new MembershipOracle(1000, {
      detectionDelayMs: 5000,
      detectionJitterMs: 2000,
      detectionBucketMs: 10,
    });
    const { batch, buckets } = o.crash([1, 2, 3], 100, createRng(1));
    expect(batch.members).toEqual(Int32Array.from([1, 2, 3]));
    expect(buckets.length).toBeLessThanOrEqual(201);
    const seen = new Set<number>();
    let prev = 0;
    for (const b of buckets) {
      expect(b.atMs).toBeGreaterThanOrEqual(5100);
      expect(b.atMs).toBeLessThanOrEqual(7100);
      expect(b.atMs).toBeGreaterThan(prev);
      prev = b.atMs;
      for (const obs of b.observers) {
        expect(seen.has(obs)).toBe(false);
        seen.add(obs);
      }
    }
    expect(seen.size).toBe(997);
    for (const dead of [1, 2, 3]) expect(seen.has(dead)).toBe(false);
    expect(batch.allLearnedAtMs).toBe(prev);
  });

  it('backs views that hide self and learned crashes only', () => {
    const layout = buildTopicLayout(10, 1, createRng(2));
    const names = Array.from({ length: 10 }, (_, i) => `n${i}`);
    const indexOf = new Map(names.map((n, i) => [n, i]));
    const o = new MembershipOracle(10);
    const view = new SimTopicView(layout.topics[0]!, 0, o, names, indexOf);
    const visible = (): string[] =>
      Array.from({ length: view.size }, (_, i) => view.at(i)).filter((p) => p !== undefined);
    expect(visible().sort()).toEqual(names.slice(1).sort());
    expect(view.has('n0')).toBe(false);
    expect(view.has('n7')).toBe(true);
    expect(view.has('nobody')).toBe(false);
    const { batch } = o.crash([7], 0, createRng(3));
    expect(view.has('n7')).toBe(true); // crashed, not yet learned
    o.learn(batch.index, 0);
    expect(view.has('n7')).toBe(false);
    expect(visible()).not.toContain('n7');
    expect(o.knowsDown(1, 7)).toBe(false);
  });
});
