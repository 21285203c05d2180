import { describe, expect, it } from '@jest/globals';
import { DeliveryQueue } from './delivery-queue.js';

/** A queue on a manual clock and a manual scheduler. */
function harness(opts: { highWater?: number; highWaterBytes?: number; sliceMs?: number } = {}) {
  let now = 0;
  const scheduled: (() => void)[] = [];
  const log: string[] = [];
  const q = new DeliveryQueue<number>({
    highWater: opts.highWater ?? 10,
    highWaterBytes: opts.highWaterBytes ?? 1_000_000,
    sliceMs: opts.sliceMs ?? 10,
    onFull: () => log.push('full'),
    onDrained: () => log.push('drained'),
    now: () => now,
    schedule: (fn) => scheduled.push(fn),
  });
  const got: number[] = [];
  /** An observer whose handler takes `cost` ms of the manual clock. */
  const observer = (cost: number) => ({
    next: (v: number) => {
      got.push(v);
      now += cost;
    },
  });
  const runOne = () => {
    const fn = scheduled.shift();
    if (fn === undefined) throw new Error('nothing scheduled');
    fn();
  };
  return { q, log, got, observer, runOne, scheduled };
}

describe('DeliveryQueue', () => {
  it('waits at the head while a gate is shut, fills up to pausing, then resumes in order', () => {
    const h = harness({ highWater: 3 });
    let running = 0;
    let resume: (() => void) | undefined;
    const gated = {
      next: (v: number) => {
        running++;
        h.got.push(v);
      },
      gate: { isOpen: () => running < 2, onOpen: (r: () => void) => (resume = r) },
    };
    for (let i = 0; i < 5; i++) h.q.push(i, [gated], 1);
    h.runOne();
    // Two slots: the third delivery waits at the head; nothing is scheduled until the gate calls.
    expect(h.got).toEqual([0, 1]);
    expect(h.scheduled).toHaveLength(0);
    expect(h.q.pending).toBe(3);
    h.q.push(5, [gated], 1);
    expect(h.scheduled).toHaveLength(0);
    expect(h.log).toEqual(['full']);
    running--;
    resume!();
    resume!();
    expect(h.scheduled).toHaveLength(1);
    h.runOne();
    expect(h.got).toEqual([0, 1, 2]);
    running = 0;
    resume!();
    h.runOne();
    expect(h.got).toEqual([0, 1, 2, 3, 4]);
    running = 0;
    resume!();
    h.runOne();
    expect(h.got).toEqual([0, 1, 2, 3, 4, 5]);
    expect(h.log).toEqual(['full', 'drained']);
    expect(h.q.pending).toBe(0);
  });

  it('delivers nothing on the pushing turn, then everything in order', () => {
    const h = harness();
    const o = h.observer(0);
    for (let i = 0; i < 5; i++) h.q.push(i, [o], 1);
    expect(h.got).toEqual([]);
    expect(h.scheduled).toHaveLength(1);
    h.runOne();
    expect(h.got).toEqual([0, 1, 2, 3, 4]);
    expect(h.scheduled).toHaveLength(0);
    expect(h.q.pending).toBe(0);
  });

  it('yields after sliceMs of handler time, at least one delivery per slice', () => {
    const h = harness({ highWater: 100, sliceMs: 10 });
    const slow = h.observer(4);
    for (let i = 0; i < 7; i++) h.q.push(i, [slow], 1);
    h.runOne();
    // 4 + 4 + 4 ms: the third delivery passes the 10 ms budget, then the slice ends.
    expect(h.got).toEqual([0, 1, 2]);
    expect(h.scheduled).toHaveLength(1);
    h.runOne();
    expect(h.got).toEqual([0, 1, 2, 3, 4, 5]);
    const verySlow = harness({ sliceMs: 1 });
    const o = verySlow.observer(50);
    verySlow.q.push(1, [o], 1);
    verySlow.q.push(2, [o], 1);
    verySlow.runOne();
    expect(verySlow.got).toEqual([1]);
    expect(verySlow.q.stats().longestSliceMs).toBe(50);
  });

  it('calls onFull above the count mark and onDrained at half of it', () => {
    const h = harness({ highWater: 4, sliceMs: 3 });
    const o = h.observer(1);
    for (let i = 0; i < 5; i++) h.q.push(i, [o], 1);
    expect(h.log).toEqual(['full']);
    h.q.push(5, [o], 1);
    expect(h.log).toEqual(['full']);
    h.runOne(); // 3 delivered, 3 left: above 2
    expect(h.log).toEqual(['full']);
    h.runOne(); // 3 more: 0 left
    expect(h.log).toEqual(['full', 'drained']);
    expect(h.q.stats()).toMatchObject({ pauses: 1, maxPending: 6, pending: 0, pendingBytes: 0 });
  });

  it('calls onFull above the byte mark', () => {
    const h = harness({ highWater: 1000, highWaterBytes: 100 });
    const o = h.observer(0);
    h.q.push(1, [o], 60);
    expect(h.log).toEqual([]);
    h.q.push(2, [o], 60);
    expect(h.log).toEqual(['full']);
    expect(h.q.stats().pendingBytes).toBe(120);
    h.runOne();
    expect(h.log).toEqual(['full', 'drained']);
  });

  it('close() hands over what waits, then takes nothing more', () => {
    const h = harness();
    const o = h.observer(0);
    h.q.push(1, [o], 1);
    h.q.push(2, [o], 1);
    h.q.close();
    expect(h.got).toEqual([1, 2]);
    h.q.push(3, [o], 1);
    h.runOne(); // the slice scheduled before close runs and finds nothing
    expect(h.got).toEqual([1, 2]);
  });

  it('gives each delivery to every observer it was queued for', () => {
    const h = harness();
    const seenA: number[] = [];
    const seenB: number[] = [];
    h.q.push(1, [{ next: (v) => seenA.push(v) }, { next: (v) => seenB.push(v) }], 1);
    h.q.push(2, [{ next: (v) => seenB.push(v) }], 1);
    h.runOne();
    expect(seenA).toEqual([1]);
    expect(seenB).toEqual([1, 2]);
  });

  it('rejects high-water marks under 1', () => {
    expect(
      () =>
        new DeliveryQueue({
          highWater: 0,
          highWaterBytes: 1,
          sliceMs: 1,
          onFull: () => undefined,
          onDrained: () => undefined,
        }),
    ).toThrow(RangeError);
  });
});
