/**
 * Plumtree (Leitão, Pereira, Rodrigues, "Epidemic Broadcast Trees", SRDS 2007), one tree per
 * topic, sans-IO.
 *
 * The core never touches a socket, a timer or `Math.random()`: time comes in as `nowMs`,
 * randomness from the injected {@link Rng}. It has four kinds of methods (quinn-proto style):
 * - getters: `stats()`, `counters`, `topics()`, `isSubscribed()`;
 * - inputs: `handleMessage(from, msg, nowMs)`, `handleTimeout(nowMs)`;
 * - commands: `subscribe`, `unsubscribe`, `broadcast`, `inject`, `demotePeer`, `peerDown`,
 *   `neighbourDown`, `peerUp`, `recordRtt`;
 * - outputs: `pollTransmit()`, `pollEvent()`, `pollTimeout()`.
 *
 * Polling order after every input or command: drain `pollTransmit()` until undefined, then
 * `pollEvent()` until undefined, then read `pollTimeout()` and arm the shell's single timer for
 * it; when it fires call `handleTimeout(now)` and poll again.
 *
 * Timer table (one earliest deadline out of three sources):
 * - IHAVE flush, per topic: `ihaveIntervalMs` after the first announcement of a batch, and
 *   after a flush while announcements are left to repeat (`ihaveRepeats`);
 * - missing-message timers, per id: the first GRAFT `graftTimeoutMs` after the first IHAVE,
 *   then retries to the next announcer after `min(graftRetryTimeoutMs * 2^(n-1), graftBackoffMaxMs)`;
 * - maintenance: cache and seen-set expiry every `maintenanceIntervalMs` while they hold entries.
 *
 * Peer input never throws: unknown topics, oversized payloads and duplicates are counted.
 */
import { PlumtreeConfig } from '../config/plumtree-config.js';
import { randomInt } from '@plumtree/common';
import {
  FrameType,
  messageKey,
  type GossipMessage,
  type GraftMessage,
  type IHaveMessage,
  type MessageId,
  type PlumtreeEvent,
  type PlumtreeMessage,
  type PruneMessage,
  type Rng,
  type TopicView,
  type Transmit,
} from '../types.js';
import { DeadlineHeap } from './deadline-heap.js';
import { MessageTooLargeError, NotSubscribedError } from './errors.js';
import { MessageCache } from './message-cache.js';
import { OutputQueue } from './output-queue.js';
import { SeenSet } from './seen-set.js';
import { TokenBucket } from './token-bucket.js';
import { TopicTree, type FrameCounters, type PendingAnnouncement } from './topic-tree.js';

/** Options of a {@link Plumtree} core. */
export interface PlumtreeOptions {
  /** This node's name, as peers and the membership layer know it. */
  readonly self: string;
  /** Incarnation of this node's ids (start time or persisted counter): ids stay unique across restarts. */
  readonly epoch: number;
  readonly rng: Rng;
  /** A validated configuration (`PlumtreeConfig.lan()`, `resolvePlumtreeConfig(...)`). */
  readonly config: PlumtreeConfig;
  /** Time of construction; starts the rate limiter clocks. Default 0. */
  readonly nowMs?: number;
}

/** Per-topic statistics. */
export interface TopicStats {
  readonly topic: string;
  readonly eager: number;
  readonly lazy: number;
  readonly eagerPeers: readonly string[];
  readonly lazyPeers: readonly string[];
  /** Missing ids with a GRAFT timer running. */
  readonly pendingGrafts: number;
  readonly delivered: number;
  readonly duplicates: number;
  readonly sent: Readonly<FrameCounters>;
  readonly received: Readonly<FrameCounters>;
}

/** Node-wide counters of the core. */
export interface PlumtreeCounters {
  delivered: number;
  duplicates: number;
  broadcasts: number;
  graftsServed: number;
  graftsRateLimited: number;
  /** GRAFT for ids no longer cached. */
  graftsMissed: number;
  graftsFailed: number;
  /** Optimisation swaps (lazy path shorter by >= optimizationThreshold hops). */
  optimizations: number;
  /** Optimisation swaps skipped because the tree swapped less than `optimizationCooldownMs` ago. */
  optimizationsThrottled: number;
  /** Frames for topics this node does not subscribe to (dropped). */
  unsubscribedFrames: number;
  /** Payloads above maxMessageSize received (dropped). */
  oversizedDropped: number;
  /** Link requests refused because the eager set was at maxEagerPeers. */
  eagerRefused: number;
}

interface Announcer {
  readonly peer: string;
  readonly hops: number;
}

