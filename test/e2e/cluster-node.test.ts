/**
 * PlumtreeNode end to end: ten nodes in one process on real UDP/TCP sockets (loopback), and the
 * lossy scenario on a MemoryNetwork (packets lost by the network, frames by a `frameFilter`,
 * since the memory streams are reliable like TCP).
 *
 * Everything waits on conditions with a bound (`waitFor`); nothing sleeps a fixed time.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { Subscription } from 'rxjs';
import { createRng } from '@plumtree/plumtree';
import { MemoryNetwork } from '@plumtree/swim';
import { PlumtreeNode, type Delivery, type PlumtreeNodeOptions } from '@plumtree/cluster';
import { waitFor } from '../support/wait-for.js';

const FAST_SWIM = {
  preset: 'local',
  probeIntervalMs: 200,
  probeTimeoutMs: 100,
  gossipIntervalMs: 20,
  pushPullIntervalMs: 2_000,
  suspicionMult: 3,
} as const;

/** What each recorder misses of `ids` on `topic`, with the counters that explain it. */
function missingReport(
  nodes: readonly PlumtreeNode[],
  recorders: readonly Recorder[],
  topic: string,
  ids: readonly string[],
): string {
  const lines: string[] = [];
  recorders.forEach((r, i) => {
    const node = nodes[i]!;
    if (node.isClosed || !r.subs.size) return;
    const got = new Set(r.ids(topic));
    const miss = ids.filter((id) => !got.has(id));
    const s = node.stats();
    const t = s.topics[topic];
    lines.push(
      `${node.name}: ${got.size}/${ids.length} missing [${miss.slice(0, 4).join(' ')}] ` +
        `eager=${t?.eagerPeers.join(',')} lazy=${t?.lazyPeers.join(',')} peers=${t?.peers} ` +
        `graftsFailed=${s.core.graftsFailed} rateLimited=${s.core.graftsRateLimited} ` +
        `missing=${s.core.missing} members=${s.swim.members} sendFailures=${JSON.stringify(s.node.sendFailures)}`,
    );
  });
  return lines.join('\n');
}

/** Every delivery of one node, by topic: the ids in arrival order (duplicates would show). */
class Recorder {
  readonly byTopic = new Map<string, string[]>();
  readonly subs = new Map<string, Subscription>();
  constructor(readonly node: PlumtreeNode) {}
  listen(topicOrPattern: string): void {
    this.subs.set(
      topicOrPattern,
      this.node.subscribe(topicOrPattern).subscribe((d: Delivery) => {
        let list = this.byTopic.get(d.topic);
        if (list === undefined) this.byTopic.set(d.topic, (list = []));
        list.push(d.id);
      }),
    );
  }
  stop(topicOrPattern: string): void {
    this.subs.get(topicOrPattern)?.unsubscribe();
    this.subs.delete(topicOrPattern);
  }
  ids(topic: string): string[] {
    return this.byTopic.get(topic) ?? [];
  }
  has(topic: string, ids: readonly string[]): boolean {
    const got = new Set(this.ids(topic));
    return ids.every((id) => got.has(id));
  }
}

/** Wait until `topic` is ready at every node: its subscribers in the directory, their links up. */
async function formTree(
  nodes: readonly PlumtreeNode[],
  topic: string,
  subscribers: number,
): Promise<void> {
  await Promise.all(nodes.map((n) => n.ready(topic, { subscribers, timeoutMs: 20_000 })));
}

async function startCluster(
  n: number,
  extra: (i: number) => Partial<PlumtreeNodeOptions> = () => ({}),
): Promise<PlumtreeNode[]> {
  const nodes: PlumtreeNode[] = [];
  for (let i = 0; i < n; i++) {
    nodes.push(
      await PlumtreeNode.start({
        name: `node-${i}`,
        persistence: false,
        bindAddr: '127.0.0.1',
        bindPort: 0,
        swim: FAST_SWIM,
        seeds: i === 0 ? [] : [nodes[0]!.address],
        seed: 100 + i,
        ...extra(i),
      }),
    );
  }
  await waitFor('membership', () => nodes.every((x) => x.members().length === n), {
    timeoutMs: 20_000,
  });
  return nodes;
}

