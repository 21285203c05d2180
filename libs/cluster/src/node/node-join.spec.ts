/**
 * `PlumtreeNode.join`: a node started without seeds joins later (what the Nest server does after
 * binding its handlers), retrying while the seed is not up yet, and fails with `JoinError` once
 * its timeout has run out.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { JoinError, MemoryNetwork } from '@plumtree/swim';
import { FAST_SWIM } from '../../../../test/support/fast-swim.js';
import { waitFor } from '../../../../test/support/wait-for.js';
import { PlumtreeNode } from './plumtree-node.js';

describe('PlumtreeNode.join', () => {
  const nodes: PlumtreeNode[] = [];
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.close()));
  });

  async function start(net: MemoryNetwork, i: number): Promise<PlumtreeNode> {
    const node = await PlumtreeNode.start({
      name: `j${i}`,
      persistence: false,
      transport: net.bind(`10.0.2.${i + 1}:7946`, { streamTimeoutMs: 600_000 }),
      swim: FAST_SWIM,
      seeds: [],
      seed: 70 + i,
    });
    nodes.push(node);
    return node;
  }

  it('joins a seed started after the call, and lists it', async () => {
    const net = new MemoryNetwork();
    const b = await start(net, 1);
    const joining = b.join(['10.0.2.1:7946'], { timeoutMs: 10_000 });
    const a = await start(net, 0);
    await expect(joining).resolves.toBe(1);
    await waitFor('both list both', () => a.members().length === 2 && b.members().length === 2);
  });

  it('rejects with JoinError once its timeout has run out', async () => {
    const net = new MemoryNetwork();
    const b = await start(net, 1);
    await expect(b.join(['10.0.2.9:7946'], { timeoutMs: 0 })).rejects.toBeInstanceOf(JoinError);
    expect(await b.join([])).toBe(0);
  });
});
