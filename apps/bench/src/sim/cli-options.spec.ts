import { describe, expect, it } from '@jest/globals';
import { parseSimBenchArgs, UsageError } from './cli-options.js';

describe('parseSimBenchArgs', () => {
  it('has the documented defaults', () => {
    const o = parseSimBenchArgs([]);
    expect(o).toMatchObject({
      nodes: 10_000,
      broadcasts: 200,
      fail: [0],
      lossRate: 0,
      topics: 1,
      seed: 1,
    });
    expect(o.protocols).toEqual(['plumtree', 'flood', 'gossipsub']);
    expect(o.detectionDelayMs).toBe(5_000);
  });

  it('parses a fail list, loss percent and the demo preset', () => {
    const o = parseSimBenchArgs([
      '--fail',
      '20,40',
      '--loss',
      '1.5',
      '--topics',
      '100',
      '--seed=-3',
    ]);
    expect(o.fail).toEqual([20, 40]);
    expect(o.lossRate).toBeCloseTo(0.015);
    expect(o.topics).toBe(100);
    expect(o.seed).toBe(-3);
    const d = parseSimBenchArgs(['--demo']);
    expect(d).toMatchObject({ demo: true, nodes: 1000, fail: [0, 20] });
    expect(parseSimBenchArgs(['--demo', '--nodes', '2000']).nodes).toBe(2000);
  });

  it.each([
    [['--bogus']],
    [['--nodes', '1']],
    [['--nodes', '12.5']],
    [['--fail', '20,x']],
    [['--fail', '100']],
    [['--loss', '-1']],
    [['--protocols', 'plumtree,kafka']],
    [['--topic-choice', 'random']],
    [['--preset', 'fast']],
    [['--json', '']],
    [['positional']],
  ])('rejects %j with a UsageError', (argv) => {
    expect(() => parseSimBenchArgs(argv)).toThrow(UsageError);
  });
});