/** A missing id: announced by IHAVE, not yet received. */
interface Missing {
  readonly topic: string;
  readonly id: MessageId;
  readonly announcers: Announcer[];
  /** Index of the next announcer to GRAFT. */
  next: number;
  /** GRAFTs sent so far. */
  attempts: number;
  deadlineMs: number;
}

const RECENTLY_DOWN_CAP = 256;

const KEY = Symbol('plumtree.topicKey');

/**
 * The seen/cache key of an id within a topic, memoised on the id object: an id object belongs to
 * one frame (or, in the simulator, one message shared by every node), so it is computed once.
 */
function topicKey(topic: string, id: MessageId): string {
  const holder = id as MessageId & { [KEY]?: string };
  let key = holder[KEY];
  if (key === undefined) {
    key = `${topic}\u0001${messageKey(id)}`;
    // Non-enumerable: ids handed to the application stay plain { origin, epoch, seq }.
    Object.defineProperty(holder, KEY, { value: key });
  }
  return key;
}

/**
 * The Plumtree protocol for every topic a node subscribes to. See the file header for the
 * polling contract and the timer table.
 */
export class Plumtree {
  readonly self: string;
  readonly config: PlumtreeConfig;
  readonly counters: PlumtreeCounters = {
    delivered: 0,
    duplicates: 0,
    broadcasts: 0,
    graftsServed: 0,
    graftsRateLimited: 0,
    graftsMissed: 0,
    graftsFailed: 0,
    optimizations: 0,
    optimizationsThrottled: 0,
    unsubscribedFrames: 0,
    oversizedDropped: 0,
    eagerRefused: 0,
  };

  private readonly epoch: number;
  private readonly rng: Rng;
  private readonly trees = new Map<string, TopicTree>();
  private readonly cache: MessageCache;
  private readonly seen: SeenSet;
  private readonly missing = new Map<string, Missing>();
  private readonly graftTimers = new DeadlineHeap<string>();
  private readonly flushTimers = new DeadlineHeap<string>();
  private maintenanceAtMs: number | undefined;
  private readonly graftBuckets = new Map<string, TokenBucket>();
  private readonly rtt = new Map<string, number>();
  /**
   * Peers reported down, most recent last, at most {@link RECENTLY_DOWN_CAP}. The view is
   * authoritative; this only covers the moment between `peerDown` and the view's update, so a
   * refill never picks the peer that just failed.
   */
  private readonly recentlyDown = new Set<string>();
  private readonly transmits = new OutputQueue<Transmit>();
  private readonly events = new OutputQueue<PlumtreeEvent>();

  constructor(options: PlumtreeOptions) {
    this.self = options.self;
    this.epoch = options.epoch;
    this.rng = options.rng;
    this.config = options.config;
    this.cache = new MessageCache(this.config.messageCacheTtlMs, this.config.messageCacheMaxSize);
    this.seen = new SeenSet(
      this.config.seenTtlMs,
      this.config.seenSoftCap,
      this.config.seenHardCap,
    );
  }

  // ---------------------------------------------------------------- getters

  /** Topics this node subscribes to. */
  topics(): string[] {
    return [...this.trees.keys()];
  }

  isSubscribed(topic: string): boolean {
    return this.trees.has(topic);
  }

  /** Statistics of one topic, or undefined when not subscribed. */
  stats(topic: string): TopicStats | undefined {
    const t = this.trees.get(topic);
    if (t === undefined) return undefined;
    let pending = 0;
    for (const m of this.missing.values()) if (m.topic === topic) pending++;
    return {
      topic,
      eager: t.eager.size,
      lazy: t.lazy.size,
      eagerPeers: [...t.eager],
      lazyPeers: [...t.lazy],
      pendingGrafts: pending,
      delivered: t.delivered,
      duplicates: t.duplicates,
      sent: { ...t.sent },
      received: { ...t.received },
    };
  }

  /** Sizes of the node-wide structures. */
  sizes(): { cache: number; seen: number; missing: number; rateLimitedPeers: number } {
    return {
      cache: this.cache.size,
      seen: this.seen.size,
      missing: this.missing.size,
      rateLimitedPeers: this.graftBuckets.size,
    };
  }

  /** Whether `peer` is an eager peer of `topic` (for tests and tree views). */
  isEager(topic: string, peer: string): boolean {
    return this.trees.get(topic)?.eager.has(peer) ?? false;
  }

  /** Whether `peer` is a lazy peer of `topic`. */
  isLazy(topic: string, peer: string): boolean {
    return this.trees.get(topic)?.lazy.has(peer) ?? false;
  }

  // ---------------------------------------------------------------- outputs

