import { describe, expect, it } from '@jest/globals';
import { TopicPeers } from './topic-peers.js';

describe('TopicPeers', () => {
  it('reports who left and how many arrived', () => {
    const v = new TopicPeers('t');
    expect(v.update(['a', 'b'])).toEqual({ removed: [], added: 2 });
    expect(v.update(['b', 'c', 'c'])).toEqual({ removed: ['a'], added: 1 });
    expect(v.size).toBe(2);
    expect(v.has('a')).toBe(false);
    expect([v.at(0), v.at(1)].sort()).toEqual(['b', 'c']);
  });
});
