import { describe, expect, it } from '@jest/globals';
import { floodingProtocol, gossipsubProtocol, runScenario } from '@plumtree/sim';
import { SIM_SEEDS } from '../support/sim-seeds.js';

describe.each(SIM_SEEDS)('baselines in the simulator (seed %i)', (seed) => {
  it('flooding reaches every node in a stable run, at an RMR of about its degree', () => {
    const r = runScenario(floodingProtocol({ neighbours: 9 }), {
      nodes: 400,
      broadcasts: 40,
      seed,
    });
    expect(r.summary.reliability.min).toBe(1);
    // Symmetric links from 9 picks each give a mean degree near 18; RMR ~ degree - 1 - (tree edges).
    expect(r.summary.rmrAll).toBeGreaterThan(10);
    expect(r.summary.counters.controlFrames).toBe(400 * 9);
  });

  it('gossipsub mesh reaches every node in a stable run and gossips IHAVE', () => {
    const r = runScenario(gossipsubProtocol(), { nodes: 400, broadcasts: 40, seed });
    expect(r.summary.reliability.min).toBe(1);
    expect(r.summary.rmrAll).toBeGreaterThan(3);
    expect(r.summary.counters.controlFrames).toBeGreaterThan(400 * 6);
  });

  it('gossipsub repairs through IHAVE/IWANT under loss; flooding only by redundancy', () => {
    const scenario = { nodes: 300, broadcasts: 30, seed, lossRate: 0.2 };
    const g = runScenario(gossipsubProtocol(), scenario);
    expect(g.summary.counters.droppedLoss).toBeGreaterThan(0);
    expect(g.summary.reliability.min).toBe(1);
  });
});