  /** Next message to send, or undefined. Drain after every input. */
  pollTransmit(): Transmit | undefined {
    return this.transmits.shift();
  }

  /** Next event, or undefined. Drain after the transmits. */
  pollEvent(): PlumtreeEvent | undefined {
    return this.events.shift();
  }

  /** Earliest deadline (absolute ms), or undefined when no timer runs. */
  pollTimeout(): number | undefined {
    let t = this.maintenanceAtMs;
    const g = this.graftTimers.peek();
    if (g !== undefined && (t === undefined || g < t)) t = g;
    const f = this.flushTimers.peek();
    if (f !== undefined && (t === undefined || f < t)) t = f;
    return t;
  }

  // ---------------------------------------------------------------- commands

  /**
   * Join a topic's tree. As in the paper, the node opens `eagerFanout` links, all eager (the best
   * RTT of a random sample of the view), and tells each peer with a GRAFT without ids ("make me
   * eager") so links are symmetric at once. The first broadcasts PRUNE the redundant links into
   * the lazy set, which leaves a spanning tree. Subscribing again only replaces the view.
   */
  subscribe(topic: string, view: TopicView, nowMs: number): void {
    const existing = this.trees.get(topic);
    if (existing !== undefined) {
      existing.view = view;
      this.refill(existing, nowMs);
      return;
    }
    const tree = new TopicTree(topic, view);
    this.trees.set(topic, tree);
    this.refill(tree, nowMs);
  }

  /**
   * Leave a topic's tree: eager peers get a PRUNE so they stop pushing payloads at once; the
   * membership layer removes this node from the topic's view everywhere.
   */
  unsubscribe(topic: string, _nowMs: number): void {
    const tree = this.trees.get(topic);
    if (tree === undefined) return;
    for (const peer of tree.eager) this.send(tree, peer, { type: FrameType.Prune, topic });
    this.trees.delete(topic);
    for (const [key, m] of this.missing) if (m.topic === topic) this.missing.delete(key);
  }

  /** A peer failed or left (learned from membership): remove it from every topic. */
  peerDown(peer: string, nowMs: number): void {
    this.recentlyDown.delete(peer);
    this.recentlyDown.add(peer);
    if (this.recentlyDown.size > RECENTLY_DOWN_CAP) {
      this.recentlyDown.delete(this.recentlyDown.values().next().value as string);
    }
    for (const tree of this.trees.values()) this.removeNeighbour(tree, peer, nowMs);
    this.graftBuckets.delete(peer);
    this.rtt.delete(peer);
  }

  /** `peer` no longer belongs to `topic` (it unsubscribed): remove it from that tree only. */
  neighbourDown(topic: string, peer: string, nowMs: number): void {
    const tree = this.trees.get(topic);
    if (tree !== undefined) this.removeNeighbour(tree, peer, nowMs);
  }

  /** A peer (re)appeared in membership: trees below their target degree may take it. */
  peerUp(peer: string, nowMs: number): void {
    this.recentlyDown.delete(peer);
    for (const tree of this.trees.values()) {
      if (tree.degree < this.targetDegree) this.refill(tree, nowMs);
    }
  }

  /** A round-trip time measured by the membership layer (SWIM acks); used to pick eager peers. */
  recordRtt(peer: string, rttMs: number): void {
    const prev = this.rtt.get(peer);
    // EWMA, alpha 0.3 as the reference's peer scoring.
    this.rtt.set(peer, prev === undefined ? rttMs : prev + 0.3 * (rttMs - prev));
  }

  /**
   * Originate a message on a subscribed topic: deliver it locally (hops 0), GOSSIP it to the eager
   * peers (hops 1), queue it for the lazy peers' IHAVE. Returns its id.
   * @throws MessageTooLargeError when the payload exceeds `maxMessageSize`.
   * @throws NotSubscribedError when the node does not subscribe to the topic.
   */
  broadcast(
    topic: string,
    payload: Uint8Array,
    nowMs: number,
    opts: { headers?: Readonly<Record<string, string>>; publishedAtMs?: number } = {},
  ): MessageId {
    const tree = this.originTree(topic, payload);
    const id: MessageId = { origin: this.self, epoch: this.epoch, seq: ++tree.seq };
    this.counters.broadcasts++;
    this.accept(tree, ownMessage(topic, id, payload, opts), this.self, nowMs);
    return id;
  }

