import { describe, expect, it } from '@jest/globals';
import { createRng } from '@plumtree/common';
import { buildTopicLayout, zipfSubscriberCounts } from './topic-layout.js';

describe('zipfSubscriberCounts', () => {
  it.each([
    [1000, 1, [1000]],
    [1000, 4, [500, 250, 167, 125]],
    [10, 10, [5, 3, 2, 2, 2, 2, 2, 2, 2, 2]],
    [2, 3, [2, 2, 2]],
  ])('nodes=%i topics=%i', (nodes, topics, expected) => {
    expect(zipfSubscriberCounts(nodes, topics)).toEqual(expected);
  });

  it('rejects bad sizes', () => {
    expect(() => zipfSubscriberCounts(1, 1)).toThrow(RangeError);
    expect(() => zipfSubscriberCounts(10, 0)).toThrow(RangeError);
  });
});

describe('buildTopicLayout', () => {
  it('draws distinct subscribers and consistent indexes', () => {
    const layout = buildTopicLayout(300, 20, createRng(4));
    expect(layout.topics).toHaveLength(20);
    for (const t of layout.topics) {
      expect(new Set(t.subscribers).size).toBe(t.subscribers.length);
      expect(t.isSubscriber.reduce((a, b) => a + b, 0)).toBe(t.subscribers.length);
      for (const s of t.subscribers) expect(layout.topicsOfNode[s]).toContain(t.index);
      expect(layout.byName.get(t.name)).toBe(t.index);
    }
  });
});
