/**
 * The engines of one node, wired to the node's parts and to each other. Each engine owns one
 * role behind a host interface that names what it needs (docs/architecture.md draws the map);
 * this file is where those hosts are filled in, so it is the one place to read to see who calls
 * whom:
 * - tree/topic-trees.ts: the Plumtree core's shell (drive loop, timer, topics, frames in);
 * - outbound/outbound.ts: frames out, the `frameFilter` hook, backpressure and its backlog;
 * - directory-sync/directory-sync.ts: the directory over SWIM and every topic's view;
 * - delivery/subscriptions.ts: observers, routes and the delivery queue;
 * - handoff/handoff.ts: publishes from outside a topic's tree, both sides;
 * - rpc/rpc.ts: request/reply, the requester side, and rpc/rpc-responder.ts, the responder side;
 * - durable/durable-topics.ts: durable topics' logs and catch-up;
 * - publish/outgoing-messages.ts: the topic, payload, headers and id of a publish;
 * - readiness/link-sync.ts and readiness/topic-readiness.ts: recent deliveries told to new tree
 *   links, and `ready(topic)`;
 * - publish/publish-window.ts: flow control of what enters a tree here (publishes, hand-offs);
 * - groups/queue-groups.ts: queue groups (who of a group handles a message, shadows, takeover).
 *
 * Received frames reach their engine by first byte through one table (frame-kinds.ts); SWIM
 * events are routed here too: membership changes reach the core, every engine that tracks peers
 * and the views; probe RTTs reach the core and request/reply; digests reach directory sync.
 */
import {
  createRng,
  FrameType,
  type FrameLimits,
  type IHaveEntry,
  type Plumtree,
} from '@plumtree/plumtree';
import type { SwimEvent, SwimNode } from '@plumtree/swim';
import type { TopicDirectory } from '../directory/index.js';
import type { PlumtreeNodeEvent } from '../delivery/delivery.js';
import { Subscriptions } from '../delivery/subscriptions.js';
import { DirectorySync } from '../directory-sync/directory-sync.js';
import { DurableTopics } from '../durable/durable-topics.js';
import { FrameKind, routeFrames, type FrameHandler } from '../frame-kinds.js';
import { memberHolds } from '../handoff/handoff-topics.js';
import { HandoffEngine } from '../handoff/handoff.js';
import { Outbound } from '../outbound/outbound.js';
import type { NodePersistence } from '../persistence/node-persistence.js';
import { OutgoingMessages } from '../publish/outgoing-messages.js';
import { formatMessageId } from '../delivery/message-id.js';
import { GraftTimer } from '../metrics/graft-timer.js';
import { QueueGroups } from '../groups/queue-groups.js';
import { LinkSync } from '../readiness/link-sync.js';
import { TopicReadiness } from '../readiness/topic-readiness.js';
import { PublishWindow } from '../publish/publish-window.js';
import { RpcEngine, type RequestHandler } from '../rpc/rpc.js';
import {
  defaultHighWaterBytes,
  FRAME_TRANSPORT_DEFAULTS,
  type FrameTransport,
} from '../transport/index.js';
import { TopicTrees } from '../tree/topic-trees.js';
import { NodeClosedError } from './errors.js';
import type { NodeLife } from './node-lifecycle.js';
import type { ResolvedNodeOptions } from './plumtree-node-options.js';

/**
 * A queue under pressure that wrote nothing for this long no longer holds publishes back (a peer
 * dead or silent before SWIM says so: the local preset suspects after ~1 s).
 */
const PRESSURE_STALL_MS = 500;
/**
 * Hand-offs of one publisher waiting for their ACK at most: 256 x 1 KiB keeps a subscriber's
 * window busy over a loopback round trip while an ACK stays far below `handoffTimeoutMs`.
 */
const HANDOFFS_IN_FLIGHT = 256;

/** What the node owns and its engines are wired to. */
export interface NodeParts {
  readonly options: ResolvedNodeOptions;
  /** The incarnation of the node's message ids. */
  readonly epoch: number;
  /** The node's seed: the engines' random choices derive from it. */
  readonly seed: number;
  readonly life: NodeLife;
  readonly directory: TopicDirectory;
  readonly core: Plumtree;
  /** The frame transport (from boot on). */
  frames(): FrameTransport;
  /** SWIM (from boot on). */
  swim(): SwimNode;
  /** The store (from boot on). */
  persistence(): NodePersistence | undefined;
  /** Raise a tree or connection event on `events$`. */
  emit(e: PlumtreeNodeEvent): void;
}

