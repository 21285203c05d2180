import { describe, expect, it } from '@jest/globals';
import { NO_FAULTS, type NodeSnapshot } from '../protocol.js';
import {
  buildClusterView,
  components,
  rmr,
  swimConsensus,
  treeEdges,
  ZERO_COUNTERS,
  type NodeRecord,
} from './cluster-view.js';

/** A snapshot of `name` seeing `states` and holding `trees`. */
function snap(
  name: string,
  states: Record<string, string>,
  trees: Record<string, { eager: string[]; lazy: string[] }> = {},
): NodeSnapshot {
  return {
    name,
    address: `127.0.0.1:${name.length.toString()}`,
    epoch: 1,
    members: Object.entries(states).map(([n, state]) => ({
      name: n,
      address: '',
      state,
      incarnation: 1,
    })),
    rooms: Object.keys(trees),
    trees,
    counters: ZERO_COUNTERS,
    faults: NO_FAULTS,
    eagerAll: false,
  };
}

function record(s: NodeSnapshot, process: NodeRecord['process'] = 'running'): NodeRecord {
  return {
    name: s.name,
    address: s.address,
    pid: 1,
    process,
    snapshot: process === 'running' ? s : undefined,
    counters: ZERO_COUNTERS,
    faults: NO_FAULTS,
    rooms: s.rooms,
  };
}

describe('swimConsensus', () => {
  const all = { a: 'alive', b: 'alive', c: 'alive' };

  it('is what the other nodes agree on, with each observer listed', () => {
    const views = [snap('a', all), snap('b', { ...all, c: 'dead' }), snap('c', all)];
    expect(swimConsensus('c', views)).toEqual({ swim: 'dead', seenBy: { a: 'alive', b: 'dead' } });
    expect(swimConsensus('a', views).swim).toBe('alive');
  });

  it("counts the votes it is told to (a partition: the node's own side)", () => {
    const views = [
      snap('a', { a: 'alive', b: 'alive', c: 'dead', d: 'dead' }),
      snap('b', { a: 'alive', b: 'alive', c: 'dead', d: 'dead' }),
      snap('c', { a: 'dead', b: 'dead', c: 'alive', d: 'alive' }),
      snap('d', { a: 'dead', b: 'dead', c: 'alive', d: 'alive' }),
    ];
    const side = (n: string) => (n === 'a' || n === 'b' ? 0 : 1);
    expect(swimConsensus('a', views).swim).toBe('dead');
    const r = swimConsensus('a', views, (o) => side(o) === side('a'));
    expect(r).toEqual({ swim: 'alive', seenBy: { b: 'alive', c: 'dead', d: 'dead' } });
  });

  it('breaks a tie towards the worse state; a node nobody else reports is as it sees itself', () => {
    const views = [snap('a', { a: 'alive', c: 'suspect' }), snap('b', { b: 'alive', c: 'alive' })];
    expect(swimConsensus('c', views).swim).toBe('suspect');
    expect(swimConsensus('a', [snap('a', { a: 'alive' })])).toEqual({ swim: 'alive', seenBy: {} });
    expect(swimConsensus('z', [snap('a', { a: 'alive' })]).swim).toBe('unknown');
  });
});

describe('treeEdges', () => {
  it('merges both ends of a link: eager when either end pushes, lazy otherwise', () => {
    const edges = treeEdges('r', [
      snap('a', {}, { r: { eager: ['b'], lazy: ['c'] } }),
      snap('b', {}, { r: { eager: ['a'], lazy: [] } }),
      snap('c', {}, { r: { eager: ['d'], lazy: ['a'] } }),
    ]);
    expect(edges).toEqual([
      { a: 'a', b: 'b', kind: 'eager', eagerAt: 'both' },
      { a: 'a', b: 'c', kind: 'lazy', eagerAt: 'none' },
      { a: 'c', b: 'd', kind: 'eager', eagerAt: 'a' },
    ]);
  });

  it('reads only the room asked for and ignores a node naming itself', () => {
    const edges = treeEdges('r', [
      snap('a', {}, { r: { eager: ['a'], lazy: [] }, other: { eager: ['b'], lazy: [] } }),
    ]);
    expect(edges).toEqual([]);
  });
});

