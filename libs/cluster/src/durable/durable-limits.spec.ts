/**
 * The replicator's caps on what peers can make it hold (docs/limits.md): catch-up requests
 * served at once, and streams tracked per topic.
 */
import { describe, expect, it } from '@jest/globals';
import { encodeCatchupRequest } from './catchup-codec.js';
import {
  rec,
  settle,
  TestNetwork,
  TOPIC,
} from '../../../../test/support/durable-replicator-harness.js';

function request(requestId: number): Uint8Array {
  return encodeCatchupRequest({
    requestId,
    topic: TOPIC,
    marks: [],
    maxMessages: 10,
    maxBytes: 1 << 16,
  });
}

describe('DurableReplicator caps', () => {
  it('serves at most maxServesPerPeer requests of a peer and maxServes in all; drops the rest', async () => {
    const net = new TestNetwork();
    const a = net.add('a', { maxServesPerPeer: 2, maxServes: 3 });
    a.live(rec('p', 1));
    await net.clock.run(0);
    for (let id = 1; id <= 5; id++) a.replicator.onFrame('x', request(id));
    a.replicator.onFrame('y', request(1));
    a.replicator.onFrame('y', request(2));
    expect(a.replicator.stats().servesDropped).toBe(4);
    await settle();
    expect(a.sentTo.get('x')).toBe(2);
    expect(a.sentTo.get('y')).toBe(1);
    expect(a.stats().requestsServed).toBe(3);
    // Once answered, the peer is served again.
    a.replicator.onFrame('x', request(6));
    await settle();
    expect(a.sentTo.get('x')).toBe(3);
    expect(a.replicator.stats().servesDropped).toBe(4);
  });

  it('tracks at most maxStreamsPerTopic streams; a forgotten stream resumes in order', async () => {
    const net = new TestNetwork();
    const c = net.add('c', { maxStreamsPerTopic: 10, retentionMs: 1_000 });
    for (let i = 0; i < 25; i++) c.live(rec(`o${i}`, 1));
    await net.clock.run(0);
    expect(c.stats().streamsForgotten).toBeGreaterThanOrEqual(15);
    // o0 was forgotten: its next record follows the one the log holds, no gap, no catch-up.
    c.live(rec('o0', 2));
    await net.clock.run(0);
    expect(c.ids()).toContain('o0/7/2');
    expect(c.stats()).toMatchObject({ gapsSeen: 0, held: 0 });
    // Past the retention every idle stream goes at once.
    const before = c.stats().streamsForgotten;
    await net.clock.run(2_000);
    c.live(rec('late', 1));
    expect(c.stats().streamsForgotten - before).toBeGreaterThanOrEqual(9);
  });
});