  /**
   * Originate a message under an id minted elsewhere: a runtime that mints its own ids (so they
   * survive leaving and re-joining a topic), or a subscriber injecting a message handed off by a
   * publisher that does not subscribe to the topic. Delivered locally (hops 0, `from` as the
   * delivery's sender) and pushed on like {@link broadcast}. Returns false, and does nothing,
   * when the id was already seen: a retried hand-off must not be broadcast twice.
   * @throws MessageTooLargeError when the payload exceeds `maxMessageSize`.
   * @throws NotSubscribedError when the node does not subscribe to the topic.
   */
  inject(
    topic: string,
    id: MessageId,
    payload: Uint8Array,
    nowMs: number,
    opts: {
      headers?: Readonly<Record<string, string>>;
      publishedAtMs?: number;
      /** Who handed the message over; default this node. Never sent the message back. */
      from?: string;
    } = {},
  ): boolean {
    const tree = this.originTree(topic, payload);
    if (this.seen.has(topicKey(topic, id))) {
      this.counters.duplicates++;
      return false;
    }
    this.counters.broadcasts++;
    // A missing-message timer for this id (announced before the hand-off arrived) is moot now.
    this.missing.delete(topicKey(topic, id));
    this.accept(tree, ownMessage(topic, id, payload, opts), opts.from ?? this.self, nowMs);
    return true;
  }

  /** The tree a message originates in; throws for an oversized payload or an unknown topic. */
  private originTree(topic: string, payload: Uint8Array): TopicTree {
    if (payload.length > this.config.maxMessageSize) {
      throw new MessageTooLargeError(payload.length, this.config.maxMessageSize);
    }
    const tree = this.trees.get(topic);
    if (tree === undefined) throw new NotSubscribedError(topic);
    return tree;
  }

  /**
   * Make an eager peer of `topic` lazy and tell it with a PRUNE, e.g. because its send queue is
   * full (backpressure): it keeps receiving IHAVEs and recovers its eager link through GRAFT
   * once it misses something. Returns false when `peer` was not eager (nothing is sent then).
   */
  demotePeer(topic: string, peer: string, _nowMs: number): boolean {
    const tree = this.trees.get(topic);
    if (tree === undefined || !tree.eager.has(peer)) return false;
    this.demote(tree, peer);
    this.send(tree, peer, { type: FrameType.Prune, topic });
    this.events.push({ type: 'pruneSent', topic, peer });
    return true;
  }

  // ---------------------------------------------------------------- inputs

  /** A message from a peer. Never throws on peer input. */
  handleMessage(from: string, msg: PlumtreeMessage, nowMs: number): void {
    if (from === this.self) return;
    const tree = this.trees.get(msg.topic);
    if (tree === undefined) {
      this.counters.unsubscribedFrames++;
      return;
    }
    switch (msg.type) {
      case FrameType.Gossip:
        tree.received.gossip++;
        this.onGossip(tree, from, msg, nowMs);
        break;
      case FrameType.IHave:
        tree.received.ihave++;
        this.onIHave(tree, from, msg, nowMs);
        break;
      case FrameType.Graft:
        tree.received.graft++;
        this.onGraft(tree, from, msg, nowMs);
        break;
      case FrameType.Prune:
        tree.received.prune++;
        this.onPrune(tree, from);
        break;
    }
  }

  /** Run every timer due at `nowMs`. */
  handleTimeout(nowMs: number): void {
    // IHAVE batches.
    this.flushTimers.forEachDue(nowMs, (topic) => {
      const tree = this.trees.get(topic);
      if (tree !== undefined && tree.flushAtMs !== undefined && tree.flushAtMs <= nowMs)
        this.flush(tree, nowMs);
    });
    // Missing-message timers; GRAFTs due together to the same peer share one frame per topic.
    let grafts: Map<string, MessageId[]> | undefined;
    this.graftTimers.forEachDue(nowMs, (key) => {
      const m = this.missing.get(key);
      if (m === undefined || m.deadlineMs > nowMs) return; // delivered meanwhile, or re-armed
      const target = this.nextGraftTarget(key, m, nowMs);
      if (target === undefined) return;
      grafts ??= new Map();
      const gk = `${m.topic}\u0001${target}`;
      let ids = grafts.get(gk);
      if (ids === undefined) grafts.set(gk, (ids = []));
      ids.push(m.id);
    });
    if (grafts !== undefined) {
      for (const [gk, ids] of grafts) {
        const sep = gk.indexOf('\u0001');
        const topic = gk.slice(0, sep);
        const peer = gk.slice(sep + 1);
        const tree = this.trees.get(topic);
        if (tree === undefined) continue;
        this.promote(tree, peer);
        this.send(tree, peer, { type: FrameType.Graft, topic, ids });
        for (const id of ids) this.events.push({ type: 'graftSent', topic, peer, id });
      }
    }
    // Maintenance.
    if (this.maintenanceAtMs !== undefined && this.maintenanceAtMs <= nowMs) {
      this.cache.expire(nowMs);
      this.seen.expire(nowMs);
      this.maintenanceAtMs =
        this.cache.size > 0 || this.seen.size > 0
          ? nowMs + this.config.maintenanceIntervalMs
          : undefined;
    }
  }

