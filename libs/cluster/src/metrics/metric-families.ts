/**
 * The Prometheus families of a node, as data: name, help, type, labels and how each value is
 * read from `PlumtreeNode.stats()` (or from the SWIM node) at scrape time. Families counted from
 * events instead (graft latency and successes, suspicions of given-up messages) are declared in
 * plumtree-metrics.ts. docs/metrics.md lists every family; metrics.spec.ts checks it does.
 *
 * Names follow the reference Plumtree crate's `plumtree_*` where one applies
 * (`plumtree_messages_broadcast_total`, `plumtree_eager_peers`, ...); SWIM's are `swim_*`.
 */
import type { SwimNode } from '@plumtree/swim';
import type { PlumtreeNodeStats } from '../node/node-stats.js';

/** One labelled value of a family. */
export interface Sample {
  readonly labels?: Readonly<Record<string, string>>;
  readonly value: number;
}

/** What a family reads from. */
export interface MetricSource {
  readonly stats: PlumtreeNodeStats;
  readonly swim: SwimNode;
}

/** A family whose samples are read from the node at each scrape. */
export interface PolledFamily {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge';
  readonly labelNames?: readonly string[];
  readonly read: (s: MetricSource) => number | readonly Sample[];
}

type FrameType = 'gossip' | 'ihave' | 'graft' | 'prune';
const FRAME_TYPES: readonly FrameType[] = ['gossip', 'ihave', 'graft', 'prune'];

/** `plumtree_<type>_sent_total` and `_received_total` for each Plumtree frame type. */
function frameFamilies(): PolledFamily[] {
  return FRAME_TYPES.flatMap((t): PolledFamily[] => [
    {
      name: `plumtree_${t}_sent_total`,
      help: `${t.toUpperCase()} frames sent (all topics).`,
      type: 'counter',
      read: (s) => s.stats.node.framesSent[t],
    },
    {
      name: `plumtree_${t}_received_total`,
      help: `${t.toUpperCase()} frames received (all topics).`,
      type: 'counter',
      read: (s) => s.stats.node.framesReceived[t],
    },
  ]);
}

/** One sample per topic this node is in the tree of. */
function perTopic(
  s: MetricSource,
  value: (t: PlumtreeNodeStats['topics'][string]) => number,
): Sample[] {
  return Object.entries(s.stats.topics).map(([topic, t]) => ({
    labels: { topic },
    value: value(t),
  }));
}

/** One sample per key of a count record, under label `label`. */
function byKey(record: Readonly<Record<string, number>>, label: string, prefix = ''): Sample[] {
  return Object.entries(record).map(([k, value]) => ({ labels: { [label]: prefix + k }, value }));
}

const MEMBER_STATES = ['alive', 'suspect', 'dead', 'left'] as const;

/** The queue group counters as `outcome` label values (docs/queue-groups.md). */
const GROUP_OUTCOMES = [
  ['handled', 'handled'],
  ['shadowed', 'shadowed'],
  ['acknowledged', 'acknowledged'],
  ['taken-over', 'takenOver'],
  ['claimed', 'claimed'],
  ['dropped', 'dropped'],
  ['duplicate', 'duplicates'],
] as const;