/** Every node of `watchers` knows exactly `subscribers` (names) for `topic`. */
async function directoryAgrees(
  watchers: readonly PlumtreeNode[],
  topic: string,
  subscribers: readonly string[],
): Promise<void> {
  await waitFor(
    `directory of ${topic}`,
    () =>
      watchers.every(
        (w) =>
          JSON.stringify(w.subscribersOf(topic)) ===
          JSON.stringify(subscribers.filter((s) => s !== w.name).sort()),
      ),
    { timeoutMs: 20_000 },
  );
}

describe('PlumtreeNode: ten nodes on real sockets', () => {
  const A = 'e2e.alpha';
  const B = 'e2e.beta';
  const G = 'e2e.gamma';
  // alpha and beta overlap in nodes 2 and 3; gamma is disjoint; node 8 takes every topic through
  // a pattern; node 9 subscribes to nothing and only publishes (always through a hand-off).
  const SUBSCRIBERS: Record<string, number[]> = {
    [A]: [0, 1, 2, 3, 8],
    [B]: [2, 3, 4, 5, 8],
    [G]: [6, 7, 8],
  };
  let nodes: PlumtreeNode[] = [];
  let recorders: Recorder[] = [];
  const published: Record<string, string[]> = { [A]: [], [B]: [], [G]: [] };

  beforeAll(async () => {
    nodes = await startCluster(10);
    recorders = nodes.map((n) => new Recorder(n));
    for (const [topic, subs] of Object.entries(SUBSCRIBERS)) {
      for (const i of subs) if (i !== 8) recorders[i]!.listen(topic);
    }
    recorders[8]!.listen('e2e.#');
    for (const t of [A, B, G]) {
      await directoryAgrees(
        nodes,
        t,
        SUBSCRIBERS[t]!.map((i) => `node-${i}`),
      );
      await formTree(nodes, t, SUBSCRIBERS[t]!.length);
    }
  }, 60_000);

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.close()));
  });

  it('1,000 messages on three topics: each subscriber delivers each exactly once, non-subscribers see no payload', async () => {
    const topics = [A, B, G];
    const total = 1_000;
    const ackedBefore = nodes[9]!.stats().node.handoffs.acked;
    const window = 50;
    for (let k = 0; k < total; k += window) {
      const batch: Promise<void>[] = [];
      for (let j = k; j < Math.min(total, k + window); j++) {
        const topic = topics[j % 3]!;
        const publisher = nodes[(j * 7) % 10]!;
        batch.push(
          publisher
            .publish(topic, { j, from: publisher.name })
            .then((id) => void published[topic]!.push(id)),
        );
      }
      await Promise.all(batch);
    }
    for (const t of topics) {
      await waitFor(
        `every ${t} subscriber delivers every ${t} message`,
        () => SUBSCRIBERS[t]!.every((i) => recorders[i]!.has(t, published[t]!)),
        { timeoutMs: 60_000, lastSeen: () => missingReport(nodes, recorders, t, published[t]!) },
      );
    }
    for (const t of topics) {
      expect(new Set(published[t]).size).toBe(published[t]!.length);
      for (const i of SUBSCRIBERS[t]!) {
        const got = recorders[i]!.ids(t);
        // Exactly once: as many deliveries as distinct ids, and those are the published ones.
        expect(got.length).toBe(published[t]!.length);
        expect(new Set(got)).toEqual(new Set(published[t]));
      }
    }
    for (let i = 0; i < 10; i++) {
      const s = nodes[i]!.stats();
      expect(s.node.gossipReceivedUnsubscribed).toBe(0);
      for (const t of topics) {
        const subscribes = SUBSCRIBERS[t]!.includes(i);
        if (!subscribes) expect(s.topics[t]).toBeUndefined();
        else expect(s.topics[t]!.delivered).toBe(published[t]!.length);
      }
    }
    // Node 9 subscribes to nothing: all it published went through hand-offs.
    expect(nodes[9]!.stats().node.handoffs.acked - ackedBefore).toBe(total / 10);
    expect(nodes[9]!.stats().node.framesReceived.gossip).toBe(0);
    const fwd = nodes.reduce((n, x) => n + x.stats().node.encoder.forwardedZeroCopy, 0);
    expect(fwd).toBeGreaterThan(0);
  }, 120_000);

  it('a node that joins late receives the directory and starts receiving', async () => {
    const late = await PlumtreeNode.start({
      name: 'node-late',
      persistence: false,
      bindAddr: '127.0.0.1',
      bindPort: 0,
      swim: FAST_SWIM,
      seeds: [nodes[4]!.address],
      seed: 999,
    });
    nodes.push(late);
    // The join's push-pull carries the whole directory.
    expect(late.subscribersOf(A)).toEqual(SUBSCRIBERS[A]!.map((i) => `node-${i}`).sort());
    const rec = new Recorder(late);
    rec.listen(A);
    await directoryAgrees(nodes, A, [...SUBSCRIBERS[A]!.map((i) => `node-${i}`), late.name]);
    await formTree(nodes, A, SUBSCRIBERS[A]!.length + 1);
    const ids: string[] = [];
    for (let j = 0; j < 20; j++) ids.push(await nodes[j % 10]!.publish(A, { late: j }));
    await waitFor('late node receives', () => rec.has(A, ids), { timeoutMs: 20_000 });
    // Each once. A message of the earlier tests still being repaired through GRAFT when the
    // late node joined may reach it too (seen once in CI): the contract does not replay older
    // messages, but it does not hold back one that is still travelling either.
    const got = rec.ids(A);
    expect(new Set(got).size).toBe(got.length);
    expect(got.filter((id) => ids.includes(id))).toHaveLength(ids.length);
  }, 60_000);

  it('unsubscribing stops payloads', async () => {
    const quitter = recorders[1]!;
    quitter.stop(A);
    expect(nodes[1]!.topics()).not.toContain(A);
    const remaining = [0, 2, 3].map((i) => `node-${i}`).concat(['node-8', 'node-late']);
    await directoryAgrees(nodes, A, remaining);
    const before = quitter.ids(A).length;
    // A GOSSIP already in flight when it unsubscribed may still arrive (and be dropped); after
    // the directory agrees, nothing more is pushed to it.
    const gossipBefore = nodes[1]!.stats().node.framesReceived.gossip;
    const strayBefore = nodes[1]!.stats().node.gossipReceivedUnsubscribed;
    const ids: string[] = [];
    for (let j = 0; j < 30; j++) ids.push(await nodes[(j * 3) % 10]!.publish(A, { after: j }));
    await waitFor('others receive', () => [0, 2, 3, 8].every((i) => recorders[i]!.has(A, ids)), {
      timeoutMs: 20_000,
    });
    expect(quitter.ids(A).length).toBe(before);
    expect(nodes[1]!.stats().node.framesReceived.gossip).toBe(gossipBefore);
    expect(nodes[1]!.stats().node.gossipReceivedUnsubscribed).toBe(strayBefore);
  }, 60_000);
});