  // ---------------------------------------------------------------- protocol rules

  private onGossip(tree: TopicTree, from: string, msg: GossipMessage, nowMs: number): void {
    if (msg.payload.length > this.config.maxMessageSize) {
      this.counters.oversizedDropped++;
      return;
    }
    const key = topicKey(tree.topic, msg.id);
    if (this.seen.has(key)) {
      // Redundant path: PRUNE it (paper: the sender moves to lazy on both sides).
      this.counters.duplicates++;
      tree.duplicates++;
      if (this.config.flood) return; // flooding keeps every redundant path
      this.demote(tree, from);
      this.send(tree, from, { type: FrameType.Prune, topic: tree.topic });
      this.events.push({ type: 'pruneSent', topic: tree.topic, peer: from });
      return;
    }
    // Symmetric links: whoever pushes a payload to us is our eager peer.
    this.promote(tree, from);
    const m = this.missing.get(key);
    if (m === undefined) {
      this.accept(tree, msg, from, nowMs);
      return;
    }
    this.missing.delete(key);
    // Announcers already have it: pushing it to them would only earn a PRUNE.
    this.accept(tree, msg, from, nowMs, m.announcers);
    // Paper's optimisation (after the push, as in the paper, so the new eager peer is not sent a
    // copy it announced): a lazy path that announced the id earlier and is shorter by at least
    // `optimizationThreshold` hops replaces the eager path it came by; at most one swap per
    // `optimizationCooldownMs` per tree, so publishers with different shortest paths cannot keep
    // turning the shared tree over.
    const best = bestAnnouncer(m.announcers);
    if (
      best !== undefined &&
      best.peer !== from &&
      msg.hops - best.hops >= this.config.optimizationThreshold
    ) {
      if (nowMs - tree.lastSwapAtMs >= this.config.optimizationCooldownMs) {
        tree.lastSwapAtMs = nowMs;
        this.swap(tree, best.peer, from);
      } else {
        this.counters.optimizationsThrottled++;
      }
    }
  }

  /** Deliver a new message and push it on: GOSSIP to eager peers, IHAVE batch for lazy ones. */
  private accept(
    tree: TopicTree,
    msg: GossipMessage,
    from: string,
    nowMs: number,
    holders?: readonly Announcer[],
  ): void {
    const key = topicKey(tree.topic, msg.id);
    this.seen.add(key, { atMs: nowMs, hops: msg.hops, from });
    this.cache.put(key, msg, nowMs);
    if (this.maintenanceAtMs === undefined)
      this.maintenanceAtMs = nowMs + this.config.maintenanceIntervalMs;
    this.counters.delivered++;
    tree.delivered++;
    this.events.push({
      type: 'delivered',
      topic: tree.topic,
      id: msg.id,
      payload: msg.payload,
      hops: msg.hops,
      from,
      publishedAtMs: msg.publishedAtMs,
      ...(msg.headers !== undefined ? { headers: msg.headers } : {}),
    });
    const next = msg.hops + 1;
    if (tree.eager.size > (tree.eager.has(from) ? 1 : 0)) {
      const out: GossipMessage = { ...msg, hops: next };
      for (const peer of tree.eager) {
        if (peer !== from && (holders === undefined || !holders.some((a) => a.peer === peer))) {
          this.send(tree, peer, out);
        }
      }
    }
    // Repeats go to eager peers too: with them, a node without lazy peers announces as well.
    if (tree.lazy.size > 0 || this.config.ihaveRepeats > 0)
      this.announce(tree, { id: msg.id, hops: next, from }, nowMs);
  }

  private onIHave(tree: TopicTree, from: string, msg: IHaveMessage, nowMs: number): void {
    // Symmetric links: an announcer we do not know becomes a lazy neighbour.
    if (!tree.isNeighbour(from) && tree.lazy.size < this.config.lazyFanout) tree.lazy.add(from);
    for (const entry of msg.entries) {
      const key = topicKey(tree.topic, entry.id);
      // Already delivered: nothing to do. (The optimisation only acts when the IHAVE arrived
      // first, as in the paper: then the lazy path is both shorter and faster. Acting on later
      // IHAVEs too was measured: no LDH gain, and link flapping between sources.)
      if (this.seen.has(key)) continue;
      let m = this.missing.get(key);
      if (m === undefined) {
        m = {
          topic: tree.topic,
          id: entry.id,
          announcers: [],
          next: 0,
          attempts: 0,
          deadlineMs: nowMs + this.config.graftTimeoutMs,
        };
        this.missing.set(key, m);
        this.graftTimers.push(m.deadlineMs, key);
      }
      if (!m.announcers.some((a) => a.peer === from))
        m.announcers.push({ peer: from, hops: entry.hops });
      // A fresh announcement renews the right to one more GRAFT. A peer whose answer did not fit
      // a full queue announces the id again (the runtime's backpressure), possibly after our
      // last retry went out: without this the id would be given up while the peer still has it.
      // It ends when announcers stop announcing, at the latest when their caches expire.
      if (m.attempts >= this.config.graftMaxRetries) m.attempts = this.config.graftMaxRetries - 1;
    }
  }

