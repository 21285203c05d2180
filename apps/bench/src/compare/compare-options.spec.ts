import { describe, expect, it } from '@jest/globals';
import { DEFAULT_CHART, parseCompareArgs, TRANSPORTS, UsageError } from './compare-options.js';

function usageError(argv: string[]): string {
  try {
    parseCompareArgs(argv);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error(`accepted ${argv.join(' ')}`);
}

describe('parseCompareArgs', () => {
  it('has the documented defaults: 8 subscribers, 20,000 x 1 KiB, burst, every transport', () => {
    expect(parseCompareArgs([])).toEqual({
      subs: 8,
      messages: 20_000,
      payload: 1024,
      rate: undefined,
      transports: ['nats', 'redis', 'ours-tree', 'ours-handoff'],
      json: undefined,
      chart: DEFAULT_CHART,
      keys: false,
      help: false,
    });
  });

  it('reads every option', () => {
    expect(
      parseCompareArgs([
        '--subs',
        '32',
        '--messages',
        '500',
        '--payload',
        '0',
        '--rate',
        '200',
        '--transports',
        'ours-handoff, nats',
        '--json',
        'out.json',
        '--chart',
        'c.svg',
        '--keys',
        '--help',
      ]),
    ).toEqual({
      subs: 32,
      messages: 500,
      payload: 0,
      rate: 200,
      transports: ['ours-handoff', 'nats'],
      json: 'out.json',
      chart: 'c.svg',
      keys: true,
      help: true,
    });
  });

  it('lists every problem at once', () => {
    const msg = usageError([
      '--subs',
      '0',
      '--messages',
      '1.5',
      '--payload',
      '100000',
      '--rate',
      '0',
      '--transports',
      'nats,kafka,nats',
      '--json',
      '',
    ]);
    expect(msg.split('\n')).toEqual([
      '--subs must be in [1, 128], got 0',
      '--messages must be an integer, got "1.5"',
      '--payload must be in [0, 61440], got 100000',
      '--rate must be in [1, 1000000], got 0',
      `--transports: expected a comma list of ${TRANSPORTS.join(', ')}, got "kafka"`,
      '--transports: nats is listed twice',
      '--json needs a file name',
    ]);
  });

  it.each([
    [['--bogus'], /Unknown option '--bogus'/],
    [['extra'], /Unexpected argument 'extra'/],
    [['--subs'], /Option '--subs <value>' argument missing/],
    [['--transports', ''], /got ""/],
  ])('refuses %j', (argv, want) => {
    expect(usageError(argv)).toMatch(want);
  });
});