describe('PlumtreeNode: failures', () => {
  const running: PlumtreeNode[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((n) => n.close()));
  });

  it('3 of 10 closed without leaving while messages flow: survivors deliver every survivor message', async () => {
    const T = 'e2e.kill';
    const nodes = await startCluster(10);
    running.push(...nodes);
    const recorders = nodes.map((n) => new Recorder(n));
    for (const r of recorders) r.listen(T);
    await directoryAgrees(
      nodes,
      T,
      nodes.map((n) => n.name),
    );
    await formTree(nodes, T, nodes.length);
    const victims = new Set([2, 5, 8]);
    const survivors = nodes.filter((_, i) => !victims.has(i));
    const ids: string[] = [];
    let j = 0;
    const publish = async (): Promise<void> => {
      const publisher = survivors[j % survivors.length]!;
      ids.push(await publisher.publish(T, { j: j++ }));
    };
    for (let k = 0; k < 100; k++) await publish();
    // SIGKILL-like: no leave, no PRUNE; peers find out from broken connections and SWIM.
    await Promise.all([...victims].map((i) => nodes[i]!.close()));
    // Keep publishing through the whole failure-detection window, paced at about 200 msg/s
    // (pacing the load, not waiting for anything), until every survivor has declared the three
    // dead; then 50 more on the repaired trees.
    await waitFor(
      'every survivor to declare the three dead',
      async () => {
        if (survivors.every((n) => n.members().length === 7)) return true;
        await publish();
        return false;
      },
      {
        timeoutMs: 30_000,
        intervalMs: 5,
        lastSeen: () => survivors.map((n) => `${n.name}: ${n.members().length}`).join(', '),
      },
    );
    const duringDetection = ids.length - 100;
    for (let k = 0; k < 50; k++) await publish();
    expect(duringDetection).toBeGreaterThan(0);
    await waitFor(
      'survivors deliver every message',
      () => survivors.every((n) => recorders[nodes.indexOf(n)]!.has(T, ids)),
      { timeoutMs: 60_000, lastSeen: () => missingReport(nodes, recorders, T, ids) },
    );
    for (const n of survivors) {
      const got = recorders[nodes.indexOf(n)]!.ids(T);
      expect(got.length).toBe(ids.length);
    }
  }, 120_000);

  it('20% packet and frame loss on a MemoryNetwork: every message is delivered', async () => {
    const net = new MemoryNetwork({ rng: createRng(7), lossRate: 0.2 });
    const frameRng = createRng(11);
    // Frames are lost from the first publish on: `ready` waits for each link's answer, which an
    // independent frame loss (unlike TCP) could drop for good.
    let frameLoss = 0;
    const T = 'e2e.lossy';
    const nodes: PlumtreeNode[] = [];
    for (let i = 0; i < 10; i++) {
      const node = await PlumtreeNode.start({
        name: `lossy-${i}`,
        persistence: false,
        transport: net.bind(`10.1.0.${i + 1}:7946`, { streamTimeoutMs: 600_000 }),
        swim: { ...FAST_SWIM, indirectChecks: 3, retransmitMult: 4 },
        // The tree runs with the node's defaults (no `plumtree` option): this test is what
        // docs/cluster.md cites for "the tree repairs itself through IHAVE and GRAFT".
        seeds: i === 0 ? [] : [nodes[0]!.address],
        seed: 200 + i,
        handoffTimeoutMs: 300,
        handoffMaxAttempts: 20,
        frameFilter: () => frameRng.next() >= frameLoss,
      });
      nodes.push(node);
      running.push(node);
    }
    await waitFor('membership under loss', () => nodes.every((x) => x.members().length === 10), {
      timeoutMs: 30_000,
    });
    // Nodes 0-7 subscribe; 8 and 9 publish through hand-offs.
    const recorders = nodes.map((n) => new Recorder(n));
    for (let i = 0; i < 8; i++) recorders[i]!.listen(T);
    await directoryAgrees(
      nodes,
      T,
      nodes.slice(0, 8).map((n) => n.name),
    );
    await formTree(nodes, T, 8);
    frameLoss = 0.2;
    const ids: string[] = [];
    for (let k = 0; k < 200; k += 20) {
      const batch: Promise<string>[] = [];
      for (let j = k; j < k + 20; j++) batch.push(nodes[j % 10]!.publish(T, { j }));
      ids.push(...(await Promise.all(batch)));
    }
    await waitFor(
      'every subscriber delivers every message despite loss',
      () => recorders.slice(0, 8).every((r) => r.has(T, ids)),
      { timeoutMs: 60_000, lastSeen: () => missingReport(nodes, recorders, T, ids) },
    );
    for (let i = 0; i < 8; i++) expect(recorders[i]!.ids(T).length).toBe(ids.length);
    expect(net.drops.loss).toBeGreaterThan(0);
    expect(nodes.reduce((n, x) => n + x.stats().node.framesDroppedByFilter, 0)).toBeGreaterThan(0);
  }, 120_000);
});
