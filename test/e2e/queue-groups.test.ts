/**
 * Queue groups end to end, in one process on loopback sockets (docs/queue-groups.md): three
 * groups of three replicas, two ungrouped subscribers and one node that subscribes to nothing;
 * 10,000 messages. Each group handles each message exactly once, spread over its replicas;
 * ungrouped subscribers get every message; the non-subscriber receives no payload.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PlumtreeNode, type Delivery } from '@plumtree/cluster';
import { waitFor } from '../support/wait-for.js';

const TOPIC = 'orders.created';
const GROUPS = ['billing', 'audit', 'shipping'];
const REPLICAS = 3;
const TOTAL = 10_000;
/**
 * The local preset's failure detection (1 s probes, 500 ms timeouts): twelve nodes in one process
 * under a 10,000-message burst answer probes late, and a member declared dead while only busy
 * would have its messages taken over (duplicates this test is not about; the processes test is).
 */
const SWIM = { preset: 'local', gossipIntervalMs: 20 } as const;

describe('queue groups: 3 groups x 3 replicas, 2 ungrouped subscribers, 1 non-subscriber', () => {
  const nodes: PlumtreeNode[] = [];
  /** Node name -> ids it handled (grouped or not), in order. */
  const handled = new Map<string, string[]>();
  const redelivered = new Map<string, number>();
  const groupOf = new Map<string, string>();
  const replicas: PlumtreeNode[] = [];
  const ungrouped: PlumtreeNode[] = [];
  let outsider!: PlumtreeNode;

  const record = (node: PlumtreeNode, d: Delivery): void => {
    handled.get(node.name)!.push(d.id);
    if (d.redelivered) redelivered.set(node.name, (redelivered.get(node.name) ?? 0) + 1);
  };

  beforeAll(async () => {
    const names = [
      ...GROUPS.flatMap((g) => Array.from({ length: REPLICAS }, (_, r) => `${g}-${r}`)),
      'plain-0',
      'plain-1',
      'outsider',
    ];
    for (const [i, name] of names.entries()) {
      nodes.push(
        await PlumtreeNode.start({
          name,
          persistence: false,
          bindAddr: '127.0.0.1',
          bindPort: 0,
          swim: SWIM,
          seeds: i === 0 ? [] : [nodes[0]!.address],
          seed: 700 + i,
        }),
      );
      handled.set(name, []);
    }
    await waitFor('membership', () => nodes.every((n) => n.members().length === nodes.length), {
      timeoutMs: 30_000,
    });
    for (const n of nodes) {
      const group = GROUPS.find((g) => n.name.startsWith(`${g}-`));
      if (group !== undefined) {
        groupOf.set(n.name, group);
        replicas.push(n);
        n.subscribe(TOPIC, { group }).subscribe((d) => record(n, d));
      } else if (n.name.startsWith('plain-')) {
        ungrouped.push(n);
        n.subscribe(TOPIC).subscribe((d) => record(n, d));
      } else {
        outsider = n;
      }
    }
    // Every node sees every group whole before the first message: no view disagrees.
    await waitFor(
      'every subscriber sees every group whole',
      () =>
        [...replicas, ...ungrouped].every((n) =>
          GROUPS.every((g) => n.groupMembersOf(TOPIC, g).length === REPLICAS),
        ),
      { timeoutMs: 30_000 },
    );
    const subscribers = replicas.length + ungrouped.length;
    await Promise.all(
      [...replicas, ...ungrouped].map((n) => n.ready(TOPIC, { subscribers, timeoutMs: 30_000 })),
    );
  }, 90_000);

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.close()));
  });

  it('each group handles each message exactly once, spread over its replicas', async () => {
    const publisher = ungrouped[0]!;
    const published: string[] = [];
    const window = 200;
    for (let k = 0; k < TOTAL; k += window) {
      const batch: Promise<string>[] = [];
      for (let j = k; j < Math.min(TOTAL, k + window); j++) {
        batch.push(publisher.publish(TOPIC, { j }));
      }
      published.push(...(await Promise.all(batch)));
    }
    const byGroup = (g: string): string[] =>
      replicas.filter((n) => groupOf.get(n.name) === g).flatMap((n) => handled.get(n.name)!);
    await waitFor(
      'every group and every ungrouped subscriber handles every message',
      () =>
        GROUPS.every((g) => new Set(byGroup(g)).size === TOTAL) &&
        ungrouped.every((n) => handled.get(n.name)!.length >= TOTAL),
      {
        timeoutMs: 60_000,
        lastSeen: () =>
          [...replicas, ...ungrouped]
            .map((n) => `${n.name}=${handled.get(n.name)!.length}`)
            .join(' '),
      },
    );
    // Acknowledgements drain the shadows: nothing is left to take over.
    await waitFor(
      'shadows acknowledged',
      () => replicas.every((n) => Object.values(n.stats().groups).every((c) => c.held === 0)),
      {
        timeoutMs: 30_000,
        lastSeen: () =>
          replicas
            .map(
              (n) =>
                `${n.name}: ${JSON.stringify(n.stats().groups)} drops ${JSON.stringify(n.stats().node.frameDrops)}`,
            )
            .join('\n'),
      },
    );
    const all = new Set(published);
    for (const g of GROUPS) {
      const ids = byGroup(g);
      const shares = replicas
        .filter((n) => groupOf.get(n.name) === g)
        .map((n) => handled.get(n.name)!.length / TOTAL);
      const c = replicas.filter((n) => groupOf.get(n.name) === g).map((n) => n.stats().groups[g]!);
      console.log(
        `group ${g}: handled ${ids.length} (distinct ${new Set(ids).size}) of ${TOTAL}; ` +
          `shares ${shares.map((s) => `${(s * 100).toFixed(1)}%`).join(' ')}; ` +
          `shadowed ${c.map((x) => x.shadowed).join('/')} acknowledged ${c.map((x) => x.acknowledged).join('/')} ` +
          `takenOver ${c.map((x) => x.takenOver).join('/')} claimed ${c.map((x) => x.claimed).join('/')} ` +
          `dropped ${c.map((x) => x.dropped).join('/')} duplicates ${c.map((x) => x.duplicates).join('/')}`,
      );
      // Exactly once per group: as many handlings as messages, and those are the published ones.
      expect(ids.length).toBe(TOTAL);
      expect(new Set(ids)).toEqual(all);
      for (const s of shares) {
        expect(s).toBeGreaterThanOrEqual(0.25);
        expect(s).toBeLessThanOrEqual(0.42);
      }
    }
    for (const n of ungrouped) {
      expect(handled.get(n.name)!.length).toBe(TOTAL);
      expect(new Set(handled.get(n.name))).toEqual(all);
    }
    expect([...redelivered.values()].reduce((a, b) => a + b, 0)).toBe(0);
    const out = outsider.stats();
    console.log(
      `outsider: gossip frames received ${out.node.framesReceived.gossip}, deliveries ${out.node.deliveries}`,
    );
    expect(out.node.framesReceived.gossip).toBe(0);
    expect(out.node.gossipReceivedUnsubscribed).toBe(0);
    expect(out.node.deliveries).toBe(0);
    expect(out.topics[TOPIC]).toBeUndefined();
  }, 120_000);
});
