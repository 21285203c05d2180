/**
 * Issue 15, Prometheus metrics over HTTP: `GET /metrics` of the CLI agent and of the pubsub
 * example (dist/, built by the e2e globalSetup), parsed with a Prometheus text-format parser:
 * the plumtree_* and swim_* families are there, with values that follow what the processes did.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { AgentProcess, freePort } from '../../apps/bench/src/swim/agent-process.js';
import { repoRoot } from '../support/build-dist.js';
import { parsePrometheusText, sampleValue, type PromFamily } from '../support/prometheus-text.js';
import { waitForValue } from '../support/wait-for.js';

/** Families every node exposes, whatever it did. */
const FAMILIES = [
  'plumtree_messages_broadcast_total',
  'plumtree_messages_delivered_total',
  'plumtree_messages_duplicate_total',
  'plumtree_graft_sent_total',
  'plumtree_prune_sent_total',
  'plumtree_ihave_sent_total',
  'plumtree_ihave_received_total',
  'plumtree_graft_latency_seconds',
  'plumtree_cache_size',
  'plumtree_queue_bytes',
  'swim_members',
  'swim_probes_total',
  'swim_suspicions_total',
  'swim_push_pulls_total',
  'swim_formation_seconds',
];

async function scrape(url: string): Promise<Map<string, PromFamily> | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    if (!res.ok) return undefined;
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parsePrometheusText(await res.text());
  } catch {
    return undefined;
  }
}

describe('GET /metrics', () => {
  const agents: AgentProcess[] = [];
  const children: ChildProcess[] = [];
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop('SIGKILL')));
    for (const c of children) c.kill('SIGKILL');
  });

  it('the agent: families parse, a publish shows in the counters of both nodes', async () => {
    const a = await AgentProcess.startReady(repoRoot, {
      kind: 'ours',
      name: 'ma',
      extraArgs: ['--topics', 'm.t'],
    });
    agents.push(a);
    const b = await AgentProcess.startReady(repoRoot, {
      kind: 'ours',
      name: 'mb',
      join: [a.addr],
      extraArgs: ['--topics', 'm.t'],
    });
    agents.push(b);
    const url = (p: AgentProcess): string =>
      `http://127.0.0.1:${p.options.httpPort.toString()}/metrics`;
    // Both list the topic's two subscribers and b's link to a is up: then publish.
    await waitForValue('b to see both subscribers', async () => {
      const f = await scrape(url(b));
      return sampleValue(f?.get('plumtree_eager_peers'), { topic: 'm.t' }) >= 1 ? f : undefined;
    });
    b.send('publish m.t hello');
    await a.waitForEvent((e) => e.event === 'message' && e.data === 'hello', 10_000, 'delivery');
    const fa = await waitForValue('a to count the delivery', async () => {
      const f = await scrape(url(a));
      return sampleValue(f?.get('plumtree_topic_messages_delivered_total'), { topic: 'm.t' }) === 1
        ? f
        : undefined;
    });
    for (const name of FAMILIES)
      expect({ name, present: fa.has(name) }).toEqual({ name, present: true });
    expect(sampleValue(fa.get('swim_members'), { state: 'alive' })).toBe(2);
    const fb = (await scrape(url(b)))!;
    expect(sampleValue(fb.get('plumtree_messages_broadcast_total'))).toBe(1);
    expect(sampleValue(fb.get('swim_formation_seconds'))).toBeGreaterThan(0);
  }, 60_000);

  it('the pubsub example: families parse on PUBSUB_HTTP_PORT', async () => {
    const [port, httpPort] = [await freePort(), await freePort()];
    const child = spawn(process.execPath, [join(repoRoot, 'dist/apps/pubsub/src/main.js')], {
      cwd: repoRoot,
      env: {
        ...process.env,
        PUBSUB_NAME: 'metrics-pubsub',
        PUBSUB_PORT: String(port),
        PUBSUB_HTTP_PORT: String(httpPort),
        PUBSUB_PUBLISH_MS: '100',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.push(child);
    // The example publishes orders to itself: its delivery counter moves.
    const f = await waitForValue(
      'pubsub /metrics with a delivery counted',
      async () => {
        const fam = await scrape(`http://127.0.0.1:${httpPort.toString()}/metrics`);
        return sampleValue(fam?.get('plumtree_messages_broadcast_total')) > 0 ? fam : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    for (const name of FAMILIES)
      expect({ name, present: f.has(name) }).toEqual({ name, present: true });
    expect(sampleValue(f.get('swim_members'), { state: 'alive' })).toBe(1);
  }, 60_000);
});
