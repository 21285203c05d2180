/**
 * Plumtree (Leitão, Pereira, Rodrigues, "Epidemic Broadcast Trees", SRDS 2007), one tree per
 * topic, sans-IO.
 *
 * The core never touches a socket, a timer or `Math.random()`: time comes in as `nowMs`,
 * randomness from the injected {@link Rng}. It has four kinds of methods (quinn-proto style):
 * - getters: `stats()`, `counters`, `topics()`, `isSubscribed()`, `sizes()`;
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
 *   after a flush while announcements are left to repeat (`ihaveRepeats`) (lazy-push.ts);
 * - missing-message timers, per id: the first GRAFT `graftTimeoutMs` after the first IHAVE,
 *   then retries to the next announcer after `min(graftRetryTimeoutMs * 2^(n-1), graftBackoffMaxMs)`;
 *   deferred while the id's origin still arrives in order below it (repair.ts);
 * - maintenance: cache and id-memory expiry every `maintenanceIntervalMs` while they hold
 *   entries (id-memory.ts).
 *
 * Frames: the core emits GOSSIP, IHAVE, GRAFT and PRUNE, each within the decoder's default
 * limits (`DEFAULT_FRAME_LIMITS`: IHAVEs and GRAFTs are split, a topic, name or header set the
 * format cannot carry is refused where it enters, a message one hop from the format's hop limit
 * is delivered but not pushed on). It takes GOSSIP_RUN frames as their messages one by one; the
 * shell builds runs from the GOSSIPs it sends one peer together.
 *
 * Parts: eager push and the protocol rules are here; lazy-push.ts batches IHAVEs, repair.ts
 * tracks missing ids and GRAFTs, tree-links.ts keeps the eager and lazy sets, id-memory.ts
 * remembers delivered ids and cached messages per origin incarnation.
 *
 * Peer input never throws: unknown topics, oversized payloads and duplicates are counted.
 */
import { utf8Length } from '@plumtree/common';
import { PlumtreeConfig } from '../config/plumtree-config.js';
import {
  FrameType,
  type GossipMessage,
  type GraftMessage,
  type MessageId,
  type PlumtreeEvent,
  type PlumtreeMessage,
  type Rng,
  type TopicView,
  type Transmit,
} from '../types.js';
import { encodedHeadersSize } from '../wire/frame-codec.js';
import { MAX_FRAME_HOPS } from '../wire/frame-limits.js';
import { CoreContext, type PlumtreeCounters } from './core-context.js';
import { DeadlineHeap } from './deadline-heap.js';
import { MessageTooLargeError, NotSubscribedError, UnencodableError } from './errors.js';
import type { Missing } from './id-stream.js';
import { LazyPush } from './lazy-push.js';
import { Repair } from './repair.js';
import { TopicTree, type FrameCounters } from './topic-tree.js';
import { TreeLinks } from './tree-links.js';

export type { PlumtreeCounters } from './core-context.js';

/** Options of a {@link Plumtree} core. */
export interface PlumtreeOptions {
  /** This node's name, as peers and the membership layer know it (at most 255 UTF-8 bytes). */
  readonly self: string;
  /** Incarnation of this node's ids (start time or persisted counter): ids stay unique across restarts. */
  readonly epoch: number;
  readonly rng: Rng;
  /** A validated configuration (`PlumtreeConfig.lan()`, `resolvePlumtreeConfig(...)`). */
  readonly config: PlumtreeConfig;
  /** Time of construction; starts the rate limiter clocks. Default 0. */
  readonly nowMs?: number;
  /**
   * Whether this node already holds `id` outside the core, e.g. in a durable topic's log (caught
   * up from a peer, or delivered in a previous life): an IHAVE of such an id is not GRAFTed, so
   * no copy comes back to be pushed on as a duplicate. A synchronous query; default none.
   */
  readonly holds?: (topic: string, id: MessageId) => boolean;
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

type DeliveredEvent = Extract<PlumtreeEvent, { type: 'delivered' }>;
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** What a message originated here carries besides topic, id and payload. */
export interface OwnOptions {
  headers?: Readonly<Record<string, string>>;
  publishedAtMs?: number;
}

/**
 * The Plumtree protocol for every topic a node subscribes to. See the file header for the
 * polling contract and the timer table.
 */
export class Plumtree {
  readonly self: string;
  readonly config: PlumtreeConfig;
  readonly counters: PlumtreeCounters;