/** See the file comment. */
export class NodeEngines {
  /** Each member's incarnation and when this node first saw it (its clock): link sync's bound. */
  private readonly lifeSeen = new Map<string, { incarnation: number; atMs: number }>();
  readonly outgoing: OutgoingMessages;
  readonly window: PublishWindow;
  readonly outbound: Outbound;
  readonly trees: TopicTrees;
  readonly deliveries: Subscriptions;
  readonly sync: DirectorySync;
  readonly handoff: HandoffEngine;
  readonly rpc: RpcEngine;
  readonly durable: DurableTopics;
  readonly linkSync: LinkSync;
  readonly readiness: TopicReadiness;
  readonly groups: QueueGroups;
  /** GRAFTs for missing messages waiting for their delivery (graft latency). */
  private readonly graftTimer = new GraftTimer();
  /** Frames that failed to decode (or of no known kind), by reason. */
  readonly frameDrops: Record<string, number> = {};
  /** Every received frame: to its engine by first byte (not once the node is closed). */
  readonly onFrame: FrameHandler;

  constructor(private readonly parts: NodeParts) {
    const { options: o, life, directory, core, emit } = parts;
    const config = o.plumtree;
    const frameLimits: Partial<FrameLimits> = {
      maxFrameBytes: o.maxFrameBytes,
      maxPayloadBytes: config.maxMessageSize,
    };
    const countDrop = (reason: string): void => {
      this.frameDrops[reason] = (this.frameDrops[reason] ?? 0) + 1;
    };
    const subscribersOf = (topic: string): string[] => this.subscribersOf(topic);
    const drive = (): void => this.trees.drive();
    const joinTopic = (topic: string): void => void this.trees.join(topic);
    const send = (peer: string, frame: Uint8Array): string => this.outbound.sendFrame(peer, frame);

    this.outgoing = new OutgoingMessages({
      name: o.name,
      epoch: parts.epoch,
      codec: o.codec,
      maxMessageSize: config.maxMessageSize,
    });
    const maxQueueBytes = o.maxQueueBytes ?? FRAME_TRANSPORT_DEFAULTS.maxQueueBytes;
    const highWater = defaultHighWaterBytes(maxQueueBytes);
    this.window = new PublishWindow(
      {
        isPressured: (nowMs) =>
          life.started && parts.frames().isPressured(nowMs, PRESSURE_STALL_MS),
      },
      // Half the high-water mark per turn: one turn's frames cannot push a queue far past it.
      highWater / 2,
    );
    this.outbound = new Outbound(
      {
        send: (peer, frame) => parts.frames().send(peer, frame),
        requestFlush: () => parts.frames().requestFlush(),
        pressuredPeers: () => parts.frames().pressuredPeers(),
        frameFilter: o.frameFilter,
        isAlive: this.isAlive,
        demote: (topic, peer) => core.demotePeer(topic, peer, Date.now()),
        countBytesSent: (topic, bytes) => this.trees.countBytesSent(topic, bytes),
        countDrop,
      },
      {
        ihaveBatch: Math.max(config.ihaveBatchSize, 64),
        // As much again as the transport's queue, so a slow peer costs at most twice the cap.
        gossipBytesPerPeer: maxQueueBytes,
      },
    );
    this.trees = new TopicTrees(
      {
        life,
        frameLimits,
        outbound: this.outbound,
        subscribersOf,
        localMatches: (topic) => directory.localMatches(topic),
        localHolds: (topic) => directory.localHolds(topic),
        lists: (node, topic) => directory.lists(node, topic),
        maxPatternTopics: o.limits.maxPatternTopics,
        patternTopicIdleMs: o.limits.patternTopicIdleMs,
        delivered: (e) => {
          // Stamped with the publish time, the clock subscriptions are compared with.
          this.linkSync.delivered(e.topic, e.id, e.hops, e.publishedAtMs);
          if (this.graftTimer.mayBeOpen(e.id.seq)) this.timeGraft(e.topic, formatMessageId(e.id));
          if (this.durable.take(e)) return;
          const { topic, id, hops, from, headers, publishedAtMs, payload } = e;
          this.deliveries.deliver(topic, id, hops, from, headers, publishedAtMs, payload);
        },
        emit: (e) => {
          if (e.type === 'graft' && e.id !== undefined)
            this.graftTimer.grafted(e.topic, e.id, Date.now());
          else if (e.type === 'graft-failed') this.graftTimer.failed(e.topic, e.id);
          emit(e);
        },
        joined: (topic) => this.durable.ensure(topic),
        left: (topic) => {
          this.deliveries.forgetRoute(topic);
          this.durable.leave(topic);
          this.linkSync.forgetTopic(topic);
          this.handoff.topicLeft(topic);
        },
        countDrop,
        heard: (topic, from) => this.linkSync.heard(topic, from, Date.now()),
      },
      core,
    );
    const announce = (peer: string, topic: string, entries: readonly IHaveEntry[]): void => {
      this.outbound.transmit({ to: peer, message: { type: FrameType.IHave, topic, entries } });
      this.outbound.endBatch();
    };
    this.linkSync = new LinkSync({
      announce,
      cacheTtlMs: config.messageCacheTtlMs,
      // A peer restarted in place (a new incarnation) or back from a leave links before its
      // new entry arrives, and the entry this node holds may be its last life's: what it can
      // lack starts no earlier than when this node saw its current life.
      subscribedAtMs: (peer) =>
        latest(directory.entry(peer)?.version, this.lifeSeen.get(peer)?.atMs),
    });
    this.readiness = new TopicReadiness({
      life,
      subscribersOf,
      localMatches: (topic) => directory.localMatches(topic),
      inTree: (topic) => this.trees.isSubscribed(topic),
      links: (topic) => {
        const s = core.stats(topic);
        return { eager: s?.eagerPeers ?? [], lazy: s?.lazyPeers ?? [] };
      },
      isConnected: (peer) => parts.frames().isConnected(peer),
      nudge: (topic, peer) => announce(peer, topic, []),
      isHeard: (topic, peer) => this.linkSync.isHeard(topic, peer),
      checkTopic: (topic) => this.outgoing.checkTopic(topic),
      closedError: () => new NodeClosedError(o.name),
    });
    this.groups = new QueueGroups({
      name: o.name,
      membersOf: (topic, group) => directory.groupMembersOf(topic, group, this.isAlive),
      redeliver: (group, m) => this.deliveries.redeliver(group, m),
      send: (peer, frame) => {
        if (!life.closed) send(peer, frame);
      },
      countDrop,
    });
    // A member that leaves a group (or whose entry goes) leaves its shadows to the others.
    directory.onChange((node) => {
      if (node !== o.name && !life.closed) this.groups.membersChanged(Date.now());
    });
    this.deliveries = new Subscriptions(
      {
        name: o.name,
        groups: this.groups,
        codec: o.codec,
        life,
        directory,
        joinedTopics: () => this.trees.topics(),
        joinTopic,
        leaveTopic: (topic, nowMs) => this.trees.leave(topic, nowMs),
        drive,
        pauseInbound: () => parts.frames().pauseInbound(),
        resumeInbound: () => parts.frames().resumeInbound(),
        observerAdded: (matches) => this.durable.observerAdded(matches),
      },
      {
        highWater: o.maxPendingDeliveries,
        highWaterBytes: o.maxPendingDeliveryBytes,
        sliceMs: o.deliverySliceMs,
      },
    );
    this.durable = new DurableTopics(
      {
        name: o.name,
        life,
        isSubscribed: (topic) => this.trees.isSubscribed(topic),
        subscribersOf,
        openLog: (topic) => parts.persistence()!.openLog(topic),
        send,
        deliver: (...delivery) => {
          // A record caught up from a peer's log never went through this node's tree: without
          // this, a later IHAVE of it GRAFTs a copy that is pushed on as a duplicate.
          core.markSeen(delivery[0], delivery[1], Date.now());
          return this.deliveries.deliver(...delivery);
        },
        emit,
        countDrop,
      },
      {
        topics: o.durable.topics,
        retentionMs: o.durable.retentionMs,
        maxFrameBytes: o.maxFrameBytes,
        maxParked: o.maxPendingDeliveries,
        limits: o.limits,
      },
    );
    this.handoff = new HandoffEngine({
      name: o.name,
      life,
      rng: createRng(parts.seed ^ 0x2545f491),
      timeoutMs: o.handoffTimeoutMs,
      maxAttempts: o.handoffMaxAttempts,
      maxInFlight: HANDOFFS_IN_FLIGHT,
      frameLimits,
      send,
      subscribersOf,
      acceptsTopic: (topic) => this.trees.accepts(topic) && this.trees.isSubscribed(topic),
      knownTopic: (topic) =>
        this.trees.isSubscribed(topic) ||
        directory.localHolds(topic) ||
        memberHolds(directory, topic, this.isAlive),
      maxTopicsPerPeer: o.limits.maxHandoffTopicsPerPeer,
      inject: (message, from, frame) => this.trees.inject(message, from, frame),
      drive,
      admit: (bytes, accept) => this.window.admit(bytes, accept),
      countDrop,
    });
    this.rpc = new RpcEngine({
      name: o.name,
      codec: o.codec,
      rng: createRng(parts.seed ^ 0x1b873593),
      maxPayloadBytes: config.maxMessageSize,
      send: (peer, frame) => (life.closed ? 'closed' : send(peer, frame)),
      // Requests go to members that answer the topic, never to event-only subscribers.
      respondersOf: (topic) => this.respondersOf(topic),
      checkTopic: (topic) => this.outgoing.checkTopic(topic),
      isClosed: () => life.stopping,
      countDrop,
      maxRequestsPerPeer: o.limits.maxRequestsPerPeer,
      maxRequests: o.limits.maxRequests,
    });
    this.sync = new DirectorySync({
      name: o.name,
      life,
      directory,
      swim: () => (life.started ? parts.swim() : undefined),
      saveSubscriptions: (list) => parts.persistence()?.saveSubscriptions(list),
      subscribersOf,
      viewTopics: () => this.trees.viewTopics(),
      updateView: (topic, peers, nowMs) => {
        this.linkSync.keepOnly(topic, peers);
        return this.trees.updateView(topic, peers, nowMs);
      },
      viewChanged: (topic) => this.durable.peersChanged(topic),
      patterns: () => this.deliveries.patterns(),
      joinTopic,
      drive,
    });
    const route = routeFrames(
      {
        [FrameKind.Plumtree]: (from, frame) => this.trees.onFrame(from, frame),
        [FrameKind.Handoff]: (from, frame) => this.handoff.onFrame(from, frame),
        [FrameKind.RpcRequest]: (from, frame) => this.rpc.onFrame(from, frame),
        [FrameKind.RpcResponse]: (from, frame) => this.rpc.onFrame(from, frame),
        [FrameKind.CatchupRequest]: (from, frame) => this.durable.onFrame(from, frame),
        [FrameKind.CatchupResponse]: (from, frame) => this.durable.onFrame(from, frame),
        [FrameKind.GroupAck]: (from, frame) => this.groups.onFrame(from, frame),
      },
      () => countDrop('unknown-kind'),
    );
    this.onFrame = (from, frame) => {
      if (!life.closed) route(from, frame);
    };
  }

