/**
 * The shell of the sans-IO Plumtree core (one tree per topic): the only place that reads
 * `Date.now()` for it and arms its one timer.
 *
 * - Drive: after every input or command the core is drained in its documented order
 *   (`pollTransmit` until empty, then `pollEvent`, again until both are empty), transmits go to
 *   the outbound engine, `delivered` events to the host and tree changes to `events$`; then the
 *   single timer is re-armed for the earlier of `pollTimeout()` and the outbound backlog's retry.
 * - Topics: joining a topic subscribes the core with the topic's view (a {@link TopicPeers}
 *   that directory sync refreshes); leaving unsubscribes it. A topic first seen in an arriving
 *   frame or hand-off is joined when a local pattern matches it (not while leaving), a frame's
 *   only when the directory lists its sender as a subscriber of the topic (a tree spans the
 *   topic's subscribers: anyone else naming a new topic is refused, `unlistedTopicFrames`).
 *   Topics joined only through a pattern are capped (`maxPatternTopics`, from any source);
 *   beyond, a new one replaces the one idle longest once it received no payload for
 *   `patternTopicIdleMs` (`patternTopicsReplaced`), else it is not joined
 *   (`patternJoinsRefused`) and its frames drop.
 * - Frames in: a Plumtree frame is decoded within the node's frame limits (malformed ones are
 *   counted drops), counted, and given to the core; the GOSSIP bytes are kept for forwarding.
 *
 * The node owns the core and feeds it membership (`peerUp`, `peerDown`, RTTs) itself; this
 * engine needs from it only what {@link TopicTreesHost} names.
 */
import {
  decodeFrame,
  FrameType,
  type FrameCounters,
  type FrameLimits,
  type GossipMessage,
  type Plumtree,
  type PlumtreeEvent,
} from '@plumtree/plumtree';
import type { PlumtreeNodeEvent } from '../delivery/delivery.js';
import { formatMessageId } from '../delivery/message-id.js';
import { TopicPeers } from '../directory-sync/topic-peers.js';
import type { NodeLife } from '../node/node-lifecycle.js';
import type { NodeTopicStats } from '../node/node-stats.js';
import type { Outbound } from '../outbound/outbound.js';
import { countFrame, zeroFrames } from './frame-counters.js';

/** A `delivered` event of the core. */
export type DeliveredEvent = Extract<PlumtreeEvent, { type: 'delivered' }>;

/** What the engine needs from its node. */
export interface TopicTreesHost {
  readonly life: NodeLife;
  /** Caps on received Plumtree frames. */
  readonly frameLimits: Partial<FrameLimits>;
  readonly outbound: Pick<
    Outbound,
    | 'transmit'
    | 'endBatch'
    | 'rememberGossip'
    | 'rememberRun'
    | 'takeBackpressureDemotion'
    | 'retryAt'
    | 'retryDeferred'
  >;
  /** Alive subscribers of `topic`, this node excluded. */
  subscribersOf(topic: string): string[];
  /** Whether a local subscription (topic or pattern) matches `topic`. */
  localMatches(topic: string): boolean;
  /** Whether the local subscriptions hold `topic` itself (not only a pattern matching it). */
  localHolds(topic: string): boolean;
  /** Whether the directory lists `node` as a subscriber of `topic`. */
  lists(node: string, topic: string): boolean;
  /** Topics joined only because a local pattern matches them, at most. */
  readonly maxPatternTopics: number;
  /** How long such a topic delivers nothing before a new one may take its place at the cap. */
  readonly patternTopicIdleMs: number;
  /** The core delivered a message. */
  delivered(e: DeliveredEvent): void;
  emit(e: PlumtreeNodeEvent): void;
  /** The node joined `topic`'s tree. */
  joined(topic: string): void;
  /** The node left `topic`'s tree (called before `topic-left` is emitted). */
  left(topic: string): void;
  /** A frame that failed to decode. */
  countDrop(reason: string): void;
  /** A Plumtree frame of a topic this node is in the tree of came from `from` (link sync). */
  heard(topic: string, from: string): void;
}

