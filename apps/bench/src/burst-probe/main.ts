/**
 * The in-process burst probe of docs/performance.md: 9 `PlumtreeNode`s on a `MemoryNetwork` in
 * this one process, one of them (in the tree) publishing a burst of `--messages` x `--payload`
 * bytes without waiting (a `setImmediate` every 200 publishes, as bench:compare's publisher), and
 * what the tree did meanwhile, summed over every node's `stats()`: deliveries, duplicates, RMR,
 * GOSSIP / IHAVE / GRAFT / PRUNE frames sent, optimisation swaps. Each of `--runs` runs is a
 * fresh cluster (seeds differ per run). Nine nodes share one CPU here: the figures show where the
 * tree's work goes (duplicates, repairs, swaps), not how fast a real cluster is.
 *
 *   npm run build && node dist/apps/bench/src/burst-probe/main.js [--runs 3] [--json FILE]
 */
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setImmediate as tick } from 'node:timers/promises';
import { PlumtreeNode } from '@plumtree/cluster';
import { MemoryNetwork } from '@plumtree/swim';
import { BenchArgs } from '../bench-args.js';
import { exitWhenDone, runBench } from '../bench-main.js';
import { waitUntil } from '../wait-until.js';
import { relativeMessageRedundancy } from '../cluster/rmr.js';

const TOPIC = 'probe';
const USAGE = `usage: node dist/apps/bench/src/burst-probe/main.js [options]
  --nodes N      nodes, the publisher included (default 9)
  --messages M   messages in the burst (default 5000)
  --payload B    bytes of each message's pad (default 1024)
  --runs R       fresh clusters, one burst each (default 3)
  --settle S     1: probe messages through the tree until every subscriber got one before the
                 burst (as bench:compare); 0: burst into the fresh tree (default 1)
  --json FILE    also write every run's figures as JSON
`;

interface ProbeOptions {
  readonly nodes: number;
  readonly messages: number;
  readonly payload: number;
  readonly runs: number;
  readonly settle: number;
  readonly json: string | undefined;
  readonly help: boolean;
}

/** What one burst cost the tree, summed over the nodes. */
interface ProbeRun {
  readonly run: number;
  readonly ms: number;
  readonly deliveries: number;
  readonly duplicates: number;
  readonly rmr: number;
  readonly gossipFrames: number;
  readonly ihaveFrames: number;
  readonly graftFrames: number;
  readonly pruneFrames: number;
  readonly optimizations: number;
  readonly grafted: number;
  readonly overflows: number;
  /** GOSSIP_RUN frames encoded afresh, and GOSSIP/GOSSIP_RUN frames forwarded as received. */
  readonly runsEncoded: number;
  readonly forwardedZeroCopy: number;
  /** Eager links (each side counted) when the burst started and when it ended. */
  readonly eagerBefore: number;
  readonly eagerAfter: number;
}

function parse(argv: readonly string[]): ProbeOptions {
  const a = new BenchArgs(argv, ['nodes', 'messages', 'payload', 'runs', 'settle']);
  return a.options({
    nodes: a.int('nodes', 9, 2, 64),
    messages: a.int('messages', 5_000, 1, 1_000_000),
    payload: a.int('payload', 1_024, 0, 1_000_000),
    runs: a.int('runs', 3, 1, 100),
    settle: a.int('settle', 1, 0, 1),
  });
}

type Counts = Omit<ProbeRun, 'run' | 'ms' | 'deliveries' | 'rmr' | 'eagerBefore' | 'eagerAfter'>;

function eagerLinks(nodes: readonly PlumtreeNode[]): number {
  return nodes.reduce((n, node) => n + (node.stats().topics[TOPIC]?.eager ?? 0), 0);
}

function counts(nodes: readonly PlumtreeNode[]): Counts {
  const c = {
    duplicates: 0,
    gossipFrames: 0,
    ihaveFrames: 0,
    graftFrames: 0,
    pruneFrames: 0,
    optimizations: 0,
    grafted: 0,
    overflows: 0,
    runsEncoded: 0,
    forwardedZeroCopy: 0,
  };
  for (const n of nodes) {
    const s = n.stats();
    c.duplicates += s.topics[TOPIC]?.duplicates ?? 0;
    c.gossipFrames += s.node.framesSent.gossip;
    c.ihaveFrames += s.node.framesSent.ihave;
    c.graftFrames += s.node.framesSent.graft;
    c.pruneFrames += s.node.framesSent.prune;
    c.optimizations += s.core.optimizations;
    c.grafted += s.core.graftsServed;
    c.overflows += s.transport.overflows;
    c.runsEncoded += s.node.encoder.runsEncoded;
    c.forwardedZeroCopy += s.node.encoder.forwardedZeroCopy;
  }
  return c;
}

