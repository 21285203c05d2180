/**
 * Keeps the topic directory in step with the cluster over SWIM, and each topic's view in step
 * with the directory.
 *
 * - Announce: a change of this node's own entry is broadcast as a named SWIM user message
 *   (`topics:<node>`, so a newer entry replaces a queued older one), the directory digest becomes
 *   the node meta, and the subscription set is saved to the store. Deferred to a microtask: the
 *   directory may change inside a SWIM delegate call, where re-entering SWIM would run in the
 *   middle of its own processing.
 * - Apply and relay: an entry broadcast by a peer is applied and, when it was news, relayed (see
 *   {@link DirectorySync.applyBroadcast}).
 * - Stale digests: a member whose digest (meta, or probe ack) announces a newer entry than ours
 *   has its broadcast on the way; if the entry has not arrived after {@link STALE_PULL_DELAY_MS},
 *   this node pulls it (a push-pull with that member), at most every
 *   {@link STALE_PULL_MIN_GAP_MS} per member.
 * - Views: after any directory or membership change (coalesced in a microtask) every topic's
 *   view becomes `directory.subscribersOf(topic, alive)`: peers that left it are told to the core,
 *   new candidates refill its tree, durable topics learn their new peers; local patterns join the
 *   topics the directory names now.
 *
 * The engine owns no SWIM node and no tree: the node gives it both through
 * {@link DirectorySyncHost}.
 */
import type { SwimNode } from '@plumtree/swim';
import { topicMatches, type TopicDirectory } from '../directory/index.js';
import type { NodeLife } from '../node/node-lifecycle.js';

/** How long a stale directory entry may wait for its broadcast before this node pulls it. */
const STALE_PULL_DELAY_MS = 500;
/** Pulls of one member's entry at most this often. */
const STALE_PULL_MIN_GAP_MS = 2_000;

/** The part of SWIM the engine uses. */
export type DirectorySwim = Pick<
  SwimNode,
  'isClosed' | 'queueBroadcast' | 'updateMeta' | 'member' | 'join'
>;

/** What the engine needs from its node. */
export interface DirectorySyncHost {
  readonly name: string;
  readonly life: NodeLife;
  readonly directory: TopicDirectory;
  /** SWIM, once started (undefined before). */
  swim(): DirectorySwim | undefined;
  /** Persist the local subscription set. */
  saveSubscriptions(topicsOrPatterns: readonly string[]): void;
  /** Alive subscribers of `topic`, this node excluded. */
  subscribersOf(topic: string): string[];
  /** Topics whose tree the node is in, each with a view. */
  viewTopics(): Iterable<string>;
  /** Replace a topic's view; true when it changed. */
  updateView(topic: string, peers: readonly string[], nowMs: number): boolean;
  /** A topic's view changed (durable topics catch up from new peers). */
  viewChanged(topic: string): void;
  /** The local patterns. */
  patterns(): Iterable<string>;
  joinTopic(topic: string): void;
  /** Run the Plumtree core after a change. */
  drive(): void;
}

/** See the file comment. */
export class DirectorySync {
  private readonly stalePulls = new Map<string, number>();
  /** The newest digest seen of each stale member (meta or ack payload). */
  private readonly staleDigests = new Map<string, Uint8Array>();
  /** Nodes whose entry the broadcast being applied changed (see applyBroadcast). */
  private readonly changedByBroadcast: string[] = [];
  private collectChanges = false;
  private staleTimer: NodeJS.Timeout | undefined;
  private refreshQueued = false;
  private announceQueued = false;

  constructor(private readonly host: DirectorySyncHost) {
    host.directory.onChange((node) => {
      if (this.collectChanges) this.changedByBroadcast.push(node);
      if (node === host.name) this.scheduleAnnounce();
      this.scheduleRefresh();
    });
  }

