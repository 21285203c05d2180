/** The retry backoff formula, table-tested. */
import { describe, expect, it } from '@jest/globals';
import { backoffDelayMs } from './backoff.js';

describe('backoffDelayMs: min(max, initial * 2^(attempt-1)) * (0.5 + random / 2)', () => {
  const bounds = { initial: 200, max: 2_000 };
  it.each([
    [1, 0, 100],
    [1, 0.999999, 200],
    [2, 0.5, 300],
    [4, 0, 800],
    [5, 0, 1_000],
    [5, 0.999999, 2_000],
    [1_000, 0.5, 1_500],
    [0, 0, 100],
  ])('attempt %i with random %f gives %f ms', (attempt, random, expected) => {
    expect(backoffDelayMs(attempt, bounds, random)).toBeCloseTo(expected, 2);
  });
});
