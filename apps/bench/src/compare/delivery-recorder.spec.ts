import { describe, expect, it } from '@jest/globals';
import { DeliveryRecorder } from './delivery-recorder.js';

describe('DeliveryRecorder', () => {
  it('records latency and time of each distinct delivery, counts duplicates apart', () => {
    const r = new DeliveryRecorder(3);
    r.record({ t: 100, i: 0, pad: '' }, 101.5);
    r.record({ t: 110, i: 2, pad: '' }, 120);
    r.record({ t: 100, i: 0, pad: '' }, 130); // duplicate of 0
    expect(r.progress()).toEqual({ type: 'progress', count: 2, dups: 1, probed: false });
    const rep = r.report();
    expect([...rep.latMs]).toEqual([1.5, 10]);
    expect(rep).toMatchObject({ count: 2, dups: 1, invalid: 0, lastAt: 120 });
  });

  it('takes negative indexes as probes and counts foreign payloads as invalid', () => {
    const r = new DeliveryRecorder(2);
    r.record({ t: 1, i: -1, pad: '' }, 2);
    for (const bad of [null, 'x', { t: 1 }, { i: 0 }, { t: 1, i: 0.5 }, { t: 1, i: 2 }]) {
      r.record(bad, 3);
    }
    expect(r.progress()).toEqual({ type: 'progress', count: 0, dups: 0, probed: true });
    expect(r.report()).toMatchObject({ count: 0, invalid: 6 });
    expect(Number.isNaN(r.report().lastAt)).toBe(true);
  });

  it('reports a copy of the latencies it holds, sized to the deliveries', () => {
    const r = new DeliveryRecorder(1000);
    r.record({ t: 0, i: 7, pad: '' }, 4);
    expect(r.report().latMs).toHaveLength(1);
  });
});