  /**
   * Apply a directory entry broadcast, and relay it when it was news. memberlist's user
   * broadcasts are sent only by the node that queued them, `retransmitMult * log10(n + 1)` times
   * (2 in the local profile): without relaying (as Serf does for its events) an entry reaches a
   * few members and the rest wait for a push-pull. Relaying only what changed this node's
   * directory stops the epidemic once everyone has the version; the broadcast name
   * (`topics:<node>`) lets a newer version replace an older one in every queue.
   */
  applyBroadcast(payload: Uint8Array): void {
    this.changedByBroadcast.length = 0;
    this.collectChanges = true;
    try {
      this.host.directory.applyEntry(payload);
    } finally {
      this.collectChanges = false;
    }
    const changed = this.changedByBroadcast;
    const swim = this.host.swim();
    if (changed.length !== 1 || changed[0] === this.host.name || swim === undefined) return;
    if (swim.isClosed) return;
    try {
      swim.queueBroadcast(payload, { name: `topics:${changed[0]}` });
    } catch {
      // Larger than a packet: it could not have arrived as a broadcast in the first place.
    }
  }

  /** Broadcast this node's entry, publish its digest as meta and save its subscriptions. */
  announce(): void {
    const swim = this.host.swim();
    if (!this.host.life.started || this.host.life.closed || swim === undefined) return;
    if (swim.isClosed) return;
    const directory = this.host.directory;
    try {
      swim.queueBroadcast(directory.encodeLocalEntry(), { name: `topics:${this.host.name}` });
    } catch {
      // Larger than a packet: peers learn the entry through the digest and push-pull.
    }
    swim.updateMeta(directory.digest());
    this.host.saveSubscriptions(directory.localSubscriptions());
  }

  /**
   * A member's digest (its meta, or its last probe ack): when it announces a directory version
   * newer than ours, pull the member's state if its broadcast has not arrived soon.
   */
  checkStale(name: string, digest: Uint8Array): void {
    if (digest.length === 0 || !this.host.directory.isStale(name, digest)) return;
    if (!this.stalePulls.has(name)) this.stalePulls.set(name, 0);
    this.staleDigests.set(name, digest);
    this.staleTimer ??= setTimeout(() => this.pullStale(), STALE_PULL_DELAY_MS);
  }

  /** Recompute the views after the current turn (coalesced). */
  scheduleRefresh(): void {
    if (this.refreshQueued) return;
    this.refreshQueued = true;
    queueMicrotask(() => {
      this.refreshQueued = false;
      this.refresh();
    });
  }

  /** Recompute every topic's view, tell the core, and join topics new to local patterns. */
  refresh(): void {
    const host = this.host;
    if (!host.life.started || host.life.closed) return;
    const now = Date.now();
    for (const topic of host.viewTopics()) {
      if (host.updateView(topic, host.subscribersOf(topic), now)) host.viewChanged(topic);
    }
    if (!host.life.leaving) {
      for (const pattern of host.patterns()) {
        for (const t of host.directory.knownTopics()) {
          if (topicMatches(pattern, t)) host.joinTopic(t);
        }
      }
    }
    host.drive();
  }

  /** Stop the stale-pull timer (the node closed). */
  close(): void {
    if (this.staleTimer !== undefined) clearTimeout(this.staleTimer);
    this.staleTimer = undefined;
  }

  private scheduleAnnounce(): void {
    if (this.announceQueued) return;
    this.announceQueued = true;
    queueMicrotask(() => {
      this.announceQueued = false;
      this.announce();
    });
  }

  private pullStale(): void {
    this.staleTimer = undefined;
    const swim = this.host.swim();
    if (this.host.life.stopping || swim === undefined) return;
    const now = Date.now();
    for (const [name, lastPullMs] of this.stalePulls) {
      const m = swim.member(name);
      const latest = this.staleDigests.get(name);
      if (
        m === undefined ||
        m.state === 'dead' ||
        m.state === 'left' ||
        latest === undefined ||
        !this.host.directory.isStale(name, latest)
      ) {
        this.stalePulls.delete(name);
        this.staleDigests.delete(name);
        continue;
      }
      if (now - lastPullMs < STALE_PULL_MIN_GAP_MS) continue;
      this.stalePulls.set(name, now);
      // A push-pull with the member: its state carries its own newest entry.
      swim.join([m.address]).catch(() => undefined);
    }
    if (this.stalePulls.size > 0) {
      this.staleTimer = setTimeout(() => this.pullStale(), STALE_PULL_DELAY_MS);
    }
  }
}
