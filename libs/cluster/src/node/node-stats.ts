/**
 * What `PlumtreeNode.stats()` reports, and its assembly from the engines' own counters: each
 * engine counts what it does, and this is the one place that lays the counters out.
 */
import type { QueueGroupCounters } from '../groups/queue-groups.js';
import type { Plumtree, PlumtreeCounters, TopicStats } from '@plumtree/plumtree';
import type { SwimNode } from '@plumtree/swim';
import type { DirectoryStats, TopicDirectory } from '../directory/index.js';
import type { DeliveryCounters } from '../delivery/subscriptions.js';
import type { DurableReplicatorStats } from '../durable/index.js';
import type { HandoffCounters } from '../handoff/handoff.js';
import type { LazarusStats } from '../lazarus/index.js';
import type { OutboundCounters } from '../outbound/outbound.js';
import type { PublishWindowCounters } from '../publish/publish-window.js';
import type { PersistenceStats } from '../persistence/node-persistence.js';
import type { LinkSyncCounters } from '../readiness/link-sync.js';
import type { RpcCounters } from '../rpc/rpc.js';
import type { FrameTransportStats } from '../transport/index.js';
import type { InboundCounters, PatternJoinCounters } from '../tree/topic-trees.js';

/** Statistics of one topic this node is in the tree of. */
export interface NodeTopicStats extends TopicStats {
  /** Candidates in the topic's view: alive subscribers other than this node. */
  readonly peers: number;
  /** Observers of `subscribe()` that receive this topic's deliveries (patterns included). */
  readonly observers: number;
  /** Frame bytes queued for this topic's peers. */
  readonly bytesSent: number;
  /** Frame bytes received for this topic. */
  readonly bytesReceived: number;
}

/**
 * Node-level counters (beside the core's, the transport's and SWIM's): each engine's own, and
 * the frames that failed to decode.
 */
export interface NodeCounters extends InboundCounters, OutboundCounters, DeliveryCounters {
  /** Frames that failed to decode, by reason (`plumtree:<reason>`, `handoff`, `unknown-kind`). */
  readonly frameDrops: Readonly<Record<string, number>>;
  /** Hand-offs, both sides (see handoff.ts). */
  readonly handoffs: HandoffCounters;
  /** Flow control of what enters a tree here (see publish-window.ts). */
  readonly publishWindow: PublishWindowCounters;
  /** Request/reply, both sides (see rpc.ts). */
  readonly rpc: RpcCounters;
  /** Recent deliveries announced to newly linked peers (see readiness/link-sync.ts). */
  readonly linkSync: LinkSyncCounters;
}

/**
 * What the caps on remote-fed structures dropped (docs/limits.md), in one place: each counter
 * moves only when a cap bites, which a healthy cluster never makes it do.
 */
export interface LimitCounters extends PatternJoinCounters {
  /** Missing ids given up at `plumtree.maxMissingIds`, oldest first. */
  readonly missingEvicted: number;
  /** Announcers not kept beyond `plumtree.maxAnnouncersPerId`. */
  readonly announcersDropped: number;
  /** Announced ids not tracked: their announcer spent `plumtree.newMissingPerPeerBurst` / `...PerSecond`. */
  readonly missingOverBudget: number;
  /** Cached messages evicted before their TTL by `messageCacheMaxSize` / `messageCacheMaxBytes`. */
  readonly cacheEvictedForSize: number;
  /** Origin incarnations forgotten before their TTL by `plumtree.seenSoftCap` / `seenHardCap`. */
  readonly seenEvictedForCap: number;
  /** Requests answered `ResponderBusyError` at `limits.maxRequestsPerPeer` / `maxRequests`. */
  readonly requestsBusy: number;
  /** Catch-up requests dropped at `limits.maxCatchupServesPerPeer` / `maxCatchupServes`. */
  readonly catchupServesDropped: number;
  /** Durable streams forgotten at `limits.maxDurableStreamsPerTopic`, all topics. */
  readonly durableStreamsForgotten: number;
  /** SWIM TCP streams closed unread at `swim.maxInboundStreams`. */
  readonly swimStreamsRefused: number;
  /** Hand-offs answered NACK: their sender held `limits.maxHandoffTopicsPerPeer` topics. */
  readonly handoffTopicsRefused: number;
  /** Hand-offs answered NACK: `MAX_WAITING_HANDOFFS_PER_PEER` of their sender's waited already. */
  readonly handoffsWaitingRefused: number;
}

/** Everything `stats()` reports. */
export interface PlumtreeNodeStats {
  readonly name: string;
  /** One entry per topic this node is in the tree of. */
  readonly topics: Readonly<Record<string, NodeTopicStats>>;
  readonly node: NodeCounters;
  /** What the caps on remote-fed structures dropped (docs/limits.md). */
  readonly limits: LimitCounters;
  /** The core's node-wide counters and sizes: `cache` and `seen` hold ids of every topic. */
  readonly core: PlumtreeCounters & {
    readonly cache: number;
    readonly seen: number;
    readonly missing: number;
  };
  readonly transport: FrameTransportStats;
  readonly swim: {
    readonly members: number;
    readonly alive: number;
    readonly suspect: number;
    readonly healthScore: number;
    readonly packetsHandled: number;
    readonly droppedTotal: number;
  };
  readonly directory: DirectoryStats & {
    readonly localVersion: number;
    readonly subscriptions: readonly string[];
  };
  /** Durable topics: catch-up and log counters per topic. */
  readonly durable: DurableReplicatorStats;
  /** Durable deliveries kept for a first observer, and those refused over the cap (parked-deliveries.ts). */
  readonly parked: { readonly records: number; readonly dropped: number };
  /** Queue groups this node is a member of, by group name (docs/queue-groups.md). */
  readonly groups: Readonly<Record<string, QueueGroupCounters>>;
  /** Lazarus (null without static seeds or when disabled). */
  readonly lazarus: LazarusStats | null;
  /** The store: directory, what was read at start, saves and their errors. */
  readonly persistence: PersistenceStats | null;
}

