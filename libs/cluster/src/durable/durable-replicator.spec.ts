/**
 * The replicator as a whole: removing a topic, frames of other kinds, options. The pipeline,
 * catch-up and serving have their own specs beside this one.
 */
import { describe, expect, it } from '@jest/globals';
import { DurableOptionsError, type DurableReplicatorOptions } from './durable-options.js';
import {
  rec,
  settle,
  TestNetwork,
  TOPIC,
} from '../../../../test/support/durable-replicator-harness.js';

describe('DurableReplicator', () => {
  it('stops a topic cleanly on removeTopic: no timers left, no deliveries after it', async () => {
    const net = new TestNetwork();
    const a = net.add('a');
    for (let s = 1; s <= 100; s++) a.live(rec('p', s));
    await net.clock.run(0);
    const b = net.add('b', { pageMessages: 10 });
    b.peers('a');
    await settle();
    const before = b.delivered.length;
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(100);
    b.live(rec('q', 5));
    b.replicator.removeTopic(TOPIC);
    expect(b.replicator.hasTopic(TOPIC)).toBe(false);
    expect(net.clock.pendingTimers).toBe(0);
    await net.clock.run();
    expect(b.delivered.length).toBe(before);
    expect(b.replicator.onLive(TOPIC, rec('p', 1), 'x')).toBe(false);
  });

  it('counts malformed frames and ignores frames of other kinds', () => {
    const net = new TestNetwork();
    const b = net.add('b');
    expect(b.replicator.onFrame('x', Uint8Array.of(1, 2, 3))).toBe(false);
    expect(b.replicator.onFrame('x', Uint8Array.of(0x83, 0))).toBe(true);
    expect(b.replicator.onFrame('x', Uint8Array.of(0x84))).toBe(true);
    expect(b.replicator.stats().malformedFrames).toBe(2);
  });

  it('validates options, listing every problem', () => {
    const net = new TestNetwork();
    let error: unknown;
    try {
      net.add('b', { paceMs: -1, maxHeldPerTopic: 0.5, bogus: 1 } as DurableReplicatorOptions);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DurableOptionsError);
    expect((error as DurableOptionsError).problems).toHaveLength(3);
  });
});
