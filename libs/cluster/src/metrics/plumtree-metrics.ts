/**
 * Prometheus metrics of one node, with prom-client: `createPlumtreeMetrics(node)` registers every
 * family of docs/metrics.md in a registry (its own unless one is given) and `metrics()` renders
 * the text format for a `/metrics` route. Most families are read from `node.stats()` when
 * scraped (metric-families.ts: nothing is counted twice, nothing costs between scrapes); graft
 * latency, graft successes and messages given up per topic are counted from `node.events$`.
 *
 * One registry per node: two nodes in one process (tests) take a registry each, or a `node`
 * label through `labels` and `Registry.merge`.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Subscription } from 'rxjs';
import type { PlumtreeNode } from '../node/plumtree-node.js';
import { POLLED_FAMILIES, type MetricSource, type Sample } from './metric-families.js';

/** Options of {@link createPlumtreeMetrics}. */
export interface PlumtreeMetricsOptions {
  /** Register here (for example prom-client's global `register`). Default: a new registry. */
  readonly registry?: Registry;
  /** Labels added to every sample (`{ node: 'a' }`). */
  readonly labels?: Readonly<Record<string, string>>;
  /** Also register prom-client's Node.js process metrics (`process_*`, `nodejs_*`). Default false. */
  readonly defaultMetrics?: boolean;
  /** Buckets of `plumtree_graft_latency_seconds`, seconds. */
  readonly graftLatencyBuckets?: readonly number[];
}

/** Default buckets of the graft latency histogram: 5 ms to 10 s. */
export const GRAFT_LATENCY_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** A node's metrics: the registry, its text, and the end of its event subscription. */
export interface PlumtreeMetrics {
  readonly registry: Registry;
  /** The Prometheus text exposition of the registry. */
  metrics(): Promise<string>;
  /** `Content-Type` of {@link metrics}. */
  readonly contentType: string;
  /** Stop counting events and remove this node's families from the registry. */
  close(): void;
}

/** See the file comment. */
export function createPlumtreeMetrics(
  node: PlumtreeNode,
  options: PlumtreeMetricsOptions = {},
): PlumtreeMetrics {
  const registry = options.registry ?? new Registry();
  if (options.labels !== undefined) registry.setDefaultLabels({ ...options.labels });
  if (options.defaultMetrics === true) collectDefaultMetrics({ register: registry });
  const source = snapshotSource(node);
  const names: string[] = [];
  for (const f of POLLED_FAMILIES) {
    names.push(f.name);
    const config = {
      name: f.name,
      help: f.help,
      labelNames: [...(f.labelNames ?? [])],
      registers: [registry],
    };
    if (f.type === 'counter') {
      new Counter({
        ...config,
        collect() {
          this.reset();
          for (const s of samples(f.read(source()))) this.inc(s.labels ?? {}, s.value);
        },
      });
    } else {
      new Gauge({
        ...config,
        collect() {
          this.reset();
          for (const s of samples(f.read(source()))) this.set(s.labels ?? {}, s.value);
        },
      });
    }
  }
  const givenUp = new Map<string, number>();
  names.push('plumtree_topic_messages_dropped_total');
  new Counter({
    name: 'plumtree_topic_messages_dropped_total',
    help: 'Messages of a topic dropped: duplicate copies, and messages given up after every GRAFT.',
    labelNames: ['topic', 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [topic, t] of Object.entries(source().stats.topics)) {
        this.inc({ topic, reason: 'duplicate' }, t.duplicates);
        this.inc({ topic, reason: 'given-up' }, givenUp.get(topic) ?? 0);
      }
    },
  });
  names.push('plumtree_graft_success_total', 'plumtree_graft_latency_seconds');
  const graftSuccess = new Counter({
    name: 'plumtree_graft_success_total',
    help: 'Missing messages that arrived after a GRAFT asked for them.',
    registers: [registry],
  });
  const graftLatency = new Histogram({
    name: 'plumtree_graft_latency_seconds',
    help: 'Seconds from the first GRAFT for a missing message to its delivery.',
    buckets: [...(options.graftLatencyBuckets ?? GRAFT_LATENCY_BUCKETS)],
    registers: [registry],
  });
  const events: Subscription = node.events$.subscribe((e) => {
    if (e.type === 'graft-delivered') {
      graftSuccess.inc();
      graftLatency.observe(e.latencyMs / 1000);
    } else if (e.type === 'graft-failed') {
      givenUp.set(e.topic, (givenUp.get(e.topic) ?? 0) + 1);
    } else if (e.type === 'topic-left') {
      // Per-topic series go with the topic (the stats do too): bounded by the topics joined.
      givenUp.delete(e.topic);
    }
  });
  return {
    registry,
    contentType: registry.contentType,
    metrics: () => registry.metrics(),
    close: () => {
      events.unsubscribe();
      for (const n of names) registry.removeSingleMetric(n);
    },
  };
}

function samples(v: number | readonly Sample[]): readonly Sample[] {
  return typeof v === 'number' ? [{ value: v }] : v;
}

/**
 * The node's statistics, taken once per scrape: prom-client collects every family in one turn of
 * the event loop, so the snapshot is dropped at the next turn.
 */
function snapshotSource(node: PlumtreeNode): () => MetricSource {
  let cached: MetricSource | undefined;
  return () => {
    if (cached === undefined) {
      cached = { stats: node.stats(), swim: node.swimNode };
      setImmediate(() => {
        cached = undefined;
      });
    }
    return cached;
  };
}
