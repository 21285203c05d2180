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

/** A family read from the node: with no `labels`, one number; with them, one sample each. */
function family(
  type: PolledFamily['type'],
  name: string,
  help: string,
  read: PolledFamily['read'],
  labels?: readonly string[],
): PolledFamily {
  return labels === undefined
    ? { name, help, type, read }
    : { name, help, type, labelNames: labels, read };
}
const counter = family.bind(null, 'counter');
const gauge = family.bind(null, 'gauge');
/** One sample per topic of the node's trees: `value` of its stats. */
const topics =
  (value: (t: PlumtreeNodeStats['topics'][string]) => number) =>
  (s: MetricSource): Sample[] =>
    perTopic(s, value);

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

/** Frames dropped by the node (bad input) and by the transport (`transport:<reason>`). */
function frameDrops(s: MetricSource): Sample[] {
  return [
    ...byKey(s.stats.node.frameDrops, 'reason'),
    ...byKey(s.stats.transport.drops, 'reason', 'transport:'),
  ];
}

/** The limit counters; `patternTopics` is a gauge of its own. */
function limitDrops(s: MetricSource): Sample[] {
  const { patternTopics: _gauge, ...counters } = s.stats.limits;
  return byKey(counters, 'limit');
}

/** SWIM's members by state, every state present (0 when none). */
function memberStates(s: MetricSource): Sample[] {
  const counts = new Map<string, number>(MEMBER_STATES.map((st) => [st, 0]));
  for (const m of s.swim.allMembers()) counts.set(m.state, (counts.get(m.state) ?? 0) + 1);
  return [...counts].map(([state, value]) => ({ labels: { state }, value }));
}

/** Each queue group's counters, one sample per outcome. */
function groupOutcomes(s: MetricSource): Sample[] {
  return Object.entries(s.stats.groups).flatMap(([group, c]) =>
    GROUP_OUTCOMES.map(([outcome, key]) => ({ labels: { group, outcome }, value: c[key] })),
  );
}

/** Push-pull exchanges by direction. */
function pushPulls(s: MetricSource): Sample[] {
  const p = s.swim.stats().pushPulls;
  return [
    { labels: { direction: 'sent' }, value: p.sent },
    { labels: { direction: 'received' }, value: p.received },
  ];
}

/**
 * Every polled family, one a line: `counter` or `gauge` (name, help, how it is read, labels when
 * it has them). A table, so it is kept as written rather than wrapped.
 */
// prettier-ignore
export const POLLED_FAMILIES: readonly PolledFamily[] = [
  counter('plumtree_messages_broadcast_total', 'Messages this node published into a tree (broadcasts initiated).', (s) => s.stats.core.broadcasts),
  counter('plumtree_messages_delivered_total', 'Messages delivered by this node (first copies, all topics).', (s) => s.stats.core.delivered),
  counter('plumtree_messages_duplicate_total', 'Duplicate copies of messages received (all topics).', (s) => s.stats.core.duplicates),
  ...frameFamilies(),
  counter('plumtree_graft_failed_total', 'Missing messages given up: no announcer sent them after every GRAFT.', (s) => s.stats.core.graftsFailed),
  counter('plumtree_grafts_served_total', 'GRAFTs from peers answered with the message.', (s) => s.stats.core.graftsServed),
  counter('plumtree_topic_messages_delivered_total', 'Messages delivered, per topic (series restart when the node rejoins a topic).', topics((t) => t.delivered), ['topic']),
  gauge('plumtree_eager_peers', 'Eager (payload) peers of a topic tree.', topics((t) => t.eager), ['topic']),
  gauge('plumtree_lazy_peers', 'Lazy (IHAVE) peers of a topic tree.', topics((t) => t.lazy), ['topic']),
  gauge('plumtree_pending_grafts', 'Missing messages of a topic with a GRAFT timer running.', topics((t) => t.pendingGrafts), ['topic']),
  gauge('plumtree_cache_size', 'Messages held in the cache for GRAFT answers (all topics).', (s) => s.stats.core.cache),
  gauge('plumtree_topics', 'Topics this node is in the tree of.', (s) => Object.keys(s.stats.topics).length),
  gauge('plumtree_queue_bytes', 'Frame bytes waiting to be sent, over all peers (queued and in sockets).', (s) => s.stats.transport.queuedBytes),
  gauge('plumtree_delivery_queue_bytes', 'Payload bytes of deliveries waiting for handlers.', (s) => s.stats.node.deliveryQueue.pendingBytes),
  gauge('plumtree_delivery_queue_messages', 'Deliveries waiting for handlers.', (s) => s.stats.node.deliveryQueue.pending),
  counter('plumtree_backpressure_demotions_total', 'Eager peers demoted to lazy because their send queue was full.', (s) => s.stats.node.backpressureDemotions),
  counter('plumtree_decode_errors_total', 'Deliveries dropped because the payload codec could not decode them.', (s) => s.stats.node.decodeErrors),
  counter('plumtree_frames_dropped_total', 'Frames dropped, by reason (bad input from peers, and transport:<reason> for sends).', frameDrops, ['reason']),
  counter('plumtree_frame_connections_refused_total', 'Accepted frame connections refused and closed, by reason (not-member, address, handshake-failed, replay, caps).', (s) => byKey(s.stats.transport.refused, 'reason'), ['reason']),
  gauge('plumtree_frame_connections_pending', 'Accepted frame connections waiting for the member they claim to appear.', (s) => s.stats.transport.pendingConnections),
  counter('plumtree_limit_drops_total', 'Input dropped, refused or evicted because a cap on remote-fed state was reached, by limit (docs/limits.md).', limitDrops, ['limit']),
  gauge('plumtree_pattern_topics', 'Topics this node is in the tree of only because a local pattern matches them (capped by limits.maxPatternTopics).', (s) => s.stats.limits.patternTopics),
  gauge('swim_members', 'Members known to SWIM, by state (this node included).', memberStates, ['state']),
  counter('swim_probes_total', 'Probes started by this node.', (s) => s.swim.stats().core.probes),
  counter('swim_probe_failures_total', 'Probes of this node that ended with a suspicion.', (s) => s.swim.stats().core.probeFailures),
  counter('swim_suspicions_total', 'Members declared suspect, as this node learnt it (own probes and gossip).', (s) => s.swim.stats().suspicions),
  counter('plumtree_queue_group_messages_total', 'Messages of each queue group by outcome on this node (handled, shadowed, ...).', groupOutcomes, ['group', 'outcome']),
  gauge('plumtree_queue_group_shadow_messages', 'Messages held for another member of each queue group until it acknowledges them.', (s) => Object.entries(s.stats.groups).map(([group, c]) => ({ labels: { group }, value: c.held })), ['group']),
  counter('swim_refutes_total', 'Suspicions or death claims about this node that it refuted.', (s) => s.swim.stats().core.refutes),
  counter('swim_push_pulls_total', 'Push-pull (full state) exchanges, joins included, by direction.', pushPulls, ['direction']),
  gauge('swim_formation_seconds', 'Seconds from the node start to its first successful join (0 before, or with no seeds).', (s) => (s.swim.stats().joinedAfterMs ?? 0) / 1000),
  gauge('swim_health_score', 'Lifeguard local health: 0 healthy, higher when this node is slow to answer.', (s) => s.swim.healthScore),
  counter('swim_packets_dropped_total', 'SWIM packets and streams dropped, by layer:reason.', (s) => byKey(s.swim.stats().drops, 'reason'), ['reason']),
];