  /** A grafted message arrived: raise its latency (`graft-delivered`). */
  private timeGraft(topic: string, id: string): void {
    const latencyMs = this.graftTimer.delivered(topic, id, Date.now());
    if (latencyMs !== undefined) this.parts.emit({ type: 'graft-delivered', topic, id, latencyMs });
  }

  /** Whether `node` is another alive (or suspect) member. */
  readonly isAlive = (node: string): boolean => {
    if (node === this.parts.options.name || !this.parts.life.started) return false;
    const m = this.parts.swim().member(node);
    return m !== undefined && (m.state === 'alive' || m.state === 'suspect');
  };

  /** Nodes (other than this one) the directory says subscribe to `topic` and are alive. */
  subscribersOf(topic: string): string[] {
    return this.parts.directory.subscribersOf(topic, this.isAlive);
  }

  /** Nodes (other than this one) the directory says answer requests on `topic` and are alive. */
  respondersOf(topic: string): string[] {
    return this.parts.directory.respondersOf(topic, this.isAlive);
  }

  /**
   * Answer requests of `topicOrPattern` with `handler` and list this node as its responder in the
   * directory entry (requesters route by it); returns the removal of both. Throws
   * `NodeClosedError` on a closed or leaving node, and what the engine's registration or the
   * directory throws, leaving neither behind.
   */
  handleRequests(topicOrPattern: string, handler: RequestHandler): () => void {
    const { directory, life } = this.parts;
    if (life.stopping) throw new NodeClosedError(this.parts.options.name);
    const remove = this.rpc.addHandler(topicOrPattern, handler);
    try {
      directory.addResponder(topicOrPattern, Date.now());
    } catch (e) {
      remove();
      throw e;
    }
    return () => {
      remove();
      if (!life.closed) directory.removeResponder(topicOrPattern, Date.now());
    };
  }

