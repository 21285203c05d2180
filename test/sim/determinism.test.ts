import { describe, expect, it } from '@jest/globals';
import {
  floodingProtocol,
  gossipsubProtocol,
  plumtreeProtocol,
  runScenario,
  type SimProtocol,
} from '@plumtree/sim';
import { SIM_SEEDS } from '../support/sim-seeds.js';

const protocols: [string, () => SimProtocol<unknown>][] = [
  ['plumtree', () => plumtreeProtocol() as SimProtocol<unknown>],
  ['flood', () => floodingProtocol() as SimProtocol<unknown>],
  ['gossipsub', () => gossipsubProtocol() as SimProtocol<unknown>],
];

describe.each(SIM_SEEDS)('same seed => identical run (seed %i)', (seed) => {
  it.each(protocols)(
    '%s: two runs of one seed agree on every figure; the next seed differs',
    (_name, make) => {
      const scenario = {
        nodes: 200,
        broadcasts: 30,
        seed,
        failPercent: 20,
        lossRate: 0.01,
        topics: 3,
        latency: { baseMs: 1, msPerUnit: 20, jitterMs: 1 },
        detection: { detectionDelayMs: 500, detectionJitterMs: 300 },
      };
      const a = runScenario(make(), scenario);
      const b = runScenario(make(), scenario);
      expect(b.summary).toEqual(a.summary);
      expect(b.broadcasts).toEqual(a.broadcasts);
      expect(a.summary.counters.events).toBeGreaterThan(1000);
      const c = runScenario(make(), { ...scenario, seed: seed + 1 });
      expect(c.broadcasts.map((m) => m.origin)).not.toEqual(a.broadcasts.map((m) => m.origin));
    },
  );
});
