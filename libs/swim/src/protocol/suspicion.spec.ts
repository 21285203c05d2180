import { describe, expect, it } from '@jest/globals';
import { Suspicion } from './suspicion.js';

// memberlist TestSuspicion_Timer with k = 3, min 500 ms, max 2 s, but on an injected clock: the
// Go test sleeps 25 ms between confirmations; here they arrive at 25, 50, 75, ... ms.
describe('Suspicion', () => {
  const k = 3;
  const min = 500;
  const max = 2000;
  const cases: Array<{
    name: string;
    confirmations: Array<[from: string, newInfo: boolean]>;
    count: number;
    timeoutMs: number;
  }> = [
    { name: 'no confirmation keeps the max', confirmations: [], count: 0, timeoutMs: max },
    {
      name: 'one confirmation',
      confirmations: [
        ['me', false],
        ['foo', true],
      ],
      count: 1,
      timeoutMs: 1250,
    },
    {
      name: 'repeated accuser counts once',
      confirmations: [
        ['me', false],
        ['foo', true],
        ['foo', false],
        ['foo', false],
      ],
      count: 1,
      timeoutMs: 1250,
    },
    {
      name: 'two confirmations',
      confirmations: [
        ['me', false],
        ['foo', true],
        ['bar', true],
      ],
      count: 2,
      timeoutMs: 811,
    },
    {
      name: 'k confirmations reach the min',
      confirmations: [
        ['me', false],
        ['foo', true],
        ['bar', true],
        ['baz', true],
      ],
      count: 3,
      timeoutMs: min,
    },
    {
      name: 'beyond k is no new information',
      confirmations: [
        ['me', false],
        ['foo', true],
        ['bar', true],
        ['baz', true],
        ['zoo', false],
      ],
      count: 3,
      timeoutMs: min,
    },
  ];

  it.each(cases)('$name', ({ confirmations, count, timeoutMs }) => {
    const start = 10_000;
    const s = new Suspicion('me', k, min, max, start);
    confirmations.forEach(([from, newInfo], i) => {
      expect(s.confirm(from, start + 25 * (i + 1))).toBe(newInfo);
    });
    expect(s.confirmations).toBe(count);
    // The timeout counts from the start of the suspicion, not from the last confirmation.
    expect(s.deadlineMs - start).toBe(timeoutMs);
  });

  it('memberlist TestSuspicion_Timer_ZeroK: with k = 0 the min applies and nothing confirms', () => {
    const s = new Suspicion('me', 0, 25, 30_000, 0);
    expect(s.deadlineMs).toBe(25);
    expect(s.confirm('foo', 1)).toBe(false);
    expect(s.deadlineMs).toBe(25);
  });

  it('memberlist TestSuspicion_Timer_Immediate: a late confirmation makes the timer due at once', () => {
    const s = new Suspicion('me', 1, 100, 30_000, 0);
    expect(s.deadlineMs).toBe(30_000);
    expect(s.confirm('foo', 200)).toBe(true);
    expect(s.deadlineMs).toBe(200);
  });
});
