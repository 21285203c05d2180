/**
 * Issue 12's burst, in process: 5,000 publishes issued without waiting (open loop) into a 5-node
 * cluster on a MemoryNetwork, and every subscriber must get every message exactly once. Run with
 * the publisher in the tree and outside it (hand-off). Not a timing test: the waits are bounded
 * polls on the deliveries; the flow control under test is what keeps the queues from overflowing.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { MemoryNetwork } from '@plumtree/swim';
import { PlumtreeNode } from '../index.js';

import { waitFor } from '../../../../test/support/wait-for.js';

const MESSAGES = 5_000;
const TOPIC = 'burst';

describe('a burst of 5,000 messages through 5 nodes', () => {
  const nodes: PlumtreeNode[] = [];
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.close()));
  });

  async function start(net: MemoryNetwork, i: number, topics: string[]): Promise<PlumtreeNode> {
    const node = await PlumtreeNode.start({
      name: `n${i}`,
      persistence: false,
      transport: net.bind(`10.0.1.${i + 1}:7946`, { streamTimeoutMs: 600_000 }),
      // SWIM's local preset, not the test suite's fast timers (50 ms probe timeout): five nodes
      // share this event loop through the burst, and a probe starved past its timeout declared
      // a subscriber dead, which closed its links and failed hand-offs (a CI-load flake).
      swim: { preset: 'local' },
      seeds: nodes.length > 0 ? [nodes[0]!.address] : [],
      seed: i + 11,
      topics,
    });
    nodes.push(node);
    return node;
  }

  /** Per subscriber: how many times each index was delivered. */
  function counting(node: PlumtreeNode): Uint16Array {
    const seen = new Uint16Array(MESSAGES);
    node.subscribe<{ i: number }>(TOPIC).subscribe((d) => {
      if (d.payload.i >= 0) seen[d.payload.i]!++;
    });
    return seen;
  }

  it.each([
    ['in the tree', true],
    ['outside the tree (hand-off)', false],
  ])(
    'every subscriber gets every message exactly once, publisher %s',
    async (_mode, inTree) => {
      const net = new MemoryNetwork();
      const publisher = await start(net, 0, inTree ? [TOPIC] : []);
      const subscribers: PlumtreeNode[] = [];
      for (let i = 1; i <= 4; i++) subscribers.push(await start(net, i, []));
      const counts = subscribers.map(counting);
      await waitFor('the directory', () => publisher.subscribersOf(TOPIC).length === 4, {
        timeoutMs: 20_000,
      });
      // One probe through the tree first, so the burst does not meet connection set-up.
      await publisher.publish(TOPIC, { i: -1 });
      const pad = 'x'.repeat(1024);
      const published: Promise<string>[] = [];
      for (let i = 0; i < MESSAGES; i++) published.push(publisher.publish(TOPIC, { i, pad }));
      const ids = await Promise.all(published);
      expect(new Set(ids).size).toBe(MESSAGES);
      await waitFor('every delivery', () => counts.every((c) => c.every((n) => n >= 1)), {
        timeoutMs: 120_000,
      });
      for (const c of counts) {
        expect(c.every((n) => n === 1)).toBe(true);
      }
      const stats = [publisher, ...subscribers].map((n) => n.stats());
      // Nothing was dropped on a full queue: the window held the burst back instead.
      for (const s of stats) expect(s.transport.overflows).toBe(0);
      if (!inTree) expect(stats[0]!.node.handoffs.acked).toBeGreaterThanOrEqual(MESSAGES);
    },
    180_000,
  );
});