/** Counters of Plumtree frames received (`stats().node`). */
export interface InboundCounters {
  /** Plumtree frames received, by type, whatever their topic. */
  readonly framesReceived: FrameCounters;
  /** GOSSIP (payload) frames received for topics this node does not subscribe to. */
  readonly gossipReceivedUnsubscribed: number;
  /** Any Plumtree frame received for a topic this node does not subscribe to. */
  readonly framesReceivedUnsubscribed: number;
}

/** Joins refused by the pattern caps (part of `stats().limits`). */
export interface PatternJoinCounters {
  /** Topics joined only through a local pattern, now. */
  readonly patternTopics: number;
  /** Joins of a pattern-matched topic refused at `maxPatternTopics`. */
  readonly patternJoinsRefused: number;
  /** Pattern-joined topics left at the cap for a new one, idle `patternTopicIdleMs` or more. */
  readonly patternTopicsReplaced: number;
  /** Frames naming a new pattern-matched topic from a sender the directory does not list for it. */
  readonly unlistedTopicFrames: number;
}

interface TopicState {
  readonly view: TopicPeers;
  bytesSent: number;
  bytesReceived: number;
  /** When the topic was joined or last received a payload frame. */
  activeAtMs: number;
}

/** See the file comment. */
export class TopicTrees {
  private readonly states = new Map<string, TopicState>();
  private readonly framesReceived = zeroFrames();
  private gossipReceivedUnsubscribed = 0;
  private framesReceivedUnsubscribed = 0;
  /** Joined topics no local subscription holds exactly (a pattern matched them). */
  private readonly patternTopics = new Set<string>();
  private patternJoinsRefused = 0;
  private patternTopicsReplaced = 0;
  private unlistedTopicFrames = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt: number | undefined;
  private driving = false;

  constructor(
    private readonly host: TopicTreesHost,
    private readonly core: Plumtree,
  ) {}

  /** Concrete topics whose tree this node is in. */
  topics(): string[] {
    return this.core.topics();
  }

  isSubscribed(topic: string): boolean {
    return this.core.isSubscribed(topic);
  }

  /**
   * Join `topic`'s tree with its current view (not before start, not once closed, not beyond
   * `maxPatternTopics` for a topic only a pattern matches). True when the node is in the tree.
   */
  join(topic: string): boolean {
    const { life, maxPatternTopics } = this.host;
    const patternOnly = !this.host.localHolds(topic);
    if (this.core.isSubscribed(topic)) {
      if (!patternOnly) this.patternTopics.delete(topic);
      return true;
    }
    if (life.closed || !life.started) return false;
    const now = Date.now();
    if (patternOnly) {
      if (this.patternTopics.size >= maxPatternTopics && !this.replaceIdlest(now)) {
        this.patternJoinsRefused++;
        return false;
      }
      this.patternTopics.add(topic);
    }
    const state: TopicState = {
      view: new TopicPeers(topic),
      bytesSent: 0,
      bytesReceived: 0,
      activeAtMs: now,
    };
    state.view.update(this.host.subscribersOf(topic));
    this.states.set(topic, state);
    this.core.subscribe(topic, state.view, now);
    this.host.emit({ type: 'topic-joined', topic });
    this.host.joined(topic);
    return true;
  }

  /** Leave the pattern-joined topic idle longest (no payload received) if idle `patternTopicIdleMs`; true if so. */
  private replaceIdlest(nowMs: number): boolean {
    let idlest: string | undefined;
    let at = Infinity;
    for (const t of this.patternTopics) {
      const a = this.states.get(t)?.activeAtMs ?? -Infinity;
      if (a < at) [idlest, at] = [t, a];
    }
    if (idlest === undefined || nowMs - at < this.host.patternTopicIdleMs) return false;
    this.leave(idlest, nowMs);
    this.patternTopicsReplaced++;
    return true;
  }

