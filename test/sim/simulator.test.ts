import { describe, expect, it } from '@jest/globals';
import { floodingProtocol, Simulator } from '@plumtree/sim';

function payload(): Uint8Array {
  return new Uint8Array(8);
}

describe('Simulator network faults (driven with flooding)', () => {
  it('a partition confines a broadcast to its group until healed', () => {
    const sim = new Simulator(floodingProtocol(), { nodes: 100, seed: 1 });
    sim.start();
    sim.runUntil(100);
    const left = Array.from({ length: 50 }, (_, i) => i);
    sim.partition([left]);
    const b0 = sim.broadcast(0, 0, payload());
    sim.runUntil(1_000);
    const d0 = sim.log.delivered[b0]!;
    expect(d0.slice(0, 50).every((x) => x === 1)).toBe(true);
    expect(d0.slice(50).every((x) => x === 0)).toBe(true);
    expect(sim.counters.droppedPartition).toBeGreaterThan(0);
    sim.heal();
    const b1 = sim.broadcast(0, 0, payload());
    sim.runUntil(2_000);
    expect(sim.log.delivered[b1]!.every((x) => x === 1)).toBe(true);
  });

  it('crashed nodes neither receive nor deliver, and frames to them are counted', () => {
    const sim = new Simulator(floodingProtocol(), {
      nodes: 100,
      seed: 2,
      detection: { detectionDelayMs: 10_000, detectionJitterMs: 0 },
    });
    sim.start();
    sim.runUntil(100);
    const batch = sim.crash([5, 6, 7]);
    const b = sim.broadcast(0, 0, payload());
    sim.runUntil(1_000);
    expect(sim.counters.droppedCrashed).toBeGreaterThan(0);
    for (const m of batch.members) expect(sim.log.delivered[b]![m]).toBe(0);
    expect(sim.log.deliveries[b]).toBe(97);
    expect(() => sim.broadcast(5, 0, payload())).toThrow(/crashed/);
  });

  it('learns crashes after the detection delay, in one event per bucket', () => {
    const sim = new Simulator(floodingProtocol(), {
      nodes: 50,
      seed: 3,
      detection: { detectionDelayMs: 1_000, detectionJitterMs: 100, detectionBucketMs: 50 },
    });
    sim.start();
    sim.crash([1]);
    sim.runUntil(999);
    expect(sim.oracle.knowsDown(0, 1)).toBe(false);
    const before = sim.counters.events;
    sim.runUntil(1_100);
    expect(sim.oracle.knowsDown(0, 1)).toBe(true);
    expect(sim.counters.events - before).toBeLessThanOrEqual(2);
  });

  it('drops frames at the configured loss rate', () => {
    const sim = new Simulator(floodingProtocol(), { nodes: 200, seed: 4, lossRate: 0.1 });
    sim.start();
    for (let i = 0; i < 10; i++) sim.broadcast(i, 0, payload());
    sim.runUntil(5_000);
    const sent = sim.counters.payloadFrames + sim.counters.controlFrames;
    expect(sim.counters.droppedLoss / sent).toBeGreaterThan(0.08);
    expect(sim.counters.droppedLoss / sent).toBeLessThan(0.12);
  });
});