  private onGraft(tree: TopicTree, from: string, msg: GraftMessage, nowMs: number): void {
    if (!tree.eager.has(from)) {
      if (tree.eager.size >= this.config.maxEagerPeers) {
        // Full: keep the link lazy on both sides.
        this.counters.eagerRefused++;
        if (!tree.lazy.has(from) && tree.lazy.size < this.config.lazyFanout) tree.lazy.add(from);
        this.send(tree, from, { type: FrameType.Prune, topic: tree.topic });
      } else {
        this.promote(tree, from);
      }
    }
    if (msg.ids.length === 0) return;
    let bucket = this.graftBuckets.get(from);
    if (bucket === undefined) {
      bucket = new TokenBucket(
        this.config.graftRateLimitPerSecond,
        this.config.graftRateLimitBurst,
        nowMs,
      );
      this.graftBuckets.set(from, bucket);
    }
    for (const id of msg.ids) {
      const cached = this.cache.get(topicKey(tree.topic, id), nowMs);
      if (cached === undefined) {
        this.counters.graftsMissed++;
        continue;
      }
      if (!bucket.tryTake(nowMs)) {
        this.counters.graftsRateLimited++;
        continue;
      }
      this.counters.graftsServed++;
      this.send(tree, from, { ...cached, hops: cached.hops + 1 });
    }
  }

  private onPrune(tree: TopicTree, from: string): void {
    if (this.config.flood) return;
    if (tree.eager.has(from)) this.demote(tree, from);
    else if (!tree.lazy.has(from) && tree.lazy.size < this.config.lazyFanout) tree.lazy.add(from);
  }

  /** Make `closer` eager (GRAFT without ids) and `farther` lazy (PRUNE). */
  private swap(tree: TopicTree, closer: string, farther: string): void {
    this.counters.optimizations++;
    this.promote(tree, closer);
    this.send(tree, closer, { type: FrameType.Graft, topic: tree.topic, ids: [] });
    this.events.push({ type: 'graftSent', topic: tree.topic, peer: closer });
    this.demote(tree, farther);
    this.send(tree, farther, { type: FrameType.Prune, topic: tree.topic });
    this.events.push({ type: 'pruneSent', topic: tree.topic, peer: farther });
  }

  /**
   * Pick the announcer for the next GRAFT of a missing id and re-arm its timer, or give the id up
   * after `graftMaxRetries` GRAFTs (or when no announcer is left).
   */
  private nextGraftTarget(key: string, m: Missing, nowMs: number): string | undefined {
    const tree = this.trees.get(m.topic);
    if (
      tree === undefined ||
      m.announcers.length === 0 ||
      m.attempts >= this.config.graftMaxRetries
    ) {
      this.missing.delete(key);
      this.counters.graftsFailed++;
      this.events.push({ type: 'graftFailed', topic: m.topic, id: m.id });
      return undefined;
    }
    const target = m.announcers[m.next % m.announcers.length]!.peer;
    m.next++;
    m.attempts++;
    const c = this.config;
    m.deadlineMs =
      nowMs + Math.min(c.graftRetryTimeoutMs * 2 ** (m.attempts - 1), c.graftBackoffMaxMs);
    this.graftTimers.push(m.deadlineMs, key);
    return target;
  }

  // ---------------------------------------------------------------- lazy push

  private announce(
    tree: TopicTree,
    a: { id: MessageId; hops: number; from: string },
    nowMs: number,
  ): void {
    tree.pending.push(a);
    if (tree.pending.length >= this.config.ihaveBatchSize) this.flush(tree, nowMs);
    else this.scheduleFlush(tree, nowMs);
  }

  private scheduleFlush(tree: TopicTree, nowMs: number): void {
    if (tree.flushAtMs !== undefined) return;
    tree.flushAtMs = nowMs + this.config.ihaveIntervalMs;
    this.flushTimers.push(tree.flushAtMs, tree.topic);
  }