  leave(topic: string, nowMs: number): void {
    if (!this.core.isSubscribed(topic)) return;
    this.core.unsubscribe(topic, nowMs);
    this.states.delete(topic);
    this.patternTopics.delete(topic);
    this.host.left(topic);
    this.host.emit({ type: 'topic-left', topic });
  }

  /** Unsubscribe the core from every tree (PRUNEs to the eager peers): the node is leaving. */
  unsubscribeAll(nowMs: number): string[] {
    const topics = this.core.topics();
    for (const topic of topics) this.core.unsubscribe(topic, nowMs);
    this.drive();
    return topics;
  }

  /**
   * Whether the node takes messages of `topic`: in its tree, or joining it now because a local
   * subscription matches a topic first seen here (not while leaving). `from`, the sender of a
   * Plumtree frame, must be listed in the directory for the topic (see the file comment).
   */
  accepts(topic: string, from?: string): boolean {
    if (this.core.isSubscribed(topic)) return true;
    if (this.host.life.leaving || !this.host.localMatches(topic)) return false;
    if (from !== undefined && !this.host.lists(from, topic)) {
      this.unlistedTopicFrames++;
      return false;
    }
    return this.join(topic);
  }

  /**
   * Broadcast a message into its tree: this node's own publish, or one handed off by `from`
   * (whose GOSSIP body `frame` is forwarded as it is). True when the id is new. Throws the core's
   * `MessageTooLargeError`. The caller drives the core.
   */
  inject(message: GossipMessage, from?: string, frame?: Uint8Array): boolean {
    if (frame !== undefined) this.host.outbound.rememberGossip(message.id, frame);
    const nowMs = Date.now();
    const state = this.states.get(message.topic);
    if (state !== undefined) state.activeAtMs = nowMs;
    return this.core.inject(message.topic, message.id, message.payload, nowMs, {
      ...(from !== undefined ? { from } : {}),
      publishedAtMs: message.publishedAtMs,
      ...(message.headers !== undefined ? { headers: message.headers } : {}),
    });
  }

  /** Topics whose view directory sync refreshes. */
  viewTopics(): IterableIterator<string> {
    return this.states.keys();
  }

  /**
   * Replace `topic`'s view with `peers`: peers that left are `neighbourDown` for the core, and
   * new candidates refill a tree below its degree. True when the view changed.
   */
  updateView(topic: string, peers: readonly string[], nowMs: number): boolean {
    const state = this.states.get(topic);
    if (state === undefined) return false;
    const { removed, added } = state.view.update(peers);
    for (const peer of removed) this.core.neighbourDown(topic, peer, nowMs);
    // Subscribing again with the same view refills a tree below its degree.
    if (added > 0) this.core.subscribe(topic, state.view, nowMs);
    return added > 0 || removed.length > 0;
  }

  countBytesSent(topic: string, bytes: number): void {
    const state = this.states.get(topic);
    if (state !== undefined) state.bytesSent += bytes;
  }

  /** A Plumtree frame arrived (first byte `FrameKind.Plumtree`). */
  onFrame(from: string, frame: Uint8Array): void {
    const d = decodeFrame(frame, this.host.frameLimits);
    if (!d.ok) {
      this.host.countDrop(`plumtree:${d.error.reason}`);
      return;
    }
    const msg = d.message;
    countFrame(this.framesReceived, msg.type);
    if (!this.accepts(msg.topic, from)) {
      this.framesReceivedUnsubscribed++;
      if (msg.type === FrameType.Gossip || msg.type === FrameType.GossipRun) {
        this.gossipReceivedUnsubscribed++;
      }
      return;
    }
    const nowMs = Date.now();
    const state = this.states.get(msg.topic);
    if (state !== undefined) {
      state.bytesReceived += frame.length;
      // Payloads keep a pattern-joined topic from being replaced at the cap.
      if (msg.type === FrameType.Gossip || msg.type === FrameType.GossipRun) {
        state.activeAtMs = nowMs;
      }
    }
    this.host.heard(msg.topic, from);
    if (msg.type === FrameType.Gossip) this.host.outbound.rememberGossip(msg.id, frame);
    else if (msg.type === FrameType.GossipRun) this.host.outbound.rememberRun(msg.messages, frame);
    this.core.handleMessage(from, msg, nowMs);
    this.drive();
  }

