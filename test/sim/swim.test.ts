/**
 * SWIM failure detection at scale: real SwimCores driven by libs/sim (issue 3's simulated
 * acceptance point). The full size (1,000 nodes, 10 simulated minutes) takes minutes of CPU,
 * mostly memberlist's start-up alive burst (every node gossips every member's alive
 * `retransmitMult * ceil(log10(n + 1))` times) and its O(n) random-peer pick on every gossip tick,
 * so it runs in `npm run bench:swim-sim`; here the same scenario runs at 300 nodes for the full
 * 10 simulated minutes, once per seed of SIM_SEEDS (about 10-15 s of CPU each).
 */
import { describe, it, expect } from '@jest/globals';
import { runSwimScenario } from '@plumtree/sim';
import { compareAwareness, detectionBoundMs } from '../../libs/sim/src/swim/index.js';
import { SIM_SEEDS } from '../support/sim-seeds.js';

describe('the detection bound', () => {
  it('uses memberlist bound: probe + max suspicion + dissemination', () => {
    const b = detectionBoundMs(1000, { preset: 'lan' });
    // lan: suspicionMult 4, max mult 6, probe 1 s, log10(1000) = 3 -> 72 s of suspicion at most.
    expect(b.suspicionMaxMs).toBe(72_000);
    expect(b.totalMs).toBe(b.probeMs + b.suspicionMaxMs + b.disseminationMs);
  });
});

describe.each(SIM_SEEDS)('SWIM on the simulator (lan preset, 5% packet loss, seed %i)', (seed) => {
  it('detects every crash at every live node within the bound and declares no live node dead', () => {
    const r = runSwimScenario({
      nodes: 300,
      seed,
      loss: 0.05,
      durationMs: 10 * 60_000,
      crashes: 3,
    });
    const last = r.crashes.map((c) => c.lastFailedAfterMs);
    console.log(
      `seed ${seed}, 300 nodes, 10 min, 5% loss: crash -> dead everywhere (ms) ${JSON.stringify(last.map((x) => Math.round(x ?? -1)))}, ` +
        `bound ${r.bound.totalMs} ms; false positives ${r.falsePositives.length}; events ${r.events}`,
    );
    expect(r.crashes).toHaveLength(3);
    for (const c of r.crashes) {
      expect(c.observers).toBe(c.liveNodes);
      expect(c.lastFailedAfterMs).not.toBeNull();
      expect(c.lastFailedAfterMs!).toBeLessThanOrEqual(r.bound.totalMs);
      expect(c.withinBound).toBe(true);
    }
    expect(r.falsePositives).toEqual([]);
    // Packets really were lost: the run exercised indirect probes and retransmits.
    expect(r.packetsLost / r.packetsSent).toBeGreaterThan(0.04);
  }, 120_000);

  it('replays a seed exactly; the next seed differs', () => {
    const cfg = {
      nodes: 40,
      seed,
      loss: 0.05,
      durationMs: 100_000,
      crashes: 2,
      warmupMs: 5_000,
    };
    const a = runSwimScenario(cfg);
    const b = runSwimScenario(cfg);
    expect(b).toEqual(a);
    expect(runSwimScenario({ ...cfg, seed: seed + 1 }).events).not.toBe(a.events);
  });

  it('a node lagging 2 s makes fewer false accusations with Lifeguard awareness than without', () => {
    const { withAwareness, withoutAwareness } = compareAwareness({
      nodes: 50,
      seed,
      loss: 0.05,
      durationMs: 30 * 60_000,
      crashes: 0,
      lateMs: 2000,
    });
    console.log(
      `seed ${seed}, lagging node (2 s), 50 nodes, 30 min, 5% loss: false accusations with awareness ` +
        `${withAwareness.lateNodeAccusations}, without ${withoutAwareness.lateNodeAccusations}`,
    );
    expect(withoutAwareness.lateNodeAccusations).toBeGreaterThan(0);
    expect(withAwareness.lateNodeAccusations).toBeLessThan(withoutAwareness.lateNodeAccusations);
  }, 120_000);
});
