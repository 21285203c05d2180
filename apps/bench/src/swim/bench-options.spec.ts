import { describe, expect, it } from '@jest/globals';
import { median, parseSwimBenchArgs, UsageError } from './bench-options.js';

describe('median', () => {
  it.each([
    [[5], 5],
    [[3, 1, 2], 2],
    [[4, 1, 3, 2], 2.5],
    [[10, 10, 1, 1, 7], 7],
  ])('median(%j) = %d', (xs, want) => {
    expect(median(xs)).toBe(want);
  });
  it('is NaN for an empty sample', () => {
    expect(median([])).toBeNaN();
  });
});

describe('parseSwimBenchArgs', () => {
  it('defaults to 10 nodes, 5 trials, go then ours', () => {
    expect(parseSwimBenchArgs([])).toEqual({
      nodes: 10,
      trials: 5,
      formationTrials: 5,
      formationNodes: 10,
      impls: ['go', 'ours'],
      json: undefined,
      help: false,
    });
  });
  it('reads every option', () => {
    expect(
      parseSwimBenchArgs(['--nodes', '4', '--trials', '3', '--impl', 'ours', '--json', 'x.json']),
    ).toEqual({
      nodes: 4,
      trials: 3,
      formationTrials: 5,
      formationNodes: 10,
      impls: ['ours'],
      json: 'x.json',
      help: false,
    });
  });
  it('lists every problem at once', () => {
    let err: unknown;
    try {
      parseSwimBenchArgs(['--nodes', '1', '--trials', 'x', '--impl', 'rust']);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    const msg = (err as Error).message;
    expect(msg).toContain('--nodes');
    expect(msg).toContain('--trials');
    expect(msg).toContain('rust');
  });
  it('rejects unknown flags', () => {
    expect(() => parseSwimBenchArgs(['--bogus'])).toThrow(UsageError);
  });
});