  /** The address of a member that is not dead or gone (the frame transport dials it). */
  addressOf(peer: string): string | undefined {
    if (!this.parts.life.started) return undefined;
    const m = this.parts.swim().member(peer);
    return m === undefined || m.state === 'dead' || m.state === 'left' ? undefined : m.address;
  }

  /** A SWIM event: to the core, the engines that track peers, and directory sync. */
  onSwimEvent(e: SwimEvent): void {
    const { life, core, directory, options } = this.parts;
    if (life.closed) return;
    switch (e.type) {
      case 'user-message':
        // The only user messages this node's SWIM carries are directory entries.
        this.sync.applyBroadcast(e.payload);
        break;
      case 'ping-complete':
        core.recordRtt(e.member.name, e.rttMs);
        this.rpc.recordRtt(e.member.name, e.rttMs);
        this.sync.checkStale(e.member.name, e.payload);
        break;
      case 'member-join':
      case 'member-update':
        if (e.member.name === options.name) break;
        // A member back from the dead is a candidate again (the core avoids recent failures).
        if (e.type === 'member-join') core.peerUp(e.member.name, Date.now());
        // Its frame connections waiting for it to become a member are admitted now.
        this.parts.frames().membersChanged();
        this.noteLife(e.member.name, e.member.incarnation, e.type === 'member-join');
        this.sync.checkStale(e.member.name, e.member.meta);
        this.sync.scheduleRefresh();
        break;
      case 'member-failed':
      case 'member-left': {
        const peer = e.member.name;
        if (peer === options.name) break;
        if (e.type === 'member-left') {
          directory.forget(peer);
          // Its next life starts at its next join.
          this.lifeSeen.delete(peer);
        }
        this.linkSync.forgetPeer(peer);
        this.parts.frames().disconnect(peer);
        this.outbound.forget(peer);
        core.peerDown(peer, Date.now());
        this.handoff.peerDown(peer);
        this.rpc.peerDown(peer, e.type === 'member-left' ? 'left' : 'failed');
        // Its shadowed messages go to the group's survivors (not alive any more in the view).
        this.groups.membersChanged(Date.now());
        this.sync.scheduleRefresh();
        this.trees.drive();
        break;
      }
      default:
        break;
    }
  }

