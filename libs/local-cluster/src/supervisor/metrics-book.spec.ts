import { describe, expect, it } from '@jest/globals';
import { ZERO_COUNTERS } from './cluster-view.js';
import { MetricsBook, RATE_SAMPLES } from './metrics-book.js';

const c = (delivered: number, prunesSent = 0) => ({ ...ZERO_COUNTERS, delivered, prunesSent });

describe('MetricsBook', () => {
  it('counts deliveries per second from the deltas of each node, across a restart', () => {
    const m = new MetricsBook();
    m.observe('a', 1, c(5));
    m.observe('b', 1, c(2));
    m.tick();
    m.observe('a', 1, c(8));
    // b restarted (new epoch): its counter starts again from 0, all of it is new.
    m.observe('b', 2, c(1));
    m.tick();
    m.tick();
    expect(m.rate()).toEqual([7, 4, 0]);
  });

  it('keeps the last 60 samples', () => {
    const m = new MetricsBook();
    for (let i = 0; i < RATE_SAMPLES + 5; i++) {
      m.observe('a', 1, c(i + 1));
      m.tick();
    }
    expect(m.rate()).toHaveLength(RATE_SAMPLES);
  });

  it('reset subtracts a baseline until the node restarts', () => {
    const m = new MetricsBook();
    m.observe('a', 1, c(10, 4));
    m.reset();
    expect(m.since('a')).toEqual(ZERO_COUNTERS);
    expect(m.observe('a', 1, c(13, 5))).toEqual(c(3, 1));
    // A new life counts from its own start.
    expect(m.observe('a', 2, c(2))).toEqual(c(2));
    expect(m.since('unknown')).toEqual(ZERO_COUNTERS);
  });
});
