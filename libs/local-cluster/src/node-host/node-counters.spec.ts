import { afterAll, describe, expect, it } from '@jest/globals';
import { MemoryNetwork } from '@plumtree/swim';
import { memoryNodes } from '../../../../test/support/memory-nodes.js';
import { waitFor } from '../../../../test/support/wait-for.js';
import { rmr } from '../supervisor/cluster-view.js';
import { nodeCounters } from './node-counters.js';

describe('nodeCounters', () => {
  const cluster = memoryNodes({ topics: ['room'] });
  afterAll(() => cluster.closeAll());

  it('counts payloads received in messages, not frames: a burst in runs gives the view a true RMR', async () => {
    const net = new MemoryNetwork();
    const [a, b, c] = [
      await cluster.start(net, 'a'),
      await cluster.start(net, 'b'),
      await cluster.start(net, 'c'),
    ];
    await a.ready('room', { subscribers: 3 });
    // One synchronous burst: the frames carry runs of many messages.
    const n = 300;
    await Promise.all(Array.from({ length: n }, (_, i) => a.publish('room', i)));
    await waitFor('every delivery', () => [b, c].every((x) => x.stats().core.delivered === n));
    for (const x of [b, c]) {
      const s = x.stats();
      const counters = nodeCounters(s, 0, 0);
      // Every first copy came from a peer; frames alone are fewer than the messages they carried.
      expect(counters.gossipReceived).toBe(n + s.core.duplicates);
      expect(s.node.framesReceived.gossip).toBeLessThan(n);
      expect(rmr(counters)).toBe(s.core.duplicates / n);
    }
    // The publisher's own messages are no payloads received.
    const own = nodeCounters(a.stats(), n, 0);
    expect(own.gossipReceived).toBe(a.stats().core.duplicates);
  });
});