  /** The frame connection to `peer` went up or down. */
  onPeerState(peer: string, up: boolean): void {
    if (this.parts.life.closed) return;
    this.parts.emit(up ? { type: 'peer-up', peer } : { type: 'peer-down', peer });
    if (!up) {
      // Its frames since the link formed may be lost with the connection: sync again on the next.
      this.linkSync.forgetPeer(peer);
      this.handoff.peerDown(peer);
      this.rpc.peerDown(peer, 'connection lost');
    }
  }

  /** A join, or an update with a higher incarnation, starts a member's current life here. */
  private noteLife(peer: string, incarnation: number, joined: boolean): void {
    const seen = this.lifeSeen.get(peer);
    if (!joined && seen !== undefined && incarnation <= seen.incarnation) return;
    if (seen === undefined && !joined) {
      // First sight by an update (met before this node listened): no bound but the entry's.
      this.lifeSeen.set(peer, { incarnation, atMs: 0 });
      return;
    }
    this.lifeSeen.set(peer, { incarnation, atMs: Date.now() });
  }

  /** Stop every engine's timers and reject what waits (the node is closing). */
  close(): void {
    this.readiness.close();
    this.window.close(() => new NodeClosedError(this.parts.options.name));
    this.trees.close();
    this.sync.close();
    this.handoff.close();
    this.rpc.close();
    this.groups.close();
  }
}

/** The later of two optional times. */
function latest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  return b === undefined ? a : Math.max(a, b);
}