async function oneRun(o: ProbeOptions, run: number): Promise<ProbeRun> {
  const net = new MemoryNetwork();
  const nodes: PlumtreeNode[] = [];
  const delivered = new Uint8Array(o.nodes * o.messages);
  let deliveries = 0;
  let repeated = 0;
  let probed = 0;
  try {
    for (let i = 0; i < o.nodes; i++) {
      const node = await PlumtreeNode.start({
        name: `p${i.toString()}`,
        persistence: false,
        transport: net.bind(`10.0.9.${(i + 1).toString()}:7946`, { streamTimeoutMs: 600_000 }),
        swim: { preset: 'local' },
        seeds: i > 0 ? [nodes[0]!.address] : [],
        seed: run * 100 + i + 1,
        topics: [TOPIC],
      });
      nodes.push(node);
      if (i === 0) continue;
      const base = i * o.messages;
      node.subscribe<{ i: number }>(TOPIC).subscribe((d) => {
        const k = d.payload.i;
        if (k < 0) {
          probed++;
          return;
        }
        if (delivered[base + k]! > 0) repeated++;
        else deliveries++;
        delivered[base + k] = 1;
      });
    }
    const pub = nodes[0]!;
    await waitUntil('the directory', () => pub.subscribersOf(TOPIC).length === o.nodes - 1, {
      timeoutMs: 60_000,
    });
    // Probe messages through the tree first, every 200 ms until each subscriber got one (as
    // bench:compare's set-up): links are up, and the first redundant ones pruned, before the burst.
    while (o.settle === 1 && probed < o.nodes - 1) {
      await pub.publish(TOPIC, { i: -1 });
      await waitUntil('the probe', () => probed >= o.nodes - 1, { timeoutMs: 200 }).catch(() => {});
    }
    const eagerBefore = eagerLinks(nodes);
    const before = counts(nodes);
    const pad = 'x'.repeat(o.payload);
    const t0 = performance.now();
    const published: Promise<string>[] = [];
    for (let i = 0; i < o.messages; i++) {
      published.push(pub.publish(TOPIC, { i, pad }));
      if (i % 200 === 199) await tick();
    }
    await Promise.all(published);
    const want = (o.nodes - 1) * o.messages;
    await waitUntil('every delivery', () => deliveries >= want, {
      timeoutMs: 300_000,
      lastSeen: () => `${deliveries.toString()} of ${want.toString()}`,
    });
    const ms = performance.now() - t0;
    if (repeated > 0)
      throw new Error(`run ${run.toString()}: ${repeated.toString()} repeated deliveries`);
    const after = counts(nodes);
    const d = Object.fromEntries(
      Object.entries(after).map(([k, v]) => [k, v - before[k as keyof Counts]]),
    ) as unknown as Counts;
    return {
      run,
      ms: Math.round(ms),
      deliveries,
      eagerBefore,
      eagerAfter: eagerLinks(nodes),
      rmr: Number(relativeMessageRedundancy(d.duplicates, deliveries).toFixed(3)),
      ...d,
    };
  } finally {
    await Promise.all(nodes.map((n) => n.close()));
  }
}

async function main(o: ProbeOptions): Promise<number> {
  const runs: ProbeRun[] = [];
  for (let r = 1; r <= o.runs; r++) {
    const res = await oneRun(o, r);
    runs.push(res);
    process.stdout.write(`${JSON.stringify(res)}\n`);
  }
  const col = (k: keyof ProbeRun): string => {
    const v = runs.map((r) => r[k]).sort((a, b) => a - b);
    return `${k} min ${v[0]!.toString()} median ${v[Math.floor(v.length / 2)]!.toString()} max ${v[v.length - 1]!.toString()}`;
  };
  process.stdout.write(
    `burst-probe: ${o.nodes.toString()} nodes, ${o.messages.toString()} x ${o.payload.toString()} B, ${o.runs.toString()} runs, ${o.settle === 1 ? 'settled tree' : 'fresh tree'}\n`,
  );
  for (const k of [
    'duplicates',
    'rmr',
    'pruneFrames',
    'graftFrames',
    'runsEncoded',
    'forwardedZeroCopy',
    'optimizations',
    'ms',
  ] as const) {
    process.stdout.write(`  ${col(k)}\n`);
  }
  if (o.json !== undefined) writeFileSync(o.json, JSON.stringify({ options: o, runs }, null, 2));
  return 0;
}

exitWhenDone('burst-probe', runBench('burst-probe', USAGE, parse, main));
