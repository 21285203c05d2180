import { describe, expect, it } from '@jest/globals';
import {
  floodingProtocol,
  gossipsubProtocol,
  plumtreeProtocol,
  runScenario,
  type SimProtocol,
} from '@plumtree/sim';
import { SIM_SEEDS } from '../support/sim-seeds.js';

describe.each(SIM_SEEDS)('per-topic trees (300 nodes, 20 Zipf topics, seed %i)', (seed) => {
  it.each([
    ['plumtree', () => plumtreeProtocol() as SimProtocol<unknown>],
    ['flood', () => floodingProtocol() as SimProtocol<unknown>],
    ['gossipsub', () => gossipsubProtocol() as SimProtocol<unknown>],
  ])('%s: no frame of a topic reaches a node that does not subscribe to it', (_name, make) => {
    const r = runScenario(make(), { nodes: 300, broadcasts: 100, seed, topics: 20 });
    expect(r.summary.counters.payloadFramesAtNonSubscribers).toBe(0);
    expect(r.summary.counters.framesAtNonSubscribers).toBe(0);
    expect(new Set(r.broadcasts.map((b) => b.topic)).size).toBeGreaterThan(15);
    expect(r.summary.reliability.min).toBe(1);
  });

  it('plumtree: steady payload transmissions per delivery <= 1.05', () => {
    const r = runScenario(plumtreeProtocol(), { nodes: 300, broadcasts: 200, seed, topics: 20 });
    expect(r.summary.payloadPerDeliverySteady).toBeLessThanOrEqual(1.05);
  });
});