  /**
   * Send the pending batch to every lazy peer (paper: lazy push goes to all lazy peers; sending to
   * a random subset, as the reference crate does, leaves a node cut off from the eager tree
   * without any announcement now and then), never announcing an id back to where it came from;
   * then the announcements left to repeat (`ihaveRepeats`) to every neighbour, eager ones too (an
   * eager link carries a single GOSSIP copy and no announcement), at most `ihaveBatchSize` ids
   * per frame.
   */
  private flush(tree: TopicTree, nowMs: number): void {
    const fresh = tree.pending;
    const again = tree.repeats;
    tree.pending = [];
    tree.repeats = [];
    tree.flushAtMs = undefined;
    this.sendIHaves(tree, fresh, tree.lazy);
    for (let i = 0; i < again.length; i += this.config.ihaveBatchSize) {
      const chunk = again.slice(i, i + this.config.ihaveBatchSize);
      this.sendIHaves(tree, chunk, tree.lazy);
      this.sendIHaves(tree, chunk, tree.eager);
    }
    const repeats = this.config.ihaveRepeats;
    if (repeats === 0) return;
    for (const a of again) if (a.left > 1) tree.repeats.push({ ...a, left: a.left - 1 });
    for (const a of fresh) tree.repeats.push({ ...a, left: repeats });
    if (tree.repeats.length > 0) this.scheduleFlush(tree, nowMs);
  }

  /** One IHAVE of `batch` to each of `peers`, without the ids that came from that peer. */
  private sendIHaves(
    tree: TopicTree,
    batch: readonly PendingAnnouncement[],
    peers: ReadonlySet<string>,
  ): void {
    if (batch.length === 0) return;
    // One IHAVE object shared by every peer that may hear about the whole batch.
    let shared: IHaveMessage | undefined;
    for (const peer of peers) {
      if (batch.some((a) => a.from === peer)) {
        const entries = batch
          .filter((a) => a.from !== peer)
          .map((a) => ({ id: a.id, hops: a.hops }));
        if (entries.length > 0)
          this.send(tree, peer, { type: FrameType.IHave, topic: tree.topic, entries });
      } else {
        shared ??= {
          type: FrameType.IHave,
          topic: tree.topic,
          entries: batch.map((a) => ({ id: a.id, hops: a.hops })),
        };
        this.send(tree, peer, shared);
      }
    }
  }

  // ---------------------------------------------------------------- neighbours

  private promote(tree: TopicTree, peer: string): void {
    if (peer === this.self || tree.eager.has(peer)) return;
    const wasLazy = tree.lazy.delete(peer);
    tree.eager.add(peer);
    this.events.push({ type: 'eagerPromotion', topic: tree.topic, peer });
    // The pending IHAVE batch goes to lazy peers only: a lazy peer promoted before the flush
    // would never hear of the messages in it (they were accepted while it was lazy, so it got no
    // GOSSIP either). Announce them to it now.
    if (wasLazy && tree.pending.length > 0) {
      const entries = [];
      for (const a of tree.pending) if (a.from !== peer) entries.push({ id: a.id, hops: a.hops });
      if (entries.length > 0)
        this.send(tree, peer, { type: FrameType.IHave, topic: tree.topic, entries });
    }
  }

  private demote(tree: TopicTree, peer: string): void {
    if (!tree.eager.delete(peer)) {
      if (!tree.lazy.has(peer) && tree.lazy.size < this.config.lazyFanout) tree.lazy.add(peer);
      return;
    }
    if (tree.lazy.size < this.config.lazyFanout) tree.lazy.add(peer);
    this.events.push({ type: 'lazyDemotion', topic: tree.topic, peer });
  }

  private removeNeighbour(tree: TopicTree, peer: string, nowMs: number): void {
    const was = tree.eager.delete(peer) || tree.lazy.delete(peer);
    if (!was) return;
    for (const m of this.missing.values()) {
      if (m.topic !== tree.topic) continue;
      const i = m.announcers.findIndex((a) => a.peer === peer);
      if (i >= 0) {
        m.announcers.splice(i, 1);
        if (m.next > i) m.next--;
      }
    }
    this.refill(tree, nowMs);
  }

  /** Links a tree keeps when peers fail: what a join leaves on average (own links plus as many inbound). */
  private get targetDegree(): number {
    return 2 * this.config.eagerFanout;
  }

