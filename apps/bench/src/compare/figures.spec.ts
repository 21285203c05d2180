import { describe, expect, it } from '@jest/globals';
import {
  computeFigures,
  latencySummary,
  ratio,
  ratiosTo,
  type RunFigures,
  type RunMeasurements,
} from './figures.js';

const f64 = (...xs: number[]): Float64Array => Float64Array.from(xs);

describe('latencySummary (nearest rank over every subscriber)', () => {
  it('merges the samples of all subscribers', () => {
    const a = f64(...Array.from({ length: 50 }, (_, i) => i + 1));
    const b = f64(...Array.from({ length: 50 }, (_, i) => 100 - i));
    expect(latencySummary([a, b])).toEqual({ p50Ms: 50, p99Ms: 99, maxMs: 100 });
  });

  it('is NaN without samples', () => {
    const s = latencySummary([f64(), f64()]);
    expect([s.p50Ms, s.p99Ms, s.maxMs].every(Number.isNaN)).toBe(true);
  });
});

function measured(over: Partial<RunMeasurements> = {}): RunMeasurements {
  return {
    transport: 'ours-tree',
    subs: 2,
    messages: 4,
    firstEmitAt: 1_000,
    subscribers: [
      { count: 4, dups: 1, invalid: 0, lastAt: 1_500, latMs: f64(1, 2, 3, 4) },
      { count: 3, dups: 0, invalid: 2, lastAt: 3_000, latMs: f64(5, 6, 7) },
    ],
    cpuTicks: 35,
    ticksPerSecond: 100,
    wchar: 7_000,
    peakSubscriberRssBytes: 150_000_000,
    emitErrors: 1,
    emitsUnsettled: 0,
    firstEmitError: 'NoSubscribersError: x',
    unresolvedAtEnd: 2,
    ...over,
  };
}

describe('computeFigures', () => {
  it('derives each column from the measurements', () => {
    expect(computeFigures(measured())).toEqual({
      transport: 'ours-tree',
      deliveries: 7,
      // 7 deliveries from the first emit (1,000) to the last delivery (3,000).
      deliveriesPerSec: 3.5,
      elapsedMs: 2_000,
      p50Ms: 4,
      p99Ms: 7,
      maxMs: 7,
      // 35 ticks at 100/s = 350 ms for 7 deliveries.
      cpuMsPer1k: 50_000,
      bytesPerDelivery: 1_000,
      peakSubscriberRssMB: 150,
      lost: 1,
      duplicates: 1,
      invalid: 2,
      emitErrors: 1,
      emitsUnsettled: 0,
      firstEmitError: 'NoSubscribersError: x',
      unresolvedAtEnd: 2,
    });
  });

  it('a subscriber without deliveries does not move the end of the run', () => {
    const m = measured({
      subscribers: [
        { count: 2, dups: 0, invalid: 0, lastAt: 2_000, latMs: f64(1, 1) },
        { count: 0, dups: 0, invalid: 0, lastAt: Number.NaN, latMs: f64() },
      ],
    });
    const f = computeFigures(m);
    expect(f.elapsedMs).toBe(1_000);
    expect(f.lost).toBe(6);
  });

  it('a run without deliveries has 0 deliveries/s and no per-delivery figures', () => {
    const f = computeFigures(
      measured({
        subscribers: [{ count: 0, dups: 0, invalid: 0, lastAt: Number.NaN, latMs: f64() }],
        subs: 1,
      }),
    );
    expect(f.deliveriesPerSec).toBe(0);
    expect(f.cpuMsPer1k).toBeNaN();
    expect(f.bytesPerDelivery).toBeNaN();
    expect(f.lost).toBe(4);
  });
});

describe('ratios to NATS', () => {
  it.each([
    [2, 4, 0.5],
    [0, 0, 1],
    [3, 0, Number.POSITIVE_INFINITY],
  ])('ratio(%d, %d) = %d', (a, b, want) => {
    expect(ratio(a, b)).toBe(want);
  });

  it('divides every compared column', () => {
    const nats = computeFigures(measured({ transport: 'nats' }));
    const ours: RunFigures = { ...nats, transport: 'ours-tree', p99Ms: nats.p99Ms * 3, lost: 0 };
    const q = ratiosTo(ours, nats);
    expect(q.p99Ms).toBeCloseTo(3);
    expect(q.deliveriesPerSec).toBe(1);
    expect(q.lost).toBe(0);
    expect(Object.keys(q)).toEqual([
      'deliveriesPerSec',
      'p50Ms',
      'p99Ms',
      'maxMs',
      'cpuMsPer1k',
      'bytesPerDelivery',
      'peakSubscriberRssMB',
      'lost',
    ]);
  });
});
