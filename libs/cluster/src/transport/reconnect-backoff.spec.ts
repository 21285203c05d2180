/** The redial delay formula, table-tested. */
import { describe, expect, it } from '@jest/globals';
import { reconnectDelayMs } from './reconnect-backoff.js';

describe('reconnectDelayMs', () => {
  const bounds = { initial: 50, max: 5000 };
  it.each([
    [1, 0, 25],
    [1, 0.999999, 50],
    [2, 0, 50],
    [3, 0.5, 150],
    [7, 0, 1600],
    [8, 0, 2500],
    [8, 0.999999, 5000],
    [100, 0, 2500],
    [0, 0, 25],
  ])('attempt %i with random %f gives %f ms', (attempt, random, expected) => {
    expect(reconnectDelayMs(attempt, bounds, random)).toBeCloseTo(expected, 2);
  });
});