/** Where each part of the statistics comes from. */
export interface NodeStatsSources {
  readonly name: string;
  readonly core: Pick<Plumtree, 'counters' | 'sizes'>;
  readonly trees: {
    topicStats(observers: (topic: string) => number): Record<string, NodeTopicStats>;
    counters(): InboundCounters;
    patternCounters(): PatternJoinCounters;
  };
  readonly outbound: { counters(): OutboundCounters };
  readonly deliveries: { counters(): DeliveryCounters; observerCount(topic: string): number };
  readonly handoff: { stats(): HandoffCounters };
  readonly window: { stats(): PublishWindowCounters };
  readonly rpc: { stats(): RpcCounters };
  readonly linkSync: { counters(): LinkSyncCounters };
  readonly groups: { counters(): Record<string, QueueGroupCounters> };
  readonly durable: {
    stats(): DurableReplicatorStats;
    parkedStats(): { readonly records: number; readonly dropped: number };
  };
  readonly frameDrops: Readonly<Record<string, number>>;
  readonly transport: { stats(): FrameTransportStats };
  /** Undefined before SWIM started. */
  readonly swim: Pick<SwimNode, 'members' | 'stats' | 'healthScore'> | undefined;
  readonly directory: Pick<TopicDirectory, 'stats' | 'localVersion' | 'localSubscriptions'>;
  readonly lazarus: { stats(): LazarusStats } | null;
  readonly persistence: { stats(): PersistenceStats } | undefined;
}

/** Lay out the counters of every layer (see {@link PlumtreeNodeStats}). */
export function assembleNodeStats(s: NodeStatsSources): PlumtreeNodeStats {
  const inbound = s.trees.counters();
  const out = s.outbound.counters();
  const delivered = s.deliveries.counters();
  const sizes = s.core.sizes();
  const members = s.swim?.members() ?? [];
  const swimStats = s.swim?.stats();
  const durable = s.durable.stats();
  const rpc = s.rpc.stats();
  return {
    name: s.name,
    topics: s.trees.topicStats((topic) => s.deliveries.observerCount(topic)),
    node: {
      framesReceived: inbound.framesReceived,
      framesSent: out.framesSent,
      gossipReceivedUnsubscribed: inbound.gossipReceivedUnsubscribed,
      framesReceivedUnsubscribed: inbound.framesReceivedUnsubscribed,
      frameDrops: { ...s.frameDrops },
      sendFailures: out.sendFailures,
      backpressureDemotions: out.backpressureDemotions,
      sharedOverflows: out.sharedOverflows,
      publishWindow: s.window.stats(),
      framesDroppedByFilter: out.framesDroppedByFilter,
      deliveries: delivered.deliveries,
      decodeErrors: delivered.decodeErrors,
      handoffs: s.handoff.stats(),
      deferredAnnouncementsDropped: out.deferredAnnouncementsDropped,
      encoder: out.encoder,
      rpc,
      linkSync: s.linkSync.counters(),
      deliveryQueue: delivered.deliveryQueue,
    },
    limits: {
      ...s.trees.patternCounters(),
      missingEvicted: s.core.counters.missingEvicted,
      announcersDropped: s.core.counters.announcersDropped,
      missingOverBudget: s.core.counters.missingOverBudget,
      cacheEvictedForSize: sizes.cacheEvictedForSize,
      seenEvictedForCap: sizes.seenEvictedForCap,
      requestsBusy: rpc.busy,
      catchupServesDropped: durable.servesDropped,
      durableStreamsForgotten: Object.values(durable.topics).reduce(
        (n, t) => n + t.streamsForgotten,
        0,
      ),
      swimStreamsRefused: swimStats?.drops['stream:too-many-streams'] ?? 0,
      handoffTopicsRefused: s.handoff.stats().topicsRefused,
      handoffsWaitingRefused: s.handoff.stats().waitingRefused,
    },
    durable,
    parked: s.durable.parkedStats(),
    groups: s.groups.counters(),
    lazarus: s.lazarus?.stats() ?? null,
    persistence: s.persistence?.stats() ?? null,
    core: { ...s.core.counters, cache: sizes.cache, seen: sizes.seen, missing: sizes.missing },
    transport: s.transport.stats(),
    swim: {
      members: members.length,
      alive: members.filter((m) => m.state === 'alive').length,
      suspect: members.filter((m) => m.state === 'suspect').length,
      healthScore: s.swim?.healthScore ?? 0,
      packetsHandled: swimStats?.packetsHandled ?? 0,
      droppedTotal: swimStats?.droppedTotal ?? 0,
    },
    directory: {
      ...s.directory.stats(),
      localVersion: s.directory.localVersion,
      subscriptions: s.directory.localSubscriptions(),
    },
  };
}
