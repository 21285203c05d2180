import { describe, expect, it } from '@jest/globals';
import type { PlumtreeNode } from '@plumtree/cluster';
import { membershipProblems, topicProblems } from './convergence.js';

/** A node as the checks read it: members, trees, directory and links. */
interface FakeNode {
  name: string;
  alive?: string[];
  suspect?: string[];
  /** topic -> [eager peers, lazy peers] */
  trees?: Record<string, [string[], string[]]>;
  /** topic -> subscribers this node knows of */
  directory?: Record<string, string[]>;
}

function node(f: FakeNode): PlumtreeNode {
  return {
    name: f.name,
    members: () => [
      ...(f.alive ?? []).map((name) => ({ name, state: 'alive' })),
      ...(f.suspect ?? []).map((name) => ({ name, state: 'suspect' })),
    ],
    topics: () => Object.keys(f.trees ?? {}),
    subscribersOf: (t: string) => [...(f.directory?.[t] ?? [])],
    stats: () => ({
      topics: Object.fromEntries(
        Object.entries(f.trees ?? {}).map(([t, [eagerPeers, lazyPeers]]) => [
          t,
          { eagerPeers, lazyPeers },
        ]),
      ),
    }),
  } as unknown as PlumtreeNode;
}

describe('membershipProblems', () => {
  it('is empty when every node sees exactly the group alive', () => {
    const all = ['a', 'b'];
    expect(
      membershipProblems([node({ name: 'a', alive: all }), node({ name: 'b', alive: all })]),
    ).toEqual([]);
  });

  it('names a node that still sees a dead one, one that misses one, and one that suspects one', () => {
    expect(
      membershipProblems([
        node({ name: 'a', alive: ['a', 'b', 'c'] }), // c was killed
        node({ name: 'b', alive: ['b'] }), // has not met a yet
      ]),
    ).toEqual(['a sees alive [a, b, c], expected [a, b]', 'b sees alive [b], expected [a, b]']);
    expect(membershipProblems([node({ name: 'a', alive: ['a'], suspect: ['b'] })])).toEqual([
      'a sees alive [a] suspect [b], expected [a]',
    ]);
  });
});

describe('topicProblems', () => {
  it('is empty when directories agree and the links connect every subscriber', () => {
    // a - b - c in a line (a's only link is b): still connected both ways.
    const group = [
      node({ name: 'a', trees: { t: [['b'], []] }, directory: { t: ['b', 'c'] } }),
      node({ name: 'b', trees: { t: [['a'], ['c']] }, directory: { t: ['a', 'c'] } }),
      node({ name: 'c', trees: { t: [[], ['b']] }, directory: { t: ['a', 'b'] } }),
      node({ name: 'd', directory: { t: ['a', 'b', 'c'] } }), // outside the tree, knows it
    ];
    expect(topicProblems(group)).toEqual([]);
  });

  it('names a stale directory and a subscriber the links do not reach', () => {
    const group = [
      node({ name: 'a', trees: { t: [['b'], []] }, directory: { t: ['b', 'c'] } }),
      node({ name: 'b', trees: { t: [['a'], []] }, directory: { t: ['a', 'c'] } }),
      node({ name: 'c', trees: { t: [[], []] }, directory: { t: ['a', 'b'] } }),
      node({ name: 'd', directory: { t: ['a'] } }),
    ];
    expect(topicProblems(group)).toEqual([
      'd knows subscribers of t [a], expected [a, b, c]',
      'tree of t does not reach [c] from a',
    ]);
  });

  it('ignores links to nodes outside the group (the other side of a partition)', () => {
    const group = [
      node({ name: 'a', trees: { t: [['x'], []] }, directory: { t: ['b'] } }),
      node({ name: 'b', trees: { t: [['x'], []] }, directory: { t: ['a'] } }),
    ];
    expect(topicProblems(group)).toEqual(['tree of t does not reach [b] from a']);
  });
});
