import { describe, expect, it } from '@jest/globals';
import { parseTimerKey, TimerKind, TimerTable, timerKey } from './timer-table.js';

describe('TimerTable', () => {
  it('gives the earliest deadline and pops due timers in deadline order', () => {
    const t = new TimerTable();
    t.set('a', 30);
    t.set('b', 10);
    t.set('c', 20);
    expect(t.next()).toBe(10);
    expect(t.popDue(25)).toEqual({ key: 'b', atMs: 10 });
    expect(t.popDue(25)).toEqual({ key: 'c', atMs: 20 });
    expect(t.popDue(25)).toBeUndefined();
    expect(t.next()).toBe(30);
  });

  it('re-arming moves a deadline and cancel removes it', () => {
    const t = new TimerTable();
    t.set('a', 10);
    t.set('a', 50);
    t.set('b', 20);
    t.cancel('b');
    expect(t.next()).toBe(50);
    expect(t.size).toBe(1);
    expect(t.popDue(49)).toBeUndefined();
    expect(t.popDue(50)).toEqual({ key: 'a', atMs: 50 });
    expect(t.next()).toBeUndefined();
  });

  it('equal deadlines fire in arming order', () => {
    const t = new TimerTable();
    for (const k of ['x', 'y', 'z']) t.set(k, 5);
    expect([t.popDue(5)?.key, t.popDue(5)?.key, t.popDue(5)?.key]).toEqual(['x', 'y', 'z']);
  });

  it('stays correct across many re-arms (stale entries compacted)', () => {
    const t = new TimerTable();
    for (let i = 0; i < 1000; i++) t.set(`k${i % 10}`, 1000 - i);
    expect(t.size).toBe(10);
    expect(t.next()).toBe(1);
    const order: number[] = [];
    for (let d = t.popDue(2000); d; d = t.popDue(2000)) order.push(d.atMs);
    expect(order).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('keys carry kind and id', () => {
    expect(parseTimerKey(timerKey(TimerKind.Suspicion, 'node:a'))).toEqual({
      kind: 'suspicion',
      id: 'node:a',
    });
    expect(parseTimerKey(timerKey(TimerKind.ProbeTick))).toEqual({
      kind: 'probe-tick',
      id: undefined,
    });
  });
});