  /** Drain the core in its documented order, then re-arm the timer. */
  drive(): void {
    const life = this.host.life;
    if (this.driving || life.closed || !life.started) return;
    this.driving = true;
    try {
      for (;;) {
        const t = this.core.pollTransmit();
        if (t !== undefined) {
          this.host.outbound.transmit(t);
          continue;
        }
        const e = this.core.pollEvent();
        if (e === undefined) break;
        this.onCoreEvent(e);
      }
    } finally {
      this.host.outbound.endBatch();
      this.driving = false;
    }
    this.armTimer();
  }

  /** Per-topic statistics, with `observers(topic)` from the subscriptions. */
  topicStats(observers: (topic: string) => number): Record<string, NodeTopicStats> {
    const topics: Record<string, NodeTopicStats> = {};
    for (const topic of this.core.topics()) {
      const s = this.core.stats(topic)!;
      const st = this.states.get(topic);
      topics[topic] = {
        ...s,
        peers: st?.view.size ?? 0,
        observers: observers(topic),
        bytesSent: st?.bytesSent ?? 0,
        bytesReceived: st?.bytesReceived ?? 0,
      };
    }
    return topics;
  }

  counters(): InboundCounters {
    return {
      framesReceived: { ...this.framesReceived },
      gossipReceivedUnsubscribed: this.gossipReceivedUnsubscribed,
      framesReceivedUnsubscribed: this.framesReceivedUnsubscribed,
    };
  }

  patternCounters(): PatternJoinCounters {
    return {
      patternTopics: this.patternTopics.size,
      patternJoinsRefused: this.patternJoinsRefused,
      patternTopicsReplaced: this.patternTopicsReplaced,
      unlistedTopicFrames: this.unlistedTopicFrames,
    };
  }

  /** Stop the timer (the node closed). */
  close(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private armTimer(): void {
    if (this.host.life.closed) return;
    let at = this.core.pollTimeout();
    const retryAt = this.host.outbound.retryAt(Date.now());
    if (retryAt !== undefined && (at === undefined || retryAt < at)) at = retryAt;
    if (at === this.timerAt && this.timer !== undefined) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = at;
    if (at === undefined) return;
    this.timer = setTimeout(this.onTimer, Math.max(0, at - Date.now()));
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.timerAt = undefined;
    if (this.host.life.closed) return;
    this.host.outbound.retryDeferred();
    this.core.handleTimeout(Date.now());
    this.drive();
  };

  private onCoreEvent(e: PlumtreeEvent): void {
    const emit = (ev: PlumtreeNodeEvent): void => this.host.emit(ev);
    switch (e.type) {
      case 'delivered':
        this.host.delivered(e);
        break;
      case 'eagerPromotion':
        emit({ type: 'promotion', topic: e.topic, peer: e.peer });
        break;
      case 'lazyDemotion':
        emit(
          this.host.outbound.takeBackpressureDemotion(e.topic, e.peer)
            ? { type: 'demotion', topic: e.topic, peer: e.peer, reason: 'backpressure' }
            : { type: 'demotion', topic: e.topic, peer: e.peer },
        );
        break;
      case 'graftSent':
        emit(
          e.id !== undefined
            ? { type: 'graft', topic: e.topic, peer: e.peer, id: formatMessageId(e.id) }
            : { type: 'graft', topic: e.topic, peer: e.peer },
        );
        break;
      case 'pruneSent':
        emit({ type: 'prune', topic: e.topic, peer: e.peer });
        break;
      case 'graftFailed':
        emit({ type: 'graft-failed', topic: e.topic, id: formatMessageId(e.id) });
        break;
    }
  }
}
