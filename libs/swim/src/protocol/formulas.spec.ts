import { describe, expect, it } from '@jest/globals';
import {
  pushPullScaleMs,
  remainingSuspicionTimeMs,
  retransmitLimit,
  suspicionTimeoutMs,
} from './formulas.js';

// Expected values were printed by memberlist's own Go functions (util.go, suspicion.go) compiled
// with Debian's Go toolchain; the first tables are memberlist's util_test.go and suspicion_test.go.

describe('suspicionTimeoutMs', () => {
  it.each([
    [5, 1000],
    [10, 1000],
    [50, 1698],
    [100, 2000],
    [500, 2698],
    [1000, 3000],
  ])('memberlist TestSuspicionTimeout: n=%i gives %i ms per unit of multiplier', (n, expected) => {
    expect(suspicionTimeoutMs(3, n, 1000) / 3).toBe(expected);
  });

  // [n, lan (4, 1 s), local (3, 200 ms), wan (6, 5 s)] from Go.
  it.each([
    [0, 4000, 600, 30000],
    [1, 4000, 600, 30000],
    [11, 4164, 624.6, 31230],
    [32, 6020, 903, 45150],
    [33, 6072, 910.8, 45540],
    [50, 6792, 1018.8, 50940],
    [99, 7980, 1197, 59850],
    [100, 8000, 1200, 60000],
    [129, 8440, 1266, 63300],
    [500, 10792, 1618.8, 80940],
    [999, 11996, 1799.4, 89970],
    [1000, 12000, 1800, 90000],
    [4096, 14448, 2167.2, 108360],
    [10000, 16000, 2400, 120000],
    [100000, 20000, 3000, 150000],
  ])('matches Go for n=%i across the presets', (n, lan, local, wan) => {
    expect(suspicionTimeoutMs(4, n, 1000)).toBeCloseTo(lan, 9);
    expect(suspicionTimeoutMs(3, n, 200)).toBeCloseTo(local, 9);
    expect(suspicionTimeoutMs(6, n, 5000)).toBeCloseTo(wan, 9);
  });
});

describe('retransmitLimit', () => {
  it('memberlist TestRetransmitLimit', () => {
    expect(retransmitLimit(3, 0)).toBe(0);
    expect(retransmitLimit(3, 1)).toBe(3);
    expect(retransmitLimit(3, 99)).toBe(6);
  });

  // [n, mult 4, mult 2] from Go, including the powers of ten where log10 rounding matters.
  it.each([
    [0, 0, 0],
    [1, 4, 2],
    [9, 4, 2],
    [10, 8, 4],
    [99, 8, 4],
    [100, 12, 6],
    [999, 12, 6],
    [1000, 16, 8],
    [9999, 16, 8],
    [10000, 20, 10],
    [100000, 24, 12],
  ])('matches Go for n=%i', (n, four, two) => {
    expect(retransmitLimit(4, n)).toBe(four);
    expect(retransmitLimit(2, n)).toBe(two);
  });
});

describe('pushPullScaleMs', () => {
  it('memberlist TestPushPullScale: 1x up to 32, 2x to 64, 3x to 128', () => {
    for (let n = 0; n <= 32; n++) expect(pushPullScaleMs(1000, n)).toBe(1000);
    for (let n = 33; n <= 64; n++) expect(pushPullScaleMs(1000, n)).toBe(2000);
    for (let n = 65; n <= 128; n++) expect(pushPullScaleMs(1000, n)).toBe(3000);
  });

  it.each([
    [129, 120000],
    [500, 150000],
    [1000, 180000],
    [4096, 240000],
    [10000, 300000],
    [100000, 390000],
  ])('matches Go for n=%i at 30 s', (n, expected) => {
    expect(pushPullScaleMs(30000, n)).toBe(expected);
  });
});

describe('remainingSuspicionTimeMs', () => {
  it.each([
    [0, 3, 0, 2000, 30000, 30000],
    [1, 3, 2000, 2000, 30000, 14000],
    [2, 3, 3000, 2000, 30000, 4810],
    [3, 3, 4000, 2000, 30000, -2000],
    [4, 3, 5000, 2000, 30000, -3000],
    [5, 3, 10000, 2000, 30000, -8000],
  ])(
    'memberlist TestSuspicion_remainingSuspicionTime: n=%i k=%i elapsed=%i',
    (n, k, elapsed, min, max, expected) => {
      expect(remainingSuspicionTimeMs(n, k, elapsed, min, max)).toBe(expected);
    },
  );

  // [confirmations, k, lan n=10 (4 s .. 24 s), local n=50 (1.7 s .. 10.2 s)] from Go, elapsed 0.
  it.each([
    [1, 2, 11381, 4837],
    [1, 3, 14000, 5949],
    [1, 4, 15386, 6539],
    [2, 3, 8150, 3463],
    [2, 4, 10347, 4397],
    [3, 4, 6772, 2878],
    [4, 4, 4000, 1700],
    [6, 4, 4000, 1700],
  ])('matches Go for c=%i k=%i', (c, k, lan, local) => {
    expect(remainingSuspicionTimeMs(c, k, 0, 4000, 24000)).toBe(lan);
    expect(remainingSuspicionTimeMs(c, k, 0, 1700, 10200)).toBe(local);
  });
});
