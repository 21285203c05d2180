/**
 * Link sync: what makes a message published while a topic's tree is still forming reach the
 * subscribers that are not linked yet.
 *
 * Plumtree has no anti-entropy: a message reaches the nodes linked (eagerly or lazily) to the tree
 * when it is published, and a node whose links come up later never hears of it. When a cluster
 * starts, links come up over a second or two (a subscriber learns the others from the directory,
 * grafts its eager peers, the first messages prune the redundant links), so early publishes missed
 * nodes. Link sync closes the gap:
 *
 * - Each topic remembers its last {@link RECENT_IDS_PER_TOPIC} deliveries (id, hops, time).
 * - The first Plumtree frame a peer sends this node on a topic (a GRAFT or PRUNE asking for a
 *   link, a GOSSIP, an IHAVE, or that peer's own link sync) means the peer now holds this node as
 *   a neighbour of the topic. This node answers it once with an IHAVE of its recent deliveries,
 *   possibly empty: the peer GRAFTs what it lacks, through the core's normal repair. Both ends do
 *   this, so each hears what the other delivered before the link existed, and the (possibly
 *   empty) IHAVE tells the linking side that the link is up on the far end too (what `ready()`
 *   waits for).
 * - Only deliveries made since the peer subscribed are announced: those after its directory
 *   entry's version (the peer's clock when its subscriptions last changed) less
 *   {@link LINK_SYNC_CLOCK_SLACK_MS} for clock skew, and still in the message cache
 *   (`messageCacheTtlMs`). A message published before a subscriber subscribed is thus not
 *   replayed to it (the delivery contract: durable topics are the way to catch up history). When
 *   this node has no entry of the peer yet, the whole cache window is announced.
 * - A peer is heard again from scratch when its frame connection drops, when it fails or leaves,
 *   and when it leaves the topic's view: its next link syncs again.
 *
 * The engine owns no socket: the node hands it the outbound engine through {@link LinkSyncHost}.
 */
import type { IHaveEntry, MessageId } from '@plumtree/plumtree';
import { RecentIds } from './recent-ids.js';

/**
 * Deliveries per topic a new link is told of. IHAVE entries are about 30 bytes, so a link sync
 * costs at most ~8 KiB once per new link; a subscriber that links more than this many messages
 * after a publish misses it (a durable topic catches it up).
 */
export const RECENT_IDS_PER_TOPIC = 256;

/**
 * How much older than a peer's subscription (its entry's version, the peer's clock) a delivery
 * here may be and still be announced to it: the clock skew tolerated between nodes. A delivery
 * here always comes after its publisher learned of the subscription, so with clocks this close
 * nothing published after the subscription is left out.
 */
export const LINK_SYNC_CLOCK_SLACK_MS = 1_000;

/** What the engine needs from its node. */
export interface LinkSyncHost {
  /** Queue an IHAVE of `entries` for `peer` on `topic` (the outbound engine). */
  announce(peer: string, topic: string, entries: readonly IHaveEntry[]): void;
  /** How long a peer can still GRAFT a delivery: the core's `messageCacheTtlMs`. */
  readonly cacheTtlMs: number;
  /** The version of `peer`'s directory entry (ms, its clock), or undefined when unknown. */
  subscribedAtMs(peer: string): number | undefined;
}

/** Link sync counters (`stats().node.linkSync`). */
export interface LinkSyncCounters {
  /** IHAVEs sent to newly linked peers (empty ones included). */
  readonly syncs: number;
  /** Ids announced in them. */
  readonly idsAnnounced: number;
}

interface TopicLinks {
  readonly recent: RecentIds;
  /** Peers that have sent a frame on the topic since they (re)linked. */
  readonly heard: Set<string>;
  /** The topic's view as last set (see {@link LinkSync.keepOnly}). */
  view: ReadonlySet<string>;
}

/** See the file comment. */
export class LinkSync {
  private readonly topics = new Map<string, TopicLinks>();
  private syncs = 0;
  private idsAnnounced = 0;

  constructor(private readonly host: LinkSyncHost) {}

  /** This node delivered `id` on `topic` (its own publishes included). */
  delivered(topic: string, id: MessageId, hops: number, nowMs: number): void {
    this.links(topic).recent.add(id, hops, nowMs);
  }

  /**
   * A Plumtree frame of `topic` (a topic this node is in the tree of) came from `peer`: on the
   * first one since the link formed, answer with the recent deliveries.
   */
  heard(topic: string, peer: string, nowMs: number): void {
    const links = this.links(topic);
    if (links.heard.has(peer)) return;
    links.heard.add(peer);
    const subscribed = this.host.subscribedAtMs(peer);
    let since = nowMs - this.host.cacheTtlMs;
    if (subscribed !== undefined) since = Math.max(since, subscribed - LINK_SYNC_CLOCK_SLACK_MS);
    const entries = links.recent.announceSince(since);
    this.syncs++;
    this.idsAnnounced += entries.length;
    this.host.announce(peer, topic, entries);
  }

  /** Whether `peer` has sent a frame on `topic` since it (re)linked. */
  isHeard(topic: string, peer: string): boolean {
    return this.topics.get(topic)?.heard.has(peer) === true;
  }

  /** `peer`'s connection dropped, or it failed or left: its next frame syncs again. */
  forgetPeer(peer: string): void {
    for (const links of this.topics.values()) links.heard.delete(peer);
  }

  /**
   * `topic`'s view is now `peers`: those that were in it and are not any more left the topic, and
   * sync again if they come back. A peer heard before this node's directory listed it (its link
   * request can come first) is kept.
   */
  keepOnly(topic: string, peers: readonly string[]): void {
    const links = this.links(topic);
    const view = new Set(peers);
    for (const p of links.heard) if (links.view.has(p) && !view.has(p)) links.heard.delete(p);
    links.view = view;
  }

  /** This node left `topic`'s tree. */
  forgetTopic(topic: string): void {
    this.topics.delete(topic);
  }

  counters(): LinkSyncCounters {
    return { syncs: this.syncs, idsAnnounced: this.idsAnnounced };
  }

  private links(topic: string): TopicLinks {
    let links = this.topics.get(topic);
    if (links === undefined) {
      links = { recent: new RecentIds(RECENT_IDS_PER_TOPIC), heard: new Set(), view: new Set() };
      this.topics.set(topic, links);
    }
    return links;
  }
}
