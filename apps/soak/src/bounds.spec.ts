import { describe, expect, it } from '@jest/globals';
import { swimBounds } from './bounds.js';

describe('swimBounds', () => {
  it('computes the checker bounds of five local agents from the SWIM formulas', () => {
    expect(swimBounds('local', 5)).toEqual({
      probeIntervalMs: 1_000,
      // suspicionMult 3 x max(1, log10 5) x 1 s
      suspicionMinMs: 3_000,
      suspicionMaxMs: 18_000,
      refuteSlackMs: 1_000,
      refuteGraceMs: 18_000,
      // 5 x 1 s + 3 s
      detectionBoundMs: 8_000,
      // 2 x pushPullIntervalMs 15 s
      rejoinBoundMs: 30_000,
      deliveryBoundMs: 5_000,
    });
  });

  it('grows the suspicion bound with log10(n) past ten members, and with the lan preset', () => {
    expect(swimBounds('local', 100).suspicionMinMs).toBe(6_000);
    expect(swimBounds('lan', 5)).toMatchObject({ suspicionMinMs: 4_000, suspicionMaxMs: 24_000 });
  });
});
