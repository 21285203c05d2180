import { describe, expect, it } from '@jest/globals';
import { Awareness } from './awareness.js';

describe('Awareness', () => {
  it('memberlist TestAwareness: score clamps to [0, max-1] and scales the timeout by score+1', () => {
    const cases: Array<[delta: number, score: number, timeoutMs: number]> = [
      [0, 0, 1000],
      [-1, 0, 1000],
      [-10, 0, 1000],
      [1, 1, 2000],
      [-1, 0, 1000],
      [10, 7, 8000],
      [-1, 6, 7000],
      [-1, 5, 6000],
      [-1, 4, 5000],
      [-1, 3, 4000],
      [-1, 2, 3000],
      [-1, 1, 2000],
      [-1, 0, 1000],
      [-1, 0, 1000],
    ];
    const a = new Awareness(8);
    for (const [delta, score, timeoutMs] of cases) {
      a.applyDelta(delta);
      expect(a.healthScore).toBe(score);
      expect(a.scaleTimeout(1000)).toBe(timeoutMs);
    }
  });

  it('reports whether a delta changed the score', () => {
    const a = new Awareness(2);
    expect(a.applyDelta(-1)).toBe(false);
    expect(a.applyDelta(1)).toBe(true);
    expect(a.applyDelta(1)).toBe(false);
    expect(a.healthScore).toBe(1);
  });
});