  private readonly epoch: number;
  private readonly ctx: CoreContext;
  private readonly trees: Map<string, TopicTree>;
  private readonly flushTimers = new DeadlineHeap<TopicTree>();
  private readonly lazyPush: LazyPush;
  private readonly links: TreeLinks;
  private readonly repair: Repair;

  constructor(options: PlumtreeOptions) {
    checkStr8('self', options.self);
    this.self = options.self;
    this.epoch = options.epoch;
    this.config = options.config;
    this.ctx = new CoreContext(options.self, options.config, options.rng, options.holds);
    this.counters = this.ctx.counters;
    this.trees = this.ctx.trees;
    this.lazyPush = new LazyPush(this.ctx, (tree, at) => this.flushTimers.push(at, tree));
    this.links = new TreeLinks(this.ctx, this.lazyPush);
    this.repair = new Repair(this.ctx, (tree, peer) => this.links.promote(tree, peer));
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
    return {
      topic,
      eager: t.eager.size,
      lazy: t.lazy.size,
      eagerPeers: [...t.eager],
      lazyPeers: [...t.lazy],
      pendingGrafts: this.repair.missingOf(t),
      delivered: t.delivered,
      duplicates: t.duplicates,
      sent: { ...t.sent },
      received: { ...t.received },
    };
  }