  /**
   * On join: open `eagerFanout` eager links. Later, when peers fail: bring the tree back to
   * `2 * eagerFanout` links with lazy links (PRUNE from a non-neighbour = "keep me lazy"), plus
   * one eager link if the node has no eager peer left. A converged tree is not disturbed:
   * redundant eager links would only be pruned again, and a subtree cut off by a failure is
   * repaired through IHAVE/GRAFT within one graft timeout.
   */
  private refill(tree: TopicTree, _nowMs: number): void {
    const c = this.config;
    if (c.flood) {
      // Every peer of the view eager, without GRAFT: every other node does the same.
      for (const peer of this.sampleView(tree, tree.view.size)) this.promote(tree, peer);
      return;
    }
    const young = tree.delivered === 0 && tree.lazy.size === 0;
    const eagerWanted = young ? c.eagerFanout - tree.eager.size : tree.eager.size === 0 ? 1 : 0;
    if (eagerWanted > 0) {
      for (const peer of this.pickEager(tree, eagerWanted)) {
        this.promote(tree, peer);
        this.send(tree, peer, { type: FrameType.Graft, topic: tree.topic, ids: [] });
      }
    }
    if (young) return;
    const lazyWanted = Math.min(this.targetDegree - tree.degree, c.lazyFanout - tree.lazy.size);
    if (lazyWanted > 0) {
      for (const peer of this.sampleView(tree, lazyWanted)) {
        tree.lazy.add(peer);
        this.send(tree, peer, { type: FrameType.Prune, topic: tree.topic });
      }
    }
  }

  /**
   * Eager candidates: a random sample of twice the need from the view, ranked by measured RTT
   * (unmeasured peers after measured ones, in sample order). Sampling first keeps the eager graph
   * random (small-world, shallow trees) while RTT breaks the choice towards close peers.
   */
  private pickEager(tree: TopicTree, need: number): string[] {
    const sample = this.sampleView(tree, need * 2);
    if (sample.length <= need) return sample;
    const rtt = this.rtt;
    const ranked = sample
      .map((peer, i) => ({ peer, i, r: rtt.get(peer) ?? Number.POSITIVE_INFINITY }))
      .sort((a, b) => a.r - b.r || a.i - b.i);
    return ranked.slice(0, need).map((x) => x.peer);
  }

  /** Up to `count` distinct random peers of the view that are not self and not yet neighbours. */
  private sampleView(tree: TopicTree, count: number): string[] {
    const view = tree.view;
    const out: string[] = [];
    if (count <= 0 || view.size === 0) return out;
    const picked = new Set<string>();
    // Random probes first (cheap on large views), then a scan from a random offset so small or
    // mostly unavailable views still yield every candidate.
    const probes = Math.min(view.size, 4 * count + 8);
    for (let k = 0; k < probes && out.length < count; k++) {
      const p = view.at(randomInt(this.rng, view.size));
      if (p !== undefined && this.eligible(tree, p) && !picked.has(p)) {
        picked.add(p);
        out.push(p);
      }
    }
    if (out.length < count && view.size <= 4096) {
      const start = randomInt(this.rng, view.size);
      for (let k = 0; k < view.size && out.length < count; k++) {
        const p = view.at((start + k) % view.size);
        if (p !== undefined && this.eligible(tree, p) && !picked.has(p)) {
          picked.add(p);
          out.push(p);
        }
      }
    }
    return out;
  }

  private eligible(tree: TopicTree, p: string): boolean {
    return p !== this.self && !tree.isNeighbour(p) && !this.recentlyDown.has(p);
  }

  private send(
    tree: TopicTree,
    to: string,
    message: GossipMessage | IHaveMessage | GraftMessage | PruneMessage,
  ): void {
    switch (message.type) {
      case FrameType.Gossip:
        tree.sent.gossip++;
        break;
      case FrameType.IHave:
        tree.sent.ihave++;
        break;
      case FrameType.Graft:
        tree.sent.graft++;
        break;
      case FrameType.Prune:
        tree.sent.prune++;
        break;
    }
    this.transmits.push({ to, message });
  }
}

/** The announcer offering the fewest hops (first announcer on ties). */
function bestAnnouncer(announcers: readonly Announcer[]): Announcer | undefined {
  let best: Announcer | undefined;
  for (const a of announcers) if (best === undefined || a.hops < best.hops) best = a;
  return best;
}

/** A message originated here (broadcast or inject): hops 0. */
function ownMessage(
  topic: string,
  id: MessageId,
  payload: Uint8Array,
  opts: { headers?: Readonly<Record<string, string>>; publishedAtMs?: number },
): GossipMessage {
  return {
    type: FrameType.Gossip,
    topic,
    id,
    hops: 0,
    publishedAtMs: opts.publishedAtMs ?? 0,
    ...(opts.headers !== undefined ? { headers: opts.headers } : {}),
    payload,
  };
}