/** Every polled family. */
export const POLLED_FAMILIES: readonly PolledFamily[] = [
  {
    name: 'plumtree_messages_broadcast_total',
    help: 'Messages this node published into a tree (broadcasts initiated).',
    type: 'counter',
    read: (s) => s.stats.core.broadcasts,
  },
  {
    name: 'plumtree_messages_delivered_total',
    help: 'Messages delivered by this node (first copies, all topics).',
    type: 'counter',
    read: (s) => s.stats.core.delivered,
  },
  {
    name: 'plumtree_messages_duplicate_total',
    help: 'Duplicate copies of messages received (all topics).',
    type: 'counter',
    read: (s) => s.stats.core.duplicates,
  },
  ...frameFamilies(),
  {
    name: 'plumtree_graft_failed_total',
    help: 'Missing messages given up: no announcer sent them after every GRAFT.',
    type: 'counter',
    read: (s) => s.stats.core.graftsFailed,
  },
  {
    name: 'plumtree_grafts_served_total',
    help: 'GRAFTs from peers answered with the message.',
    type: 'counter',
    read: (s) => s.stats.core.graftsServed,
  },
  {
    name: 'plumtree_topic_messages_delivered_total',
    help: 'Messages delivered, per topic (series restart when the node rejoins a topic).',
    type: 'counter',
    labelNames: ['topic'],
    read: (s) => perTopic(s, (t) => t.delivered),
  },
  {
    name: 'plumtree_eager_peers',
    help: 'Eager (payload) peers of a topic tree.',
    type: 'gauge',
    labelNames: ['topic'],
    read: (s) => perTopic(s, (t) => t.eager),
  },
  {
    name: 'plumtree_lazy_peers',
    help: 'Lazy (IHAVE) peers of a topic tree.',
    type: 'gauge',
    labelNames: ['topic'],
    read: (s) => perTopic(s, (t) => t.lazy),
  },
  {
    name: 'plumtree_pending_grafts',
    help: 'Missing messages of a topic with a GRAFT timer running.',
    type: 'gauge',
    labelNames: ['topic'],
    read: (s) => perTopic(s, (t) => t.pendingGrafts),
  },
  {
    name: 'plumtree_cache_size',
    help: 'Messages held in the cache for GRAFT answers (all topics).',
    type: 'gauge',
    read: (s) => s.stats.core.cache,
  },
  {
    name: 'plumtree_topics',
    help: 'Topics this node is in the tree of.',
    type: 'gauge',
    read: (s) => Object.keys(s.stats.topics).length,
  },
  {
    name: 'plumtree_queue_bytes',
    help: 'Frame bytes waiting to be sent, over all peers (queued and in sockets).',
    type: 'gauge',
    read: (s) => s.stats.transport.queuedBytes,
  },
  {
    name: 'plumtree_delivery_queue_bytes',
    help: 'Payload bytes of deliveries waiting for handlers.',
    type: 'gauge',
    read: (s) => s.stats.node.deliveryQueue.pendingBytes,
  },
  {
    name: 'plumtree_delivery_queue_messages',
    help: 'Deliveries waiting for handlers.',
    type: 'gauge',
    read: (s) => s.stats.node.deliveryQueue.pending,
  },
  {
    name: 'plumtree_backpressure_demotions_total',
    help: 'Eager peers demoted to lazy because their send queue was full.',
    type: 'counter',
    read: (s) => s.stats.node.backpressureDemotions,
  },
  {
    name: 'plumtree_decode_errors_total',
    help: 'Deliveries dropped because the payload codec could not decode them.',
    type: 'counter',
    read: (s) => s.stats.node.decodeErrors,
  },
  {
    name: 'plumtree_frames_dropped_total',
    help: 'Frames dropped, by reason (bad input from peers, and transport:<reason> for sends).',
    type: 'counter',
    labelNames: ['reason'],
    read: (s) => [
      ...byKey(s.stats.node.frameDrops, 'reason'),
      ...byKey(s.stats.transport.drops, 'reason', 'transport:'),
    ],
  },
  {
    name: 'plumtree_frame_connections_refused_total',
    help: 'Accepted frame connections refused and closed, by reason (not-member, address, handshake-failed, replay, caps).',
    type: 'counter',
    labelNames: ['reason'],
    read: (s) => byKey(s.stats.transport.refused, 'reason'),
  },
  {
    name: 'plumtree_frame_connections_pending',
    help: 'Accepted frame connections waiting for the member they claim to appear.',
    type: 'gauge',
    read: (s) => s.stats.transport.pendingConnections,
  },
  {
    name: 'plumtree_limit_drops_total',
    help: 'Input dropped, refused or evicted because a cap on remote-fed state was reached, by limit (docs/limits.md).',
    type: 'counter',
    labelNames: ['limit'],
    read: (s) => {
      const { patternTopics: _gauge, ...counters } = s.stats.limits;
      return byKey(counters, 'limit');
    },
  },
  {
    name: 'plumtree_pattern_topics',
    help: 'Topics this node is in the tree of only because a local pattern matches them (capped by limits.maxPatternTopics).',
    type: 'gauge',
    read: (s) => s.stats.limits.patternTopics,
  },
  {
    name: 'swim_members',
    help: 'Members known to SWIM, by state (this node included).',
    type: 'gauge',
    labelNames: ['state'],
    read: (s) => {
      const counts = new Map<string, number>(MEMBER_STATES.map((st) => [st, 0]));
      for (const m of s.swim.allMembers()) counts.set(m.state, (counts.get(m.state) ?? 0) + 1);
      return [...counts].map(([state, value]) => ({ labels: { state }, value }));
    },
  },
  {
    name: 'swim_probes_total',
    help: 'Probes started by this node.',
    type: 'counter',
    read: (s) => s.swim.stats().core.probes,
  },
  {
    name: 'swim_probe_failures_total',
    help: 'Probes of this node that ended with a suspicion.',
    type: 'counter',
    read: (s) => s.swim.stats().core.probeFailures,
  },
  {
    name: 'swim_suspicions_total',
    help: 'Members declared suspect, as this node learnt it (own probes and gossip).',
    type: 'counter',
    read: (s) => s.swim.stats().suspicions,
  },
  {
    name: 'plumtree_queue_group_messages_total',
    help: 'Messages of each queue group by outcome on this node (handled, shadowed, ...).',
    type: 'counter',
    labelNames: ['group', 'outcome'],
    read: (s) =>
      Object.entries(s.stats.groups).flatMap(([group, c]) =>
        GROUP_OUTCOMES.map(([outcome, key]) => ({ labels: { group, outcome }, value: c[key] })),
      ),
  },
  {
    name: 'plumtree_queue_group_shadow_messages',
    help: 'Messages held for another member of each queue group until it acknowledges them.',
    type: 'gauge',
    labelNames: ['group'],
    read: (s) =>
      Object.entries(s.stats.groups).map(([group, c]) => ({ labels: { group }, value: c.held })),
  },
  {
    name: 'swim_refutes_total',
    help: 'Suspicions or death claims about this node that it refuted.',
    type: 'counter',
    read: (s) => s.swim.stats().core.refutes,
  },
  {
    name: 'swim_push_pulls_total',
    help: 'Push-pull (full state) exchanges, joins included, by direction.',
    type: 'counter',
    labelNames: ['direction'],
    read: (s) => {
      const p = s.swim.stats().pushPulls;
      return [
        { labels: { direction: 'sent' }, value: p.sent },
        { labels: { direction: 'received' }, value: p.received },
      ];
    },
  },
  {
    name: 'swim_formation_seconds',
    help: 'Seconds from the node start to its first successful join (0 before, or with no seeds).',
    type: 'gauge',
    read: (s) => (s.swim.stats().joinedAfterMs ?? 0) / 1000,
  },
  {
    name: 'swim_health_score',
    help: 'Lifeguard local health: 0 healthy, higher when this node is slow to answer.',
    type: 'gauge',
    read: (s) => s.swim.healthScore,
  },
  {
    name: 'swim_packets_dropped_total',
    help: 'SWIM packets and streams dropped, by layer:reason.',
    type: 'counter',
    labelNames: ['reason'],
    read: (s) => byKey(s.swim.stats().drops, 'reason'),
  },
];
