import { describe, expect, it } from '@jest/globals';
import { createRng } from '@plumtree/common';
import { DEFAULT_LATENCY, LatencyModel } from './latency-model.js';

describe('LatencyModel', () => {
  it('is symmetric, deterministic per seed and within base + k*sqrt(2)', () => {
    const a = new LatencyModel(200, createRng(3));
    const b = new LatencyModel(200, createRng(3));
    const max = DEFAULT_LATENCY.baseMs + DEFAULT_LATENCY.msPerUnit * Math.SQRT2;
    for (let i = 0; i < 200; i += 7) {
      for (let j = 0; j < 200; j += 11) {
        expect(a.latency(i, j)).toBe(a.latency(j, i));
        expect(a.latency(i, j)).toBe(b.latency(i, j));
        expect(a.latency(i, j)).toBeGreaterThanOrEqual(DEFAULT_LATENCY.baseMs);
        expect(a.latency(i, j)).toBeLessThanOrEqual(max);
      }
    }
    expect(a.latency(5, 5)).toBe(DEFAULT_LATENCY.baseMs);
  });

  it('differs between seeds', () => {
    const a = new LatencyModel(50, createRng(1));
    const b = new LatencyModel(50, createRng(2));
    let same = 0;
    for (let j = 1; j < 50; j++) if (a.latency(0, j) === b.latency(0, j)) same++;
    expect(same).toBeLessThan(5);
  });

  it('obeys the triangle inequality (coordinates, not a random matrix)', () => {
    const m = new LatencyModel(60, createRng(9), { baseMs: 0 });
    for (let i = 0; i < 60; i += 3) {
      for (let j = 1; j < 60; j += 5) {
        for (let k = 2; k < 60; k += 7) {
          expect(m.latency(i, k)).toBeLessThanOrEqual(m.latency(i, j) + m.latency(j, k) + 1e-9);
        }
      }
    }
  });

  it('adds jitter in [0, jitterMs) per sample', () => {
    const m = new LatencyModel(10, createRng(1), { baseMs: 1, msPerUnit: 10, jitterMs: 2 });
    const rng = createRng(5);
    const base = m.latency(1, 2);
    const samples = Array.from({ length: 500 }, () => m.sample(1, 2, rng) - base);
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...samples)).toBeLessThan(2);
    expect(Math.max(...samples) - Math.min(...samples)).toBeGreaterThan(1.5);
  });

  it('rejects negative parameters', () => {
    expect(() => new LatencyModel(2, createRng(1), { msPerUnit: -1 })).toThrow(RangeError);
  });
});
