import { describe, expect, it } from '@jest/globals';
import { slopePerMinute } from './trend.js';

describe('slopePerMinute', () => {
  it('is the least-squares slope per minute', () => {
    // 1 MB per minute, sampled every 10 s, with noise that cancels out.
    const pts = Array.from({ length: 13 }, (_, k) => ({
      t: k * 10_000,
      v: 50e6 + (k * 1e6) / 6 + (k % 2 === 0 ? 2e5 : -2e5),
    }));
    expect(slopePerMinute(pts)! / 1e6).toBeCloseTo(1, 1);
  });

  it('is 0 for a flat series and negative for a falling one', () => {
    expect(slopePerMinute([0, 1, 2, 3].map((k) => ({ t: k * 1000, v: 7 })))).toBe(0);
    expect(slopePerMinute([0, 1, 2].map((k) => ({ t: k * 60_000, v: 10 - k })))).toBeCloseTo(-1);
  });

  it('needs three points at distinct times', () => {
    expect(
      slopePerMinute([
        { t: 0, v: 1 },
        { t: 1, v: 2 },
      ]),
    ).toBeUndefined();
    expect(slopePerMinute([0, 0, 0].map((v) => ({ t: 5, v })))).toBeUndefined();
  });
});