  /**
   * Sizes of the node-wide structures: cached messages and their payload bytes, origin
   * incarnations remembered (`seen`), missing ids, peers with a GRAFT answer budget; and how
   * often their bounds evicted: cached messages before their TTL (`cacheEvictedForSize`, by
   * `messageCacheMaxSize` or `messageCacheMaxBytes`), incarnations by the seen caps.
   */
  sizes(): {
    cache: number;
    cacheBytes: number;
    seen: number;
    missing: number;
    rateLimitedPeers: number;
    cacheEvictedForSize: number;
    seenEvictedForCap: number;
  } {
    const ids = this.ctx.ids;
    return {
      cache: ids.cacheSize,
      cacheBytes: ids.cachedBytes,
      seen: ids.streams,
      missing: this.repair.missing,
      rateLimitedPeers: this.repair.rateLimitedPeers,
      cacheEvictedForSize: ids.evictedForSize,
      seenEvictedForCap: ids.evictedForCap,
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
    return this.ctx.transmits.shift();
  }

  /** Next event, or undefined. Drain after the transmits. */
  pollEvent(): PlumtreeEvent | undefined {
    return this.ctx.events.shift();
  }

  /** Earliest deadline (absolute ms), or undefined when no timer runs. */
  pollTimeout(): number | undefined {
    let t = this.ctx.maintenanceAtMs;
    const g = this.repair.nextDeadline();
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
   * @throws UnencodableError for a topic frames cannot carry (over 255 UTF-8 bytes, a lone surrogate).
   */
  subscribe(topic: string, view: TopicView, nowMs: number): void {
    const existing = this.trees.get(topic);
    if (existing !== undefined) {
      existing.view = view;
      this.links.refill(existing, nowMs);
      return;
    }
    checkStr8('topic', topic, this.ctx.limits.maxTopicBytes);
    const tree = new TopicTree(topic, view, this.ctx.ids.topic(topic));
    this.trees.set(topic, tree);
    this.links.refill(tree, nowMs);
  }

  /**
   * Leave a topic's tree: eager peers get a PRUNE so they stop pushing payloads at once; the
   * membership layer removes this node from the topic's view everywhere. The ids delivered stay
   * remembered: a re-join does not deliver them again.
   */
  unsubscribe(topic: string, _nowMs: number): void {
    const tree = this.trees.get(topic);
    if (tree === undefined) return;
    for (const peer of tree.eager) this.ctx.send(tree, peer, { type: FrameType.Prune, topic });
    this.trees.delete(topic);
    this.repair.forget(tree);
  }

  /** A peer failed or left (learned from membership): remove it from every topic. */
  peerDown(peer: string, nowMs: number): void {
    this.links.peerDown(peer);
    for (const tree of this.trees.values()) this.removeNeighbour(tree, peer, nowMs);
    this.repair.peerDown(peer);
  }

  /** `peer` no longer belongs to `topic` (it unsubscribed): remove it from that tree only. */
  neighbourDown(topic: string, peer: string, nowMs: number): void {
    const tree = this.trees.get(topic);
    if (tree !== undefined) this.removeNeighbour(tree, peer, nowMs);
  }

  /** A peer (re)appeared in membership: trees below their target degree may take it. */
  peerUp(peer: string, nowMs: number): void {
    this.links.peerUp(peer);
    for (const tree of this.trees.values()) {
      if (tree.degree < this.links.targetDegree) this.links.refill(tree, nowMs);
    }
  }

  /** A round-trip time measured by the membership layer (SWIM acks); used to pick eager peers. */
  recordRtt(peer: string, rttMs: number): void {
    this.links.recordRtt(peer, rttMs);
  }

  /**
   * Originate a message on a subscribed topic: deliver it locally (hops 0), GOSSIP it to the eager
   * peers (hops 1), queue it for the lazy peers' IHAVE. Returns its id.
   * @throws MessageTooLargeError when the payload exceeds `maxMessageSize`.
   * @throws NotSubscribedError when the node does not subscribe to the topic.
   * @throws UnencodableError for headers frames cannot carry or peers would refuse.
   */
  broadcast(topic: string, payload: Uint8Array, nowMs: number, opts: OwnOptions = {}): MessageId {
    const tree = this.originTree(topic, payload, opts);
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
   * @throws UnencodableError for an origin or headers frames cannot carry or peers would refuse.
   */
  inject(
    topic: string,
    id: MessageId,
    payload: Uint8Array,
    nowMs: number,
    opts: OwnOptions & {
      /** Who handed the message over; default this node. Never sent the message back. */
      from?: string;
    } = {},
  ): boolean {
    const tree = this.originTree(topic, payload, opts);
    checkStr8('id.origin', id.origin);
    const s = this.ctx.ids.find(tree.ids, id);
    if (s?.has(id.seq) === true) {
      this.counters.duplicates++;
      return false;
    }
    this.counters.broadcasts++;
    // A missing-message timer for this id (announced before the hand-off arrived) is moot now.
    if (s !== undefined) this.repair.arrived(s, id.seq);
    this.accept(tree, ownMessage(topic, id, payload, opts), opts.from ?? this.self, nowMs);
    return true;
  }

  /** The tree a message originates in; throws for an oversized payload or an unknown topic. */
  private originTree(topic: string, payload: Uint8Array, opts: OwnOptions): TopicTree {
    if (payload.length > this.config.maxMessageSize) {
      throw new MessageTooLargeError(payload.length, this.config.maxMessageSize);
    }
    const tree = this.trees.get(topic);
    if (tree === undefined) throw new NotSubscribedError(topic);
    if (opts.headers !== undefined) this.checkHeaders(opts.headers);
    return tree;
  }

  /** Headers the encoder takes and the decoder's limits accept. */
  private checkHeaders(headers: Readonly<Record<string, string>>): void {
    const l = this.ctx.limits;
    let size: number;
    try {
      size = encodedHeadersSize(headers);
    } catch (e) {
      throw new UnencodableError('headers', (e as Error).message);
    }
    const keys = Object.keys(headers);
    let bytes = 0;
    for (const k of keys) bytes += utf8Length(k) + utf8Length(headers[k]!);
    if (keys.length > l.maxHeaders || bytes > l.maxHeaderBytes) {
      throw new UnencodableError(
        'headers',
        `hold ${keys.length} entries of ${bytes} bytes; peers accept ${l.maxHeaders} of ${l.maxHeaderBytes} (${size} encoded)`,
      );
    }
  }

  /**
   * Make an eager peer of `topic` lazy and tell it with a PRUNE, e.g. because it is too slow to
   * keep up: it keeps receiving IHAVEs and recovers its eager link through GRAFT once it misses
   * something. Returns false when `peer` was not eager (nothing is sent then).
   */
  demotePeer(topic: string, peer: string, nowMs: number): boolean {
    const tree = this.trees.get(topic);
    if (tree === undefined || !tree.eager.has(peer)) return false;
    this.links.prune(tree, peer, nowMs);
    return true;
  }

  /**
   * `id` reached this node another way (a durable topic's catch-up): remembered, its GRAFT timer
   * cancelled, nothing delivered, cached or sent, so a later IHAVE of it GRAFTs no duplicate.
   * False when already seen or the topic is not subscribed.
   */
  markSeen(topic: string, id: MessageId, nowMs: number): boolean {
    const tree = this.trees.get(topic);
    if (tree === undefined) return false;
    const ids = this.ctx.ids;
    if (ids.seen(tree.ids, id)) return false;
    const s = ids.stream(tree.ids, topic, id, nowMs);
    s.add(id.seq, nowMs);
    this.repair.arrived(s, id.seq);
    this.ctx.scheduleMaintenance(nowMs);
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
      case FrameType.GossipRun:
        for (const m of msg.messages) {
          tree.received.gossip++;
          this.onGossip(tree, from, m, nowMs);
        }
        break;
      case FrameType.IHave:
        tree.received.ihave++;
        // Symmetric links: an announcer we do not know becomes a lazy neighbour.
        if (!tree.isNeighbour(from) && tree.lazy.size < this.config.lazyFanout) tree.lazy.add(from);
        this.repair.onIHave(tree, from, msg, nowMs);
        break;
      case FrameType.Graft:
        tree.received.graft++;
        this.onGraft(tree, from, msg, nowMs);
        break;
      case FrameType.Prune:
        tree.received.prune++;
        if (this.config.flood) break;
        this.links.demote(tree, from);
        break;
    }
  }

  /** Run every timer due at `nowMs`. */
  handleTimeout(nowMs: number): void {
    this.flushTimers.forEachDue(nowMs, (tree) => {
      if (this.trees.get(tree.topic) === tree && tree.flushAtMs !== undefined) {
        if (tree.flushAtMs <= nowMs) this.lazyPush.flush(tree, nowMs);
      }
    });
    this.repair.handleTimeout(nowMs);
    const ctx = this.ctx;
    if (ctx.maintenanceAtMs !== undefined && ctx.maintenanceAtMs <= nowMs) {
      ctx.ids.expire(nowMs);
      ctx.maintenanceAtMs = ctx.ids.isEmpty ? undefined : nowMs + this.config.maintenanceIntervalMs;
    }
  }

  // ---------------------------------------------------------------- eager push

  private onGossip(tree: TopicTree, from: string, msg: GossipMessage, nowMs: number): void {
    if (msg.payload.length > this.config.maxMessageSize) {
      this.counters.oversizedDropped++;
      return;
    }
    const ids = this.ctx.ids;
    const s = ids.find(tree.ids, msg.id);
    if (s !== undefined && s.has(msg.id.seq)) {
      // Redundant path: PRUNE it (paper: the sender moves to lazy on both sides).
      this.counters.duplicates++;
      tree.duplicates++;
      // Flooding keeps every redundant path.
      if (!this.config.flood) this.links.onDuplicate(tree, from, nowMs);
      return;
    }
    // Symmetric links: whoever pushes a payload to us is our eager peer (see `onPayload`).
    this.links.onPayload(tree, from, nowMs);
    const m = s === undefined ? undefined : this.repair.arrived(s, msg.id.seq);
    // Announcers already have it: pushing it to them would only earn a PRUNE.
    this.accept(tree, msg, from, nowMs, m);
    if (m !== undefined) this.optimise(tree, from, msg, m, nowMs);
  }

  /**
   * Paper's optimisation (after the push, as in the paper, so the new eager peer is not sent a
   * copy it announced): a lazy path that announced the id earlier and is shorter by at least
   * `optimizationThreshold` hops replaces the eager path it came by; at most one swap per
   * `optimizationCooldownMs` per tree, so publishers with different shortest paths cannot keep
   * turning the shared tree over.
   */
  private optimise(
    tree: TopicTree,
    from: string,
    msg: GossipMessage,
    m: Missing,
    nowMs: number,
  ): void {
    let best: Missing['announcers'][number] | undefined;
    for (const a of m.announcers) if (best === undefined || a.hops < best.hops) best = a;
    if (
      best === undefined ||
      best.peer === from ||
      msg.hops - best.hops < this.config.optimizationThreshold
    ) {
      return;
    }
    if (nowMs - tree.lastSwapAtMs >= this.config.optimizationCooldownMs) {
      tree.lastSwapAtMs = nowMs;
      this.links.swap(tree, best.peer, from, nowMs);
    } else {
      this.counters.optimizationsThrottled++;
    }
  }

  /** Deliver a new message and push it on: GOSSIP to eager peers, IHAVE batch for lazy ones. */
  private accept(
    tree: TopicTree,
    msg: GossipMessage,
    from: string,
    nowMs: number,
    holders?: Missing,
  ): void {
    const ids = this.ctx.ids;
    const s = ids.stream(tree.ids, tree.topic, msg.id, nowMs);
    s.add(msg.id.seq, nowMs);
    ids.cache(s, msg, nowMs);
    this.ctx.scheduleMaintenance(nowMs);
    this.counters.delivered++;
    tree.delivered++;
    const delivered: Mutable<DeliveredEvent> = {
      type: 'delivered',
      topic: tree.topic,
      id: msg.id,
      payload: msg.payload,
      hops: msg.hops,
      from,
      publishedAtMs: msg.publishedAtMs,
    };
    if (msg.headers !== undefined) delivered.headers = msg.headers;
    this.ctx.events.push(delivered);
    const next = msg.hops + 1;
    if (next > MAX_FRAME_HOPS) {
      this.counters.hopLimitReached++;
      return;
    }
    if (tree.eager.size > (tree.eager.has(from) ? 1 : 0)) {
      const out: GossipMessage = { ...msg, hops: next };
      for (const peer of tree.eager) {
        if (peer !== from && (holders === undefined || !isAnnouncer(holders, peer))) {
          this.ctx.send(tree, peer, out);
        }
      }
    }
    // Repeats go to eager peers too: with them, a node without lazy peers announces as well.
    if (tree.lazy.size > 0 || this.config.ihaveRepeats > 0) {
      this.lazyPush.announce(tree, msg.id, next, from, nowMs);
    }
  }

  private onGraft(tree: TopicTree, from: string, msg: GraftMessage, nowMs: number): void {
    if (!tree.eager.has(from)) {
      if (tree.eager.size >= this.config.maxEagerPeers) {
        // Full: keep the link lazy on both sides.
        this.counters.eagerRefused++;
        if (!tree.lazy.has(from) && tree.lazy.size < this.config.lazyFanout) tree.lazy.add(from);
        this.ctx.send(tree, from, { type: FrameType.Prune, topic: tree.topic });
      } else {
        this.links.promote(tree, from);
      }
    }
    this.repair.serve(tree, from, msg, nowMs);
  }

  private removeNeighbour(tree: TopicTree, peer: string, nowMs: number): void {
    if (!tree.isNeighbour(peer)) return;
    this.repair.dropAnnouncer(tree, peer);
    this.links.remove(tree, peer, nowMs);
  }
}

function isAnnouncer(m: Missing, peer: string): boolean {
  for (const a of m.announcers) if (a.peer === peer) return true;
  return false;
}

/** Throws {@link UnencodableError} unless `s` fits a str8 field within `maxBytes`. */
function checkStr8(field: string, s: string, maxBytes = 255): void {
  const n = typeof s === 'string' ? utf8Length(s) : -1;
  if (n < 0) throw new UnencodableError(field, 'is not a well-formed string');
  if (n > maxBytes) throw new UnencodableError(field, `is ${n} UTF-8 bytes, above ${maxBytes}`);
}

/** A message originated here (broadcast or inject): hops 0. */
function ownMessage(
  topic: string,
  id: MessageId,
  payload: Uint8Array,
  opts: OwnOptions,
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