describe('components and rmr', () => {
  it('counts the parts of a graph over the given nodes only', () => {
    const e = (a: string, b: string) => ({
      a,
      b,
      kind: 'eager' as const,
      eagerAt: 'both' as const,
    });
    expect(components(['a', 'b', 'c', 'd'], [e('a', 'b'), e('c', 'd')])).toBe(2);
    expect(components(['a', 'b', 'c'], [e('a', 'b'), e('b', 'c')])).toBe(1);
    // A link to a node outside the set (dead) joins nothing.
    expect(components(['a', 'c'], [e('a', 'b'), e('b', 'c')])).toBe(2);
    expect(components([], [])).toBe(0);
  });

  it('rmr is duplicates per first copy received', () => {
    expect(rmr({ ...ZERO_COUNTERS, gossipReceived: 6, duplicates: 2 })).toBe(0.5);
    expect(rmr({ ...ZERO_COUNTERS, gossipReceived: 4, duplicates: 0 })).toBe(0);
    expect(rmr(ZERO_COUNTERS)).toBeNull();
  });
});

describe('buildClusterView', () => {
  const states = { a: 'alive', b: 'alive', c: 'alive' };
  const input = (nodes: NodeRecord[]) => ({
    nodes,
    rooms: [{ name: 'r', durable: true }],
    partition: null,
    eagerAll: false,
    reconfiguring: false,
    rate: [],
  });

  it('a room spans its live members when its eager links connect them', () => {
    const v = buildClusterView(
      input([
        record(snap('a', states, { r: { eager: ['b'], lazy: ['c'] } })),
        record(snap('b', states, { r: { eager: ['a', 'c'], lazy: [] } })),
        record(snap('c', states, { r: { eager: ['b'], lazy: ['a'] } })),
      ]),
    );
    const r = v.rooms[0]!;
    expect(r.members).toEqual(['a', 'b', 'c']);
    expect(r.liveMembers).toEqual(['a', 'b', 'c']);
    expect([r.spanning, r.connected, r.eagerComponents]).toEqual([true, true, 1]);
    expect(v.nodes.map((n) => n.swim)).toEqual(['alive', 'alive', 'alive']);
  });

  it('after a failure: the dead node leaves the live set; lazy links still connect the rest', () => {
    const seen = { a: 'alive', b: 'dead', c: 'alive' };
    const v = buildClusterView(
      input([
        record(snap('a', seen, { r: { eager: [], lazy: ['c'] } })),
        record(snap('b', states, { r: { eager: ['a', 'c'], lazy: [] } }), 'killed'),
        record(snap('c', seen, { r: { eager: [], lazy: ['a'] } })),
      ]),
    );
    const r = v.rooms[0]!;
    expect(v.nodes[1]!.swim).toBe('dead');
    expect(v.nodes[1]!.rooms).toEqual(['r']);
    expect(r.members).toEqual(['a', 'c']);
    expect([r.spanning, r.connected, r.eagerComponents]).toEqual([false, true, 2]);
  });

  it('sums the counters and gives the cluster RMR', () => {
    const a = {
      ...record(snap('a', states)),
      counters: { ...ZERO_COUNTERS, gossipReceived: 3, duplicates: 1, delivered: 2 },
    };
    const b = {
      ...record(snap('b', states)),
      counters: { ...ZERO_COUNTERS, gossipReceived: 5, duplicates: 1, delivered: 4 },
    };
    const v = buildClusterView(input([a, b]));
    expect(v.totals.delivered).toBe(6);
    expect(v.totals.rmr).toBeCloseTo(2 / 6);
    expect(v.nodes[0]!.rmr).toBe(0.5);
  });
});
