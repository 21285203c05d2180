/**
 * Issue 15, readiness: on a freshly started cluster of 10 nodes (real UDP + TCP on 127.0.0.1,
 * started at once in random order, every node joining node 0 with join retry), a message
 * published right after `ready(topic, { subscribers: 10 })` resolves reaches every subscriber,
 * exactly once. 20 runs, each a new cluster and a new publisher; no warm-up message anywhere.
 */
import { describe, expect, it } from '@jest/globals';
import { PlumtreeNode, type Delivery } from '@plumtree/cluster';
import { freePort } from '../../apps/bench/src/swim/agent-process.js';
import { FAST_SWIM } from '../support/fast-swim.js';
import { waitFor } from '../support/wait-for.js';

const NODES = 10;
const RUNS = 20;
const MESSAGES = 20;
const TOPIC = 'fresh';

/** Starts 10 nodes at once, in a random order, all subscribing to TOPIC from the start. */
async function freshCluster(run: number): Promise<PlumtreeNode[]> {
  const ports: number[] = [];
  for (let i = 0; i < NODES; i++) ports.push(await freePort());
  const seed = `127.0.0.1:${ports[0]!.toString()}`;
  const order = [...ports.keys()].sort(() => Math.random() - 0.5);
  const started = await Promise.all(
    order.map((i) =>
      PlumtreeNode.start({
        name: `r${run.toString()}-${i.toString()}`,
        persistence: false,
        bindAddr: '127.0.0.1',
        bindPort: ports[i]!,
        swim: FAST_SWIM,
        seeds: i === 0 ? [] : [seed],
        topics: [TOPIC],
      }).then((node) => ({ i, node })),
    ),
  );
  return started.sort((a, b) => a.i - b.i).map((s) => s.node);
}

describe('ready() on a freshly started 10-node cluster', () => {
  it(`a publish right after ready() reaches every subscriber exactly once (${RUNS.toString()} runs)`, async () => {
    for (let run = 0; run < RUNS; run++) {
      const nodes = await freshCluster(run);
      try {
        const got = nodes.map(() => [] as Delivery[]);
        nodes.forEach((n, k) => n.subscribe(TOPIC).subscribe((d) => got[k]!.push(d)));
        const publisher = nodes[Math.floor(Math.random() * NODES)]!;
        await publisher.ready(TOPIC, { subscribers: NODES, timeoutMs: 20_000 });
        const ids: string[] = [];
        for (let k = 0; k < MESSAGES; k++) ids.push(await publisher.publish(TOPIC, { run, k }));
        await waitFor(
          `run ${run.toString()}: every subscriber to get all ${MESSAGES.toString()}`,
          () => got.every((g) => g.length >= MESSAGES),
          { timeoutMs: 20_000 },
        );
        for (const g of got) expect(g.map((d) => d.id).sort()).toEqual([...ids].sort());
      } finally {
        await Promise.all(nodes.map((n) => n.close()));
      }
    }
  }, 600_000);
});
