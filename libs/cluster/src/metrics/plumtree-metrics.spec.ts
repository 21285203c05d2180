/**
 * `createPlumtreeMetrics`: three nodes on a MemoryNetwork, a topic, 10 publishes; the exposition
 * is parsed with a Prometheus text-format parser and its values checked against the node's own
 * statistics; docs/metrics.md lists every family the registry exposes.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from '@jest/globals';
import { MemoryNetwork } from '@plumtree/swim';
import { FAST_SWIM } from '../../../../test/support/fast-swim.js';
import {
  parsePrometheusText,
  sampleValue,
  type PromFamily,
} from '../../../../test/support/prometheus-text.js';
import { waitFor } from '../../../../test/support/wait-for.js';
import { PlumtreeNode } from '../node/plumtree-node.js';
import { createPlumtreeMetrics, type PlumtreeMetrics } from './plumtree-metrics.js';
import { GraftTimer, GRAFT_TIMER_CAP } from './graft-timer.js';

const DOC = new URL('../../../../docs/metrics.md', import.meta.url);

describe('createPlumtreeMetrics', () => {
  const nodes: PlumtreeNode[] = [];
  const metrics: PlumtreeMetrics[] = [];
  afterEach(async () => {
    for (const m of metrics.splice(0)) m.close();
    await Promise.all(nodes.splice(0).map((n) => n.close()));
  });

  async function cluster(n: number): Promise<PlumtreeNode[]> {
    const net = new MemoryNetwork();
    for (let i = 0; i < n; i++) {
      nodes.push(
        await PlumtreeNode.start({
          name: `m${i}`,
          persistence: false,
          transport: net.bind(`10.0.1.${i + 1}:7946`, { streamTimeoutMs: 600_000 }),
          swim: FAST_SWIM,
          seeds: i === 0 ? [] : [nodes[0]!.address],
          seed: 40 + i,
          topics: ['metrics.topic'],
        }),
      );
    }
    return nodes.slice();
  }

  it('exposes plumtree_* and swim_* families that parse and match stats()', async () => {
    const [a, b] = await cluster(3);
    const mb = createPlumtreeMetrics(b!, { labels: { node: 'm1' } });
    metrics.push(mb);
    await a!.ready('metrics.topic', { subscribers: 3 });
    for (let k = 0; k < 10; k++) await a!.publish('metrics.topic', k);
    await waitFor('m1 to deliver 10', () => b!.stats().core.delivered >= 10);
    const text = await mb.metrics();
    expect(mb.contentType).toMatch(/^text\/plain/);
    const families = parsePrometheusText(text);
    const f = (name: string): PromFamily | undefined => families.get(name);
    expect(f('plumtree_messages_delivered_total')?.type).toBe('COUNTER');
    expect(sampleValue(f('plumtree_messages_delivered_total'), { node: 'm1' })).toBe(
      b!.stats().core.delivered,
    );
    expect(
      sampleValue(f('plumtree_topic_messages_delivered_total'), { topic: 'metrics.topic' }),
    ).toBe(10);
    expect(
      sampleValue(f('plumtree_topic_messages_dropped_total'), {
        topic: 'metrics.topic',
        reason: 'given-up',
      }),
    ).toBe(0);
    const eager = sampleValue(f('plumtree_eager_peers'), { topic: 'metrics.topic' });
    const lazy = sampleValue(f('plumtree_lazy_peers'), { topic: 'metrics.topic' });
    expect(eager + lazy).toBeGreaterThanOrEqual(1);
    expect(f('plumtree_eager_peers')?.type).toBe('GAUGE');
    expect(sampleValue(f('swim_members'), { state: 'alive' })).toBe(3);
    expect(sampleValue(f('swim_members'), { state: 'dead' })).toBe(0);
    // m1 joined through m0: one push-pull sent at least, and a formation time.
    expect(sampleValue(f('swim_push_pulls_total'), { direction: 'sent' })).toBeGreaterThanOrEqual(
      1,
    );
    expect(sampleValue(f('swim_formation_seconds'))).toBeGreaterThan(0);
    expect(sampleValue(f('plumtree_queue_bytes'))).toBeGreaterThanOrEqual(0);
    expect(f('plumtree_graft_latency_seconds')?.type).toBe('HISTOGRAM');
    // docs/metrics.md has a row for every family exposed.
    const doc = readFileSync(DOC, 'utf8');
    const undocumented = [...families.keys()].filter((n) => !doc.includes(`\`${n}\``));
    expect(undocumented).toEqual([]);
  });

  it('close() removes the families and stops counting events', async () => {
    const [a] = await cluster(1);
    const m = createPlumtreeMetrics(a!);
    m.close();
    expect((await m.registry.metrics()).trim()).toBe('');
  });
});

describe('GraftTimer', () => {
  it('times a grafted message to its delivery, once, and forgets a given-up one', () => {
    const t = new GraftTimer();
    t.grafted('t', 'x', 100);
    t.grafted('t', 'x', 150); // a retry keeps the first time
    expect(t.delivered('t', 'x', 180)).toBe(80);
    expect(t.delivered('t', 'x', 190)).toBeUndefined();
    t.grafted('t', 'y', 0);
    t.failed('t', 'y');
    expect(t.delivered('t', 'y', 10)).toBeUndefined();
    expect(t.delivered('t', 'never', 10)).toBeUndefined();
  });

  it('tells by sequence number, without building a key, which deliveries may have a GRAFT open', () => {
    const t = new GraftTimer();
    expect(t.mayBeOpen(7)).toBe(false);
    t.grafted('t', 'node/a/1764000000000/7', 100);
    t.grafted('u', 'node/b/1764000000001/7', 100);
    expect(t.mayBeOpen(7)).toBe(true);
    expect(t.mayBeOpen(8)).toBe(false);
    expect(t.delivered('t', 'node/a/1764000000000/7', 130)).toBe(30);
    expect(t.mayBeOpen(7)).toBe(true);
    t.failed('u', 'node/b/1764000000001/7');
    expect(t.mayBeOpen(7)).toBe(false);
    // An id without a sequence number keeps every delivery asking while it is open.
    t.grafted('t', 'x', 0);
    expect(t.mayBeOpen(8)).toBe(true);
    expect(t.delivered('t', 'x', 5)).toBe(5);
    expect(t.mayBeOpen(8)).toBe(false);
  });

  it('is bounded: past the cap the oldest request is forgotten', () => {
    const t = new GraftTimer();
    for (let i = 0; i <= GRAFT_TIMER_CAP; i++) t.grafted('t', `id${i}`, i);
    expect(t.size).toBe(GRAFT_TIMER_CAP);
    expect(t.delivered('t', 'id0', 10_000)).toBeUndefined();
    expect(t.delivered('t', `id${GRAFT_TIMER_CAP}`, 10_000)).toBe(10_000 - GRAFT_TIMER_CAP);
    for (let i = 0; i <= GRAFT_TIMER_CAP; i++) t.grafted('u', `o/1/${i}`, i);
    // The evicted oldest request's seq is no longer open; the newest one's is.
    expect(t.mayBeOpen(0)).toBe(false);
    expect(t.mayBeOpen(GRAFT_TIMER_CAP)).toBe(true);
  });
});
