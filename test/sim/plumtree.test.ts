import { describe, expect, it } from '@jest/globals';
import { plumtreeProtocol, runScenario } from '@plumtree/sim';
import { SIM_SEEDS } from '../support/sim-seeds.js';

describe.each(SIM_SEEDS)('Plumtree in the simulator (400 nodes, seed %i)', (seed) => {
  it('stable run: every broadcast reaches every node; RMR after warm-up <= 0.02', () => {
    const r = runScenario(plumtreeProtocol(), { nodes: 400, broadcasts: 100, seed });
    const s = r.summary;
    expect(r.broadcasts.map((b) => b.reliability)).toEqual(r.broadcasts.map(() => 1));
    expect(s.rmrSteady).toBeLessThanOrEqual(0.02);
    expect(s.duplicateDeliveries).toBe(0);
    expect(s.counters.unknownDeliveries + s.counters.unknownPayloads).toBe(0);
  });

  it('20% crash: >= 99% while in flight or being detected, 100% once detected', () => {
    const r = runScenario(plumtreeProtocol(), {
      nodes: 400,
      broadcasts: 120,
      seed,
      failPercent: 20,
      detection: { detectionDelayMs: 2_000, detectionJitterMs: 1_000 },
    });
    const p = r.summary.reliabilityByPhase;
    expect(r.summary.crash?.nodes).toBe(80);
    expect(p.before.count + p.during.count + p.after.count).toBe(120);
    expect(p.before.min).toBe(1);
    expect(p.during.count).toBeGreaterThan(0);
    expect(p.during.min).toBeGreaterThanOrEqual(0.99);
    expect(p.after.count).toBeGreaterThan(0);
    expect(p.after.min).toBe(1);
  });
});
