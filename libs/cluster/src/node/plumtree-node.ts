/**
 * The runtime of one node: SWIM membership, the topic directory, one Plumtree core (one tree per
 * topic) and the frame transport, bound to the clock, timers and sockets. This is the shell of
 * the sans-IO Plumtree core: the only place that reads `Date.now()` and arms its timer.
 *
 * Wiring:
 * - SWIM delegate: the directory travels as named user broadcasts (`topics:<node>`, so a newer
 *   entry replaces a queued older one) and whole in push-pull state; the directory digest is the
 *   node meta, so a peer whose copy of an entry is stale notices it on the next alive message and
 *   pulls (a push-pull with that member) instead of waiting for the periodic one.
 * - Views: the view of a topic is `directory.subscribersOf(topic, alive)`, recomputed (coalesced
 *   in a microtask) after any directory or membership change; peers that left a view are told to
 *   the core (`neighbourDown`), members that failed or left are `peerDown` everywhere.
 * - The core is driven in its documented order after every input or command: transmits are
 *   encoded (once per message, received GOSSIP bytes forwarded with the hop count patched in
 *   place; see frame-encoder.ts) and queued on the frame transport, events become deliveries and
 *   `events$`, and the single timer is re-armed for `pollTimeout()`.
 * - Backpressure: a GOSSIP refused with `overflow` demotes that eager peer to lazy for the topic
 *   (`demotePeer`, which sends it a PRUNE); it recovers through IHAVE/GRAFT once its queue drains.
 * - Hand-off: a publish to a topic this node does not subscribe to is sent to one live
 *   subscriber (hand-off frame, see handoff-codec.ts), which injects it under the publisher's id
 *   and acknowledges; no ACK within `handoffTimeoutMs`, a NACK, or the peer going down moves it
 *   to the next subscriber.
 * - Request/reply: `request` sends one request frame (first byte 0x81) to one live subscriber
 *   of the topic and the reply (0x82) comes straight back; see rpc.ts. The node feeds the engine
 *   RTTs from SWIM probes and peers going down (membership or frame connection).
 * - Patterns: a local pattern joins every concrete topic it matches that the directory names,
 *   and a topic first seen in an arriving frame or hand-off.
 */
import { randomInt } from 'node:crypto';
import { BehaviorSubject, Observable, Subject, type Subscriber } from 'rxjs';
import {
  createRng,
  decodeFrame,
  encodedFrameSize,
  FRAME_CODEC_VERSION,
  encodeFrame,
  FrameType,
  messageKey,
  MessageTooLargeError,
  Plumtree,
  randomInt as rngInt,
  type FrameCounters,
  type FrameLimits,
  type GossipMessage,
  type IHaveMessage,
  type MessageId,
  type PlumtreeConfig,
  type PlumtreeCounters,
  type PlumtreeEvent,
  type PruneMessage,
  type Rng,
  type TopicStats,
  type Transmit,
} from '@plumtree/plumtree';
import {
  SwimNode,
  UdpTcpTransport,
  resolveSwimConfig,
  type SwimDelegate,
  type SwimEvent,
  type SwimMember,
  type SwimTransport,
} from '@plumtree/swim';
import {
  InvalidTopicError,
  isPattern,
  TopicDirectory,
  topicMatches,
  validatePattern,
  validateTopic,
  type DirectoryStats,
} from '../directory/index.js';
import {
  FRAME_TRANSPORT_DEFAULTS,
  FrameTransport,
  type FrameTransportStats,
} from '../transport/index.js';
import type { Delivery, PlumtreeNodeEvent } from './delivery.js';
import {
  InvalidHeadersError,
  NoSubscribersError,
  NodeClosedError,
  PayloadTooLargeError,
} from './errors.js';
import { DeferredControl } from './deferred-control.js';
import { DeliveryQueue, type DeliveryQueueStats } from './delivery-queue.js';
import { NodePersistence, type PersistenceStats } from './node-persistence.js';
import {
  CATCHUP_REQUEST_KIND,
  CATCHUP_RESPONSE_KIND,
  DurableReplicator,
  type DurableLog,
  type DurableRecord,
  type DurableReplicatorEvent,
  type DurableReplicatorStats,
} from '../durable/index.js';
import { Lazarus, swimLazarusHost, type LazarusStats } from '../lazarus/index.js';
import { sendToSender } from './reply-sender.js';
import { FrameEncoder, type FrameEncoderStats } from './frame-encoder.js';
import {
  decodeHandoff,
  encodeHandoffAnswer,
  encodeHandoffRequest,
  HANDOFF_FRAME_KIND,
  HandoffType,
} from './handoff-codec.js';
import { formatMessageId } from './message-id.js';
import { CONTENT_TYPE_HEADER, type PayloadCodec } from './payload-codec.js';
import {
  resolvePlumtreeNodeOptions,
  type PlumtreeNodeOptions,
  type ResolvedNodeOptions,
} from './plumtree-node-options.js';
import { ParkedDeliveries } from './parked-deliveries.js';
import { TopicPeers } from './topic-peers.js';
import { RPC_REQUEST_KIND, RPC_RESPONSE_KIND } from './rpc-codec.js';
import { RpcEngine, type RequestHandler, type RequestOptions, type RpcCounters } from './rpc.js';

/** Options of one `subscribe`. */
export interface SubscribeOptions {
  /**
   * Make the topic (every topic a pattern matches) durable on this node: deliveries are logged
   * before observers see them and what the node missed while down or cut off is pulled from a
   * peer (docs/persistence.md). Stays durable for the node's life once asked for.
   */
  readonly durable?: boolean;
}

/** Options of one `publish`. */
export interface PublishOptions {
  /** Application headers (string to string), carried end to end. At most 63, 16 KiB in all. */
  readonly headers?: Readonly<Record<string, string>>;
}

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

/** Node-level counters (beside the core's, the transport's and SWIM's). */
export interface NodeCounters {
  /** Plumtree frames received, by type, whatever their topic. */
  readonly framesReceived: FrameCounters;
  /** Plumtree frames handed to the frame transport, by type. */
  readonly framesSent: FrameCounters;
  /** GOSSIP (payload) frames received for topics this node does not subscribe to. */
  readonly gossipReceivedUnsubscribed: number;
  /** Any Plumtree frame received for a topic this node does not subscribe to. */
  readonly framesReceivedUnsubscribed: number;
  /** Frames that failed to decode, by reason (`plumtree:<reason>`, `handoff`, `unknown-kind`). */
  readonly frameDrops: Readonly<Record<string, number>>;
  /** Sends the frame transport did not queue, by result (`overflow`, `closed`, `unknown-peer`). */
  readonly sendFailures: Readonly<Record<string, number>>;
  /** Eager peers demoted to lazy because their queue was full. */
  readonly backpressureDemotions: number;
  /** Frames dropped by the `frameFilter` fault-injection hook. */
  readonly framesDroppedByFilter: number;
  /** Deliveries handed to observers (one per message, however many observers). */
  readonly deliveries: number;
  /** Deliveries dropped because the codec could not decode the payload. */
  readonly decodeErrors: number;
  /** Hand-offs, publisher side: sent (attempts), acked, retried, failed; subscriber side: received, injected, nacked. */
  readonly handoffs: {
    readonly sent: number;
    readonly acked: number;
    readonly retried: number;
    readonly failed: number;
    readonly received: number;
    readonly injected: number;
    readonly nacked: number;
  };
  /** Announcements dropped because a full peer's backlog was full too. */
  readonly deferredAnnouncementsDropped: number;
  /** Frame encoding work (fresh encodings, zero-copy forwards, reuses). */
  readonly encoder: Readonly<FrameEncoderStats>;
  /** Request/reply, both sides (see rpc.ts). */
  readonly rpc: RpcCounters;
  /** Deliveries waiting for handlers, and how often reading paused because too many waited. */
  readonly deliveryQueue: DeliveryQueueStats;
}

/** Everything `stats()` reports. */
export interface PlumtreeNodeStats {
  readonly name: string;
  /** One entry per topic this node is in the tree of. */
  readonly topics: Readonly<Record<string, NodeTopicStats>>;
  readonly node: NodeCounters;
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
  /** Lazarus (null without static seeds or when disabled). */
  readonly lazarus: LazarusStats | null;
  /** The store: directory, what was read at start, saves and their errors. */
  readonly persistence: PersistenceStats | null;
}

/** A durable record that found no observer (parked-deliveries.ts). */
interface ParkedRecord {
  readonly record: DurableRecord;
  readonly from: string;
  readonly redelivered: boolean;
}

/** Observers of one subscription string (topic or pattern). */
interface SubscriptionEntry {
  readonly topicOrPattern: string;
  readonly pattern: boolean;
  readonly observers: Set<Subscriber<Delivery>>;
  /** Subscribed through `options.topics`: kept without observers for the node's life. */
  pinned: boolean;
}

/** How often durable logs are trimmed to their retention, at most. */
const TRIM_INTERVAL_MS = 60_000;
/** How long `leave()` waits for durable appends in flight. */
const DURABLE_IDLE_TIMEOUT_MS = 2_000;

/** A publish handed to subscribers, waiting for an ACK. */
interface PendingHandoff {
  readonly key: string;
  readonly topic: string;
  readonly id: MessageId;
  readonly idText: string;
  readonly frame: Uint8Array;
  readonly tried: string[];
  current: string | undefined;
  timer: NodeJS.Timeout | undefined;
  readonly resolve: (id: string) => void;
  readonly reject: (e: Error) => void;
}

interface TopicState {
  readonly view: TopicPeers;
  bytesSent: number;
  bytesReceived: number;
}

const EMPTY_HEADERS: Readonly<Record<string, string>> = Object.freeze({});
/** Header entries the frame decoder accepts (its `maxHeaders`); one is kept for content-type. */
const MAX_HEADERS = 63;
/** Header bytes the frame decoder accepts (its `maxHeaderBytes`). */
const MAX_HEADER_BYTES = 16 * 1024;
/** How long a stale directory entry may wait for its broadcast before this node pulls it. */
const STALE_PULL_DELAY_MS = 500;
/** Pulls of one member's entry at most this often. */
const STALE_PULL_MIN_GAP_MS = 2_000;
/** Retry period of control frames refused by a full queue. */
const CONTROL_RETRY_MS = 50;
/** Announcements kept per peer while its queue is full. */
const DEFERRED_ANNOUNCEMENTS_PER_PEER = 4096;
/** How long `leave()` lets queued frames (the PRUNEs) drain before closing the transport. */
const LEAVE_DRAIN_MS = 500;
/** Validated topics remembered, so a hot publish skips the syntax check. */
const TOPIC_CACHE_CAP = 4096;

function zeroFrames(): FrameCounters {
  return { gossip: 0, ihave: 0, graft: 0, prune: 0 };
}

function countFrame(c: FrameCounters, type: FrameType): void {
  switch (type) {
    case FrameType.Gossip:
      c.gossip++;
      break;
    case FrameType.IHave:
      c.ihave++;
      break;
    case FrameType.Graft:
      c.graft++;
      break;
    case FrameType.Prune:
      c.prune++;
      break;
  }
}

/**
 * A running node. Start one with {@link PlumtreeNode.start}; see the file comment for how the
 * parts are wired.
 */
export class PlumtreeNode {
  /** This node's name. */
  readonly name: string;
  /** The incarnation of this node's message ids: its start time, ms since the Unix epoch. */
  readonly epoch: number;
  /**
   * Tree and connection events (hot). Completes when the node is closed.
   */
  readonly events$: Observable<PlumtreeNodeEvent>;
  /**
   * The alive and suspect members, this node included; the current list on subscription, then
   * every change (SWIM's `members$`). Completes when the node is closed.
   */
  readonly members$: Observable<SwimMember[]>;

  private readonly options: ResolvedNodeOptions;
  private readonly config: PlumtreeConfig;
  private readonly codec: PayloadCodec;
  private readonly directory: TopicDirectory;
  private readonly core: Plumtree;
  private readonly rng: Rng;
  private readonly encoder = new FrameEncoder();
  private readonly frameLimits: Partial<FrameLimits>;
  private readonly eventsSubject = new Subject<PlumtreeNodeEvent>();
  private readonly membersSubject = new BehaviorSubject<SwimMember[]>([]);
  private swim!: SwimNode;
  private frames!: FrameTransport;
  private readonly rpc: RpcEngine;

  private readonly subscriptions = new Map<string, SubscriptionEntry>();
  /** Concrete topic -> subscription entries delivering it; rebuilt lazily after changes. */
  private readonly routes = new Map<string, SubscriptionEntry[]>();
  private readonly topicStates = new Map<string, TopicState>();
  private readonly seqs = new Map<string, number>();
  private readonly validTopics = new Set<string>();
  private readonly handoffs = new Map<string, PendingHandoff>();
  /** `topic \u0001 peer` keys of demotions this node made for backpressure (labels the event). */
  private readonly backpressured = new Set<string>();
  /** Deliveries on their way to observers, off the protocol's turn (see delivery-queue.ts). */
  private readonly deliveryQueue: DeliveryQueue<Delivery>;
  /** Durable topics: log, order and catch-up (see durable-replicator.ts). */
  private readonly durable: DurableReplicator;
  /** Topics and patterns made durable by `subscribe(t, { durable: true })` or the options. */
  private readonly durablePatterns = new Set<string>();
  /** Durable topics whose log is opening, with the live records that arrived meanwhile. */
  private readonly durableOpening = new Map<string, { record: DurableRecord; from: string }[]>();
  /** Hop counts of live durable records, for their deliveries. */
  private readonly recordHops = new WeakMap<DurableRecord, number>();
  /** The open log of each durable topic (kept when the topic is left: it may be joined again). */
  private readonly durableLogs = new Map<string, DurableLog>();
  /** Durable records that found no observer, for the first one (parked-deliveries.ts). */
  private readonly parked: ParkedDeliveries<ParkedRecord>;
  private persistence: NodePersistence | undefined;
  private lazarusTask: Lazarus | null = null;
  private trimTimer: NodeJS.Timeout | undefined;
  /** PRUNEs and announcements refused by a full queue, retried every CONTROL_RETRY_MS. */
  private readonly deferred: DeferredControl;
  private readonly stalePulls = new Map<string, number>();
  /** The newest digest seen of each stale member (meta or ack payload). */
  private readonly staleDigests = new Map<string, Uint8Array>();
  /** Nodes whose entry the broadcast being applied changed (see applyBroadcastEntry). */
  private readonly changedByBroadcast: string[] = [];
  private collectChanges = false;
  private staleTimer: NodeJS.Timeout | undefined;

  private timer: NodeJS.Timeout | undefined;
  private timerAt: number | undefined;
  private driving = false;
  private refreshQueued = false;
  private announceQueued = false;
  private started = false;
  private closed = false;
  private leaving = false;
  private closing: Promise<void> | undefined;

  private readonly counters = {
    framesReceived: zeroFrames(),
    framesSent: zeroFrames(),
    gossipReceivedUnsubscribed: 0,
    framesReceivedUnsubscribed: 0,
    frameDrops: {} as Record<string, number>,
    sendFailures: {} as Record<string, number>,
    backpressureDemotions: 0,
    framesDroppedByFilter: 0,
    deliveries: 0,
    decodeErrors: 0,
    handoffs: { sent: 0, acked: 0, retried: 0, failed: 0, received: 0, injected: 0, nacked: 0 },
  };

  private constructor(options: ResolvedNodeOptions, seed: number) {
    this.options = options;
    this.name = options.name;
    this.config = options.plumtree;
    this.codec = options.codec;
    this.epoch = Date.now();
    this.directory = new TopicDirectory(options.name, options.directory);
    this.rng = createRng(seed ^ 0x2545f491);
    this.core = new Plumtree({
      self: options.name,
      epoch: this.epoch,
      rng: createRng(seed ^ 0x68e31da4),
      config: this.config,
      nowMs: this.epoch,
    });
    this.frameLimits = {
      maxFrameBytes: options.maxFrameBytes,
      maxPayloadBytes: this.config.maxMessageSize,
    };
    this.deferred = new DeferredControl(
      DEFERRED_ANNOUNCEMENTS_PER_PEER,
      Math.max(this.config.ihaveBatchSize, 64),
      // Refused payloads kept per peer: as much again as the transport's queue, so a slow peer
      // costs at most twice the cap.
      options.maxQueueBytes ?? FRAME_TRANSPORT_DEFAULTS.maxQueueBytes,
    );
    this.events$ = this.eventsSubject.asObservable();
    this.members$ = this.membersSubject.asObservable();
    this.deliveryQueue = new DeliveryQueue<Delivery>({
      highWater: options.maxPendingDeliveries,
      highWaterBytes: options.maxPendingDeliveryBytes,
      sliceMs: options.deliverySliceMs,
      onFull: () => this.frames.pauseInbound(),
      onDrained: () => this.frames.resumeInbound(),
    });
    for (const t of options.durable.topics) this.durablePatterns.add(t);
    this.parked = new ParkedDeliveries(options.maxPendingDeliveries);
    this.durable = new DurableReplicator(
      {
        send: (peer, frame) => !this.closed && this.sendFrame(peer, frame) === 'queued',
        deliver: (topic, record, from) => this.deliverRecord(topic, record, from),
        now: () => Date.now(),
        setTimer: (fn, ms) => {
          const t = setTimeout(fn, ms);
          t.unref();
          return t;
        },
        clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
      },
      { maxFrameBytes: options.maxFrameBytes },
    );
    this.rpc = new RpcEngine({
      name: this.name,
      codec: this.codec,
      rng: createRng(seed ^ 0x1b873593),
      send: (peer, frame) => (this.closed ? 'closed' : this.sendFrame(peer, frame)),
      subscribersOf: (topic) => this.directory.subscribersOf(topic, this.isAlive),
      isClosed: () => this.closed || this.leaving,
      countDrop: (reason) => this.countDrop(reason),
    });
    this.directory.onChange((node) => {
      if (this.collectChanges) this.changedByBroadcast.push(node);
      if (node === this.name) this.scheduleAnnounce();
      this.scheduleRefresh();
    });
  }

  /**
   * Validate the options (throwing one `PlumtreeNodeOptionsError` naming every problem), bind the
   * transport (unless one is given), start SWIM with the directory as its delegate, start the
   * frame transport on the same port, join `seeds` (rejecting with SWIM's `JoinError` when none
   * answers) and subscribe `topics`.
   */
  static async start(options: PlumtreeNodeOptions): Promise<PlumtreeNode> {
    const resolved = resolvePlumtreeNodeOptions(options);
    const seed = resolved.seed ?? randomInt(2 ** 31);
    const node = new PlumtreeNode(resolved, seed);
    await node.boot(seed);
    return node;
  }

  private async boot(seed: number): Promise<void> {
    const o = this.options;
    // The store first: a second process on the same dataDir fails before binding anything.
    try {
      this.persistence = await NodePersistence.open(o.dataDir, o.durable);
    } catch (e) {
      this.closed = true;
      // A transport handed in belongs to the node from `start` on, as on every other failure.
      await o.transport?.close();
      this.completeSubjects();
      throw e;
    }
    try {
      await this.bootNetwork(seed);
    } catch (e) {
      this.durable.close();
      await this.persistence.close();
      throw e;
    }
  }

  private async bootNetwork(seed: number): Promise<void> {
    const o = this.options;
    const persistence = this.persistence!;
    const now = Date.now();
    for (const t of o.topics) {
      this.directory.subscribe(t, now);
      this.subscriptions.set(t, {
        topicOrPattern: t,
        pattern: isPattern(t),
        observers: new Set(),
        pinned: true,
      });
    }
    // Bind first (when no transport is given) so the frame transport owns its first byte before
    // any peer can learn of this node and dial it.
    let transport: SwimTransport;
    if (o.transport !== undefined) {
      transport = o.transport;
    } else {
      const base = resolveSwimConfig(o.swim);
      transport = await UdpTcpTransport.bind({
        bindAddr: o.bindAddr,
        bindPort: o.bindPort,
        maxPacketBytes: base.udpBufferSize,
        streamTimeoutMs: base.tcpTimeoutMs,
      });
    }
    try {
      this.frames = new FrameTransport({
        transport,
        localName: this.name,
        resolve: (peer) => this.addressOf(peer),
        keyring: o.keyring,
        maxFrameBytes: o.maxFrameBytes,
        ...(o.maxQueueBytes !== undefined ? { maxQueueBytes: o.maxQueueBytes } : {}),
      });
    } catch (e) {
      await transport.close();
      throw e;
    }
    this.frames.onFrame((from, frame) => this.onFrame(from, frame));
    this.frames.onPeerState((peer, up) => this.onPeerState(peer, up));
    const delegate: SwimDelegate = {
      // Every probe ack carries the directory digest too, so a prober notices a stale entry of
      // the member it probed within one probe round, even when the meta update's gossip missed
      // it (memberlist's broadcasts reach each member with probability ~1 - e^-retransmits).
      ackPayload: () => this.directory.digest(),
      localState: () => this.directory.encodeState(),
      mergeRemoteState: (state) => {
        this.directory.mergeState(state);
      },
    };
    try {
      this.swim = await SwimNode.start({
        name: this.name,
        bindAddr: o.bindAddr,
        bindPort: o.bindPort,
        ...(o.advertiseAddr !== undefined ? { advertiseAddr: o.advertiseAddr } : {}),
        ...(o.advertisePort !== undefined ? { advertisePort: o.advertisePort } : {}),
        seeds: o.seeds,
        ...(o.keyring !== null ? { keyring: o.keyring } : {}),
        label: o.label,
        config: o.swim,
        meta: this.directory.digest(),
        transport,
        seed,
        delegate,
        ...(persistence.storedIncarnation > 0
          ? { incarnation: persistence.storedIncarnation }
          : {}),
      });
    } catch (e) {
      this.closed = true;
      await this.frames.close();
      await transport.close();
      this.completeSubjects();
      throw e;
    }
    this.started = true;
    this.swim.events$.subscribe({ next: (e) => this.onSwimEvent(e) });
    this.swim.members$.subscribe({ next: (m) => this.membersSubject.next(m) });
    // Members met during the join raised their events before anyone listened: start from now.
    for (const t of o.topics) if (!isPattern(t)) this.joinTopic(t);
    this.announce();
    this.refresh();
    persistence.attach(this.swim);
    // Static seeds and the peers of the previous life: a node restarted without seeds finds its
    // cluster again. Failures are fine (they may be gone); Lazarus keeps trying static seeds.
    const explicit = new Set(o.seeds);
    const extra = persistence
      .joinCandidates(o.seeds, o.staticSeeds, this.swim.localMember.address)
      .filter((a) => !explicit.has(a));
    if (extra.length > 0) await this.swim.join(extra).catch(() => 0);
    if (o.staticSeeds.length > 0 && o.lazarus.enabled) {
      this.lazarusTask = new Lazarus(swimLazarusHost(this.swim), {
        seeds: o.staticSeeds,
        intervalMs: o.lazarus.intervalMs,
      });
      this.lazarusTask.start();
    }
    const trimEvery = Math.min(TRIM_INTERVAL_MS, Math.max(1_000, o.durable.retentionMs / 10));
    this.trimTimer = setInterval(() => this.trimLogs(), trimEvery);
    this.trimTimer.unref();
  }

  // ---------------------------------------------------------------- getters

  /** The bound `host:port` of SWIM and of the frame streams. */
  get address(): string {
    return this.swim.boundAddress;
  }

  /**
   * The SWIM node under this one (membership events, user messages, member table). Available once
   * `start` resolved. Leave and close through this node, not through it.
   */
  get swimNode(): SwimNode {
    return this.swim;
  }

  /**
   * Lazarus, when static seeds are configured and it is enabled: `stats()` (probes sent,
   * reconnections, seeds missing now) and `reconnections$`. Null otherwise.
   */
  get lazarus(): Lazarus | null {
    return this.lazarusTask;
  }

  /** Catch-up progress and failures of durable topics, and log append failures. */
  get durableEvents$(): Observable<DurableReplicatorEvent> {
    return this.durable.events$;
  }

  /** The store directory, or null with `persistence: false`. */
  get dataDir(): string | null {
    return this.persistence?.dataDir ?? null;
  }

  /** Whether `topic` is durable on this node now (its log is open). */
  isDurable(topic: string): boolean {
    return this.durable.hasTopic(topic);
  }

  /**
   * Resolves once every durable record accepted so far on `topic` is logged and handed to the
   * delivery queue (at once for a topic that is not durable).
   */
  durableIdle(topic: string): Promise<void> {
    return this.durable.whenIdle(topic);
  }

  /** Whether {@link close} or {@link leave} was called. */
  get isClosed(): boolean {
    return this.closed || this.leaving;
  }

  /** The alive and suspect members now, this node included. */
  members(): SwimMember[] {
    return this.swim.members();
  }

  /** Concrete topics whose tree this node is in (subscribed, matched by a pattern, or pinned). */
  topics(): string[] {
    return this.core.topics();
  }

  /** The local subscription set as the directory publishes it (topics and patterns). */
  subscriptionsList(): readonly string[] {
    return this.directory.localSubscriptions();
  }

  /** Nodes (other than this one) the directory says subscribe to `topic` and are alive. */
  subscribersOf(topic: string): string[] {
    return this.directory.subscribersOf(topic, this.isAlive);
  }

  /** Counters of every layer; see {@link PlumtreeNodeStats}. */
  stats(): PlumtreeNodeStats {
    const topics: Record<string, NodeTopicStats> = {};
    for (const topic of this.core.topics()) {
      const s = this.core.stats(topic)!;
      const st = this.topicStates.get(topic);
      topics[topic] = {
        ...s,
        peers: st?.view.size ?? 0,
        observers: this.route(topic).reduce((n, e) => n + e.observers.size, 0),
        bytesSent: st?.bytesSent ?? 0,
        bytesReceived: st?.bytesReceived ?? 0,
      };
    }
    const c = this.counters;
    const sizes = this.core.sizes();
    const members = this.started ? this.swim.members() : [];
    const swimStats = this.started ? this.swim.stats() : undefined;
    return {
      name: this.name,
      topics,
      node: {
        framesReceived: { ...c.framesReceived },
        framesSent: { ...c.framesSent },
        gossipReceivedUnsubscribed: c.gossipReceivedUnsubscribed,
        framesReceivedUnsubscribed: c.framesReceivedUnsubscribed,
        frameDrops: { ...c.frameDrops },
        sendFailures: { ...c.sendFailures },
        backpressureDemotions: c.backpressureDemotions,
        framesDroppedByFilter: c.framesDroppedByFilter,
        deliveries: c.deliveries,
        decodeErrors: c.decodeErrors,
        handoffs: { ...c.handoffs },
        deferredAnnouncementsDropped: this.deferred.dropped,
        encoder: { ...this.encoder.stats },
        rpc: this.rpc.stats(),
        deliveryQueue: this.deliveryQueue.stats(),
      },
      durable: this.durable.stats(),
      parked: { records: this.parked.size, dropped: this.parked.dropped },
      lazarus: this.lazarusTask?.stats() ?? null,
      persistence: this.persistence?.stats() ?? null,
      core: { ...this.core.counters, cache: sizes.cache, seen: sizes.seen, missing: sizes.missing },
      transport: this.frames.stats(),
      swim: {
        members: members.length,
        alive: members.filter((m) => m.state === 'alive').length,
        suspect: members.filter((m) => m.state === 'suspect').length,
        healthScore: this.started ? this.swim.healthScore : 0,
        packetsHandled: swimStats?.packetsHandled ?? 0,
        droppedTotal: swimStats?.droppedTotal ?? 0,
      },
      directory: {
        ...this.directory.stats(),
        localVersion: this.directory.localVersion,
        subscriptions: this.directory.localSubscriptions(),
      },
    };
  }

  // ---------------------------------------------------------------- API

  /**
   * Publish `payload` on `topic`; resolves to the message id (`origin/epoch/seq`).
   *
   * When this node is in the topic's tree (it subscribes to the topic or a matching pattern), the
   * message is delivered locally and pushed down the tree at once, and the promise is already
   * resolved. Otherwise the message is handed to a live subscriber, and the promise resolves when
   * one acknowledges having injected it.
   *
   * Rejects with `InvalidTopicError`, `InvalidHeadersError`, `PayloadTooLargeError` (the encoded
   * payload is above `maxMessageSize`), `NodeClosedError`, `NoSubscribersError` (no live
   * subscriber, or none acknowledged after `handoffMaxAttempts`), or the codec's encode error.
   */
  publish(topic: string, payload: unknown, options: PublishOptions = {}): Promise<string> {
    if (this.closed || this.leaving) return Promise.reject(new NodeClosedError(this.name));
    let message: GossipMessage;
    try {
      this.checkTopic(topic);
      const bytes = this.codec.encode(payload);
      if (!(bytes instanceof Uint8Array)) throw new TypeError('codec.encode must return bytes');
      if (bytes.length > this.config.maxMessageSize) {
        throw new PayloadTooLargeError(bytes.length, this.config.maxMessageSize);
      }
      const headers = this.outgoingHeaders(payload, options.headers);
      message = {
        type: FrameType.Gossip,
        topic,
        id: { origin: this.name, epoch: this.epoch, seq: this.nextSeq(topic) },
        hops: 0,
        publishedAtMs: Date.now(),
        ...(headers !== undefined ? { headers } : {}),
        payload: bytes,
      };
    } catch (e) {
      return Promise.reject(e as Error);
    }
    if (this.core.isSubscribed(topic) || this.directory.localMatches(topic)) {
      this.joinTopic(topic);
      this.core.inject(topic, message.id, message.payload, Date.now(), {
        publishedAtMs: message.publishedAtMs,
        ...(message.headers !== undefined ? { headers: message.headers } : {}),
      });
      this.drive();
      return Promise.resolve(formatMessageId(message.id));
    }
    return this.handOff(message);
  }

  /**
   * Deliveries of a topic or pattern (`orders.*`: one segment, `orders.#`: any rest). Hot: the
   * node joins the topic (and, for a pattern, every matching topic) while at least one observer
   * is subscribed, and leaves when the last one unsubscribes. Each message is delivered at most
   * once per node (while its id is remembered) and shared by every observer.
   * With `{ durable: true }` the topic is durable on this node (see {@link SubscribeOptions}).
   * Throws `InvalidTopicError` for an invalid topic or pattern and `NodeClosedError` on a closed
   * node. The observable completes when the node closes.
   */
  subscribe<T = unknown>(
    topicOrPattern: string,
    options: SubscribeOptions = {},
  ): Observable<Delivery<T>> {
    const reason = validatePattern(topicOrPattern);
    if (reason !== null) throw new InvalidTopicError(topicOrPattern, reason);
    if (this.closed || this.leaving) throw new NodeClosedError(this.name);
    if (options.durable === true && !this.durablePatterns.has(topicOrPattern)) {
      this.durablePatterns.add(topicOrPattern);
      // Topics joined already (through another subscription) become durable now.
      for (const t of this.core.topics()) this.ensureDurable(t);
    }
    return new Observable<Delivery<T>>((subscriber) => {
      if (this.closed || this.leaving) {
        subscriber.error(new NodeClosedError(this.name));
        return undefined;
      }
      const s = subscriber as unknown as Subscriber<Delivery>;
      this.addObserver(topicOrPattern, s);
      return () => this.removeObserver(topicOrPattern, s);
    });
  }

  /**
   * Leave gracefully: leave every tree (PRUNE to the eager peers, so they stop pushing at once),
   * let the frames drain briefly, broadcast the SWIM leave (waiting up to `leaveTimeoutMs`),
   * then close. Pending hand-offs reject with `NodeClosedError`.
   */
  async leave(): Promise<void> {
    if (this.closed || this.leaving) return this.closing;
    this.leaving = true;
    const now = Date.now();
    const topics = this.core.topics();
    for (const topic of topics) this.core.unsubscribe(topic, now);
    this.drive();
    // Durable records accepted are logged and handed over before the node goes.
    await Promise.race([
      Promise.all(topics.map((t) => this.durable.whenIdle(t))),
      new Promise((resolve) => setTimeout(resolve, DURABLE_IDLE_TIMEOUT_MS).unref()),
    ]);
    await this.waitForDrain(LEAVE_DRAIN_MS);
    this.failHandoffs();
    this.rpc.close();
    const leaveDone = this.swim.leave(this.options.leaveTimeoutMs).catch(() => false);
    await leaveDone;
    await this.close();
  }

  /**
   * Stop at once without telling anyone (peers detect the failure): queued frames are dropped,
   * observers complete, pending hand-offs reject with `NodeClosedError`. Idempotent.
   */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.staleTimer !== undefined) clearTimeout(this.staleTimer);
    this.staleTimer = undefined;
    this.failHandoffs();
    this.rpc.close();
    if (this.trimTimer !== undefined) clearInterval(this.trimTimer);
    this.trimTimer = undefined;
    this.lazarusTask?.stop();
    // Records not yet logged are dropped: they were not delivered, and catch-up pulls them later.
    this.durable.close();
    // What was received is handed over before the observers complete.
    this.deliveryQueue.close();
    this.closing = (async () => {
      await this.frames.close();
      await this.swim.close();
      await this.persistence?.close();
      for (const entry of this.subscriptions.values()) {
        for (const o of [...entry.observers]) o.complete();
      }
      this.subscriptions.clear();
      this.routes.clear();
      this.completeSubjects();
    })();
    return this.closing;
  }

  /**
   * Send a request to ONE live subscriber of `topic` (lowest SWIM RTT, random among equals) and
   * resolve with its handler's reply (decoded by the codec; `undefined` for an empty reply).
   * An attempt that times out (`timeoutMs`, default 5,000), whose responder goes down (member
   * failed or left, frame connection dropped) or has no handler is retried on another subscriber,
   * `maxAttempts` attempts in all (default 2), then the promise rejects with
   * `RequestTimeoutError`. Rejects with `NoSubscribersError` when the topic has no live
   * subscriber, `RequestHandlerError` when the responder's handler threw, `NodeClosedError`
   * when this node closes or leaves first, `InvalidTopicError` for an invalid topic.
   */
  request<T = unknown>(topic: string, payload: unknown, options: RequestOptions = {}): Promise<T> {
    try {
      this.checkTopic(topic);
    } catch (e) {
      return Promise.reject(e as Error);
    }
    return this.rpc.request(topic, payload, options) as Promise<T>;
  }

  /**
   * Answer requests of a topic or pattern with `handler` (its return value, or what its promise
   * resolves to, is the reply; a throw is sent back as `RequestHandlerError`). The node
   * subscribes to `topicOrPattern` while the handler is registered, so requesters find it in the
   * directory. Returns the removal. Throws `InvalidTopicError`, `NodeClosedError`, or an `Error`
   * when a handler of the same key is registered already.
   */
  handleRequests(topicOrPattern: string, handler: RequestHandler): () => void {
    const subscription = this.subscribe(topicOrPattern).subscribe({ error: () => undefined });
    let remove: () => void;
    try {
      remove = this.rpc.addHandler(topicOrPattern, handler);
    } catch (e) {
      subscription.unsubscribe();
      throw e;
    }
    return () => {
      remove();
      subscription.unsubscribe();
    };
  }

  // ---------------------------------------------------------------- subscriptions

  private addObserver(topicOrPattern: string, s: Subscriber<Delivery>): void {
    let entry = this.subscriptions.get(topicOrPattern);
    if (entry === undefined) {
      entry = {
        topicOrPattern,
        pattern: isPattern(topicOrPattern),
        observers: new Set(),
        pinned: false,
      };
      this.subscriptions.set(topicOrPattern, entry);
    }
    entry.observers.add(s);
    this.routes.clear();
    const matches = (t: string): boolean =>
      entry.pattern ? topicMatches(topicOrPattern, t) : t === topicOrPattern;
    for (const [topic, items] of this.parked.take(matches)) {
      for (const p of items) this.deliverRecord(topic, p.record, p.from, p.redelivered);
    }
    if (entry.observers.size === 1 && !entry.pinned) {
      this.directory.subscribe(topicOrPattern, Date.now());
      if (entry.pattern) {
        for (const t of this.directory.knownTopics()) {
          if (topicMatches(topicOrPattern, t)) this.joinTopic(t);
        }
      } else {
        this.joinTopic(topicOrPattern);
      }
      this.drive();
    }
  }

  private removeObserver(topicOrPattern: string, s: Subscriber<Delivery>): void {
    const entry = this.subscriptions.get(topicOrPattern);
    if (entry === undefined || !entry.observers.delete(s)) return;
    this.routes.clear();
    if (entry.observers.size > 0 || entry.pinned || this.closed) return;
    this.subscriptions.delete(topicOrPattern);
    const now = Date.now();
    this.directory.unsubscribe(topicOrPattern, now);
    for (const topic of this.core.topics()) {
      if (!this.directory.localMatches(topic)) this.leaveTopic(topic, now);
    }
    this.drive();
  }

  /** The subscription entries whose observers receive `topic`'s deliveries. */
  private route(topic: string): SubscriptionEntry[] {
    let r = this.routes.get(topic);
    if (r === undefined) {
      r = [];
      for (const e of this.subscriptions.values()) {
        if (e.pattern ? topicMatches(e.topicOrPattern, topic) : e.topicOrPattern === topic) {
          r.push(e);
        }
      }
      this.routes.set(topic, r);
    }
    return r;
  }

  private joinTopic(topic: string): void {
    if (this.core.isSubscribed(topic) || this.closed || !this.started) return;
    const state: TopicState = { view: new TopicPeers(topic), bytesSent: 0, bytesReceived: 0 };
    state.view.update(this.directory.subscribersOf(topic, this.isAlive));
    this.topicStates.set(topic, state);
    this.core.subscribe(topic, state.view, Date.now());
    this.eventsSubject.next({ type: 'topic-joined', topic });
    this.ensureDurable(topic);
  }

  /** Whether a durable topic or pattern covers `topic`. */
  private wantsDurable(topic: string): boolean {
    for (const p of this.durablePatterns) {
      if (p === topic || (isPattern(p) && topicMatches(p, topic))) return true;
    }
    return false;
  }

  /**
   * Opens the log of `topic` when it should be durable and is not yet; live records arriving
   * while it opens wait and go through the log once it is open.
   */
  private ensureDurable(topic: string): void {
    if (this.closed || this.durable.hasTopic(topic) || this.durableOpening.has(topic)) return;
    if (!this.core.isSubscribed(topic) || !this.wantsDurable(topic)) return;
    this.durableOpening.set(topic, []);
    const known = this.durableLogs.get(topic);
    void (known !== undefined ? Promise.resolve(known) : this.persistence!.openLog(topic)).then(
      (log) => {
        this.durableLogs.set(topic, log);
        const waiting = this.durableOpening.get(topic) ?? [];
        this.durableOpening.delete(topic);
        if (this.closed || !this.core.isSubscribed(topic)) return;
        this.durable.addTopic(topic, log);
        // At least once across a crash: what the last life logged but did not hand over.
        for (const r of log.takeUnhandled?.() ?? []) this.deliverRecord(topic, r, this.name, true);
        this.durable.onPeersChanged(topic, this.directory.subscribersOf(topic, this.isAlive));
        for (const w of waiting) this.durable.onLive(topic, w.record, w.from);
      },
      (e: unknown) => {
        const waiting = this.durableOpening.get(topic) ?? [];
        this.durableOpening.delete(topic);
        this.countDrop('durable-open');
        // Delivered without the log rather than lost.
        for (const w of waiting) this.deliverRecord(topic, w.record, w.from);
        this.eventsSubject.next({
          type: 'durable-failed',
          topic,
          error: (e as Error).message,
        });
      },
    );
  }

  private trimLogs(): void {
    for (const log of this.durableLogs.values()) {
      const trim = (log as { trim?: () => Promise<number> }).trim;
      if (trim === undefined) continue;
      trim.call(log).catch(() => this.countDrop('durable-trim'));
    }
  }

  private leaveTopic(topic: string, now: number): void {
    if (!this.core.isSubscribed(topic)) return;
    this.core.unsubscribe(topic, now);
    this.topicStates.delete(topic);
    this.routes.delete(topic);
    this.durable.removeTopic(topic);
    this.durableOpening.delete(topic);
    this.eventsSubject.next({ type: 'topic-left', topic });
  }

  // ---------------------------------------------------------------- membership and directory

  private readonly isAlive = (node: string): boolean => {
    if (node === this.name || !this.started) return false;
    const m = this.swim.member(node);
    return m !== undefined && (m.state === 'alive' || m.state === 'suspect');
  };

  private addressOf(peer: string): string | undefined {
    if (!this.started) return undefined;
    const m = this.swim.member(peer);
    return m === undefined || m.state === 'dead' || m.state === 'left' ? undefined : m.address;
  }

  private onSwimEvent(e: SwimEvent): void {
    if (this.closed) return;
    switch (e.type) {
      case 'user-message':
        // The only user messages this node's SWIM carries are directory entries.
        this.applyBroadcastEntry(e.payload);
        break;
      case 'ping-complete':
        this.core.recordRtt(e.member.name, e.rttMs);
        this.rpc.recordRtt(e.member.name, e.rttMs);
        this.checkStale(e.member.name, e.payload);
        break;
      case 'member-join':
      case 'member-update':
        if (e.member.name !== this.name) {
          // A member back from the dead is a candidate again (the core avoids recent failures).
          if (e.type === 'member-join') this.core.peerUp(e.member.name, Date.now());
          this.checkStale(e.member.name, e.member.meta);
          this.scheduleRefresh();
        }
        break;
      case 'member-failed':
      case 'member-left': {
        const peer = e.member.name;
        if (peer === this.name) break;
        if (e.type === 'member-left') this.directory.forget(peer);
        this.frames.disconnect(peer);
        this.deferred.forget(peer);
        this.core.peerDown(peer, Date.now());
        this.retryHandoffsTo(peer);
        this.rpc.peerDown(peer, e.type === 'member-left' ? 'left' : 'failed');
        this.scheduleRefresh();
        this.drive();
        break;
      }
      default:
        break;
    }
  }

  /**
   * Apply a directory entry broadcast, and relay it when it was news. memberlist's user
   * broadcasts are sent only by the node that queued them, `retransmitMult * log10(n + 1)` times
   * (2 in the local profile): without relaying (as Serf does for its events) an entry reaches a
   * few members and the rest wait for a push-pull. Relaying only what changed this node's
   * directory stops the epidemic once everyone has the version; the broadcast name
   * (`topics:<node>`) lets a newer version replace an older one in every queue.
   */
  private applyBroadcastEntry(payload: Uint8Array): void {
    this.changedByBroadcast.length = 0;
    this.collectChanges = true;
    try {
      this.directory.applyEntry(payload);
    } finally {
      this.collectChanges = false;
    }
    const changed = this.changedByBroadcast;
    if (changed.length !== 1 || changed[0] === this.name || this.swim.isClosed) return;
    try {
      this.swim.queueBroadcast(payload, { name: `topics:${changed[0]}` });
    } catch {
      // Larger than a packet: it could not have arrived as a broadcast in the first place.
    }
  }

  private onPeerState(peer: string, up: boolean): void {
    if (this.closed) return;
    this.eventsSubject.next(up ? { type: 'peer-up', peer } : { type: 'peer-down', peer });
    if (!up) {
      this.retryHandoffsTo(peer);
      this.rpc.peerDown(peer, 'connection lost');
    }
  }

  /**
   * A member's digest (its meta, or its last probe ack) announces a directory version newer than
   * ours: its broadcast is probably on the way; if it has not arrived after STALE_PULL_DELAY_MS,
   * pull the member's state.
   */
  private checkStale(name: string, digest: Uint8Array): void {
    if (digest.length === 0 || !this.directory.isStale(name, digest)) return;
    if (!this.stalePulls.has(name)) this.stalePulls.set(name, 0);
    this.staleDigests.set(name, digest);
    this.staleTimer ??= setTimeout(() => this.pullStale(), STALE_PULL_DELAY_MS);
  }

  private pullStale(): void {
    this.staleTimer = undefined;
    if (this.closed || this.leaving) return;
    const now = Date.now();
    for (const [name, lastPullMs] of this.stalePulls) {
      const m = this.swim.member(name);
      if (m === undefined || m.state === 'dead' || m.state === 'left') {
        this.stalePulls.delete(name);
        this.staleDigests.delete(name);
        continue;
      }
      const latest = this.staleDigests.get(name);
      if (latest === undefined || !this.directory.isStale(name, latest)) {
        this.stalePulls.delete(name);
        this.staleDigests.delete(name);
        continue;
      }
      if (now - lastPullMs < STALE_PULL_MIN_GAP_MS) continue;
      this.stalePulls.set(name, now);
      // A push-pull with the member: its state carries its own newest entry.
      this.swim.join([m.address]).catch(() => undefined);
    }
    if (this.stalePulls.size > 0) {
      this.staleTimer = setTimeout(() => this.pullStale(), STALE_PULL_DELAY_MS);
    }
  }

  private scheduleAnnounce(): void {
    if (this.announceQueued) return;
    this.announceQueued = true;
    // Deferred: the directory may change inside a SWIM delegate call, where re-entering SWIM
    // (broadcast queue, meta update) would run in the middle of its own processing.
    queueMicrotask(() => {
      this.announceQueued = false;
      this.announce();
    });
  }

  private announce(): void {
    if (!this.started || this.closed || this.swim.isClosed) return;
    try {
      this.swim.queueBroadcast(this.directory.encodeLocalEntry(), { name: `topics:${this.name}` });
    } catch {
      // Larger than a packet: peers learn the entry through the digest and push-pull.
    }
    this.swim.updateMeta(this.directory.digest());
    this.persistence?.saveSubscriptions(this.directory.localSubscriptions());
  }

  private scheduleRefresh(): void {
    if (this.refreshQueued) return;
    this.refreshQueued = true;
    queueMicrotask(() => {
      this.refreshQueued = false;
      this.refresh();
    });
  }

  /** Recompute every topic's view, tell the core, and join topics new to local patterns. */
  private refresh(): void {
    if (!this.started || this.closed) return;
    const now = Date.now();
    for (const [topic, state] of this.topicStates) {
      const { removed, added } = state.view.update(
        this.directory.subscribersOf(topic, this.isAlive),
      );
      for (const peer of removed) this.core.neighbourDown(topic, peer, now);
      // Subscribing again with the same view refills a tree below its degree.
      if (added > 0) this.core.subscribe(topic, state.view, now);
      if ((added > 0 || removed.length > 0) && this.durable.hasTopic(topic)) {
        this.durable.onPeersChanged(topic, this.directory.subscribersOf(topic, this.isAlive));
      }
    }
    if (!this.leaving) {
      for (const entry of this.subscriptions.values()) {
        if (!entry.pattern) continue;
        for (const t of this.directory.knownTopics()) {
          if (topicMatches(entry.topicOrPattern, t)) this.joinTopic(t);
        }
      }
    }
    this.drive();
  }

  // ---------------------------------------------------------------- frames in

  private onFrame(from: string, frame: Uint8Array): void {
    if (this.closed) return;
    const kind = frame[0];
    if (kind === FRAME_CODEC_VERSION) this.onPlumtreeFrame(from, frame);
    else if (kind === HANDOFF_FRAME_KIND) this.onHandoffFrame(from, frame);
    else if (kind === RPC_REQUEST_KIND || kind === RPC_RESPONSE_KIND) this.rpc.onFrame(from, frame);
    else if (kind === CATCHUP_REQUEST_KIND || kind === CATCHUP_RESPONSE_KIND) {
      this.durable.onFrame(from, frame);
    } else this.countDrop('unknown-kind');
  }

  private onPlumtreeFrame(from: string, frame: Uint8Array): void {
    const d = decodeFrame(frame, this.frameLimits);
    if (!d.ok) {
      this.countDrop(`plumtree:${d.error.reason}`);
      return;
    }
    const msg = d.message;
    countFrame(this.counters.framesReceived, msg.type);
    if (!this.core.isSubscribed(msg.topic)) {
      if (!this.leaving && this.directory.localMatches(msg.topic)) {
        // A topic first seen here that a local pattern matches: join its tree now.
        this.joinTopic(msg.topic);
      } else {
        this.counters.framesReceivedUnsubscribed++;
        if (msg.type === FrameType.Gossip) this.counters.gossipReceivedUnsubscribed++;
        return;
      }
    }
    const state = this.topicStates.get(msg.topic);
    if (state !== undefined) state.bytesReceived += frame.length;
    if (msg.type === FrameType.Gossip) this.encoder.rememberGossip(msg.id, frame);
    this.core.handleMessage(from, msg, Date.now());
    this.drive();
  }

  private onHandoffFrame(from: string, frame: Uint8Array): void {
    const h = decodeHandoff(frame, this.frameLimits);
    if (h === null) {
      this.countDrop('handoff');
      return;
    }
    if (h.type === HandoffType.Request) {
      this.onHandoffRequest(from, h.message, h.gossipFrame);
      return;
    }
    const pending = this.handoffs.get(`${h.topic}\u0001${messageKey(h.id)}`);
    if (pending === undefined || pending.current !== from) return; // late or foreign answer
    if (h.type === HandoffType.Ack) {
      this.counters.handoffs.acked++;
      this.finishHandoff(pending);
      pending.resolve(pending.idText);
    } else {
      this.nextHandoffAttempt(pending);
    }
  }

  private onHandoffRequest(from: string, msg: GossipMessage, gossipFrame: Uint8Array): void {
    this.counters.handoffs.received++;
    const topic = msg.topic;
    if (!this.core.isSubscribed(topic)) {
      if (!this.leaving && this.directory.localMatches(topic)) this.joinTopic(topic);
    }
    if (!this.core.isSubscribed(topic)) {
      this.counters.handoffs.nacked++;
      this.answerHandoff(from, encodeHandoffAnswer(HandoffType.Nack, topic, msg.id));
      return;
    }
    this.encoder.rememberGossip(msg.id, gossipFrame);
    try {
      const fresh = this.core.inject(topic, msg.id, msg.payload, Date.now(), {
        from,
        publishedAtMs: msg.publishedAtMs,
        ...(msg.headers !== undefined ? { headers: msg.headers } : {}),
      });
      if (fresh) this.counters.handoffs.injected++;
    } catch (e) {
      if (!(e instanceof MessageTooLargeError)) throw e;
      this.counters.handoffs.nacked++;
      this.answerHandoff(from, encodeHandoffAnswer(HandoffType.Nack, topic, msg.id));
      return;
    }
    // The tree's frames are queued before the ACK: once acknowledged, the message is on its way.
    this.drive();
    this.answerHandoff(from, encodeHandoffAnswer(HandoffType.Ack, topic, msg.id));
  }

  /** Sends a hand-off answer to the publisher, also while SWIM has not met it yet. */
  private answerHandoff(to: string, frame: Uint8Array): void {
    sendToSender(this.replyHost, to, frame);
  }

  private readonly replyHost = {
    send: (peer: string, frame: Uint8Array): string => this.sendFrame(peer, frame),
    isClosed: (): boolean => this.closed,
  };

  // ---------------------------------------------------------------- hand-off (publisher side)

  private handOff(message: GossipMessage): Promise<string> {
    let frame: Uint8Array;
    try {
      frame = encodeHandoffRequest(message);
    } catch (e) {
      return Promise.reject(e as Error);
    }
    return new Promise<string>((resolve, reject) => {
      const pending: PendingHandoff = {
        key: `${message.topic}\u0001${messageKey(message.id)}`,
        topic: message.topic,
        id: message.id,
        idText: formatMessageId(message.id),
        frame,
        tried: [],
        current: undefined,
        timer: undefined,
        resolve,
        reject,
      };
      this.handoffs.set(pending.key, pending);
      this.nextHandoffAttempt(pending);
    });
  }

  /** Send the hand-off to the next untried live subscriber, or reject when none is left. */
  private nextHandoffAttempt(p: PendingHandoff): void {
    if (p.timer !== undefined) clearTimeout(p.timer);
    p.timer = undefined;
    for (;;) {
      if (this.closed || this.leaving) {
        this.finishHandoff(p);
        p.reject(new NodeClosedError(this.name));
        return;
      }
      const candidates = this.directory
        .subscribersOf(p.topic, this.isAlive)
        .filter((n) => !p.tried.includes(n));
      if (candidates.length === 0 || p.tried.length >= this.options.handoffMaxAttempts) {
        this.counters.handoffs.failed++;
        this.finishHandoff(p);
        p.reject(new NoSubscribersError(p.topic, p.tried));
        return;
      }
      if (p.tried.length > 0) this.counters.handoffs.retried++;
      const peer = candidates[rngInt(this.rng, candidates.length)]!;
      p.tried.push(peer);
      p.current = peer;
      this.counters.handoffs.sent++;
      if (this.sendFrame(peer, p.frame) !== 'queued') continue;
      p.timer = setTimeout(() => {
        p.timer = undefined;
        this.nextHandoffAttempt(p);
      }, this.options.handoffTimeoutMs);
      return;
    }
  }

  private finishHandoff(p: PendingHandoff): void {
    if (p.timer !== undefined) clearTimeout(p.timer);
    p.timer = undefined;
    p.current = undefined;
    this.handoffs.delete(p.key);
  }

  private retryHandoffsTo(peer: string): void {
    for (const p of [...this.handoffs.values()]) {
      if (p.current === peer) this.nextHandoffAttempt(p);
    }
  }

  private failHandoffs(): void {
    for (const p of [...this.handoffs.values()]) {
      this.finishHandoff(p);
      p.reject(new NodeClosedError(this.name));
    }
  }

  // ---------------------------------------------------------------- the loop

  /** Drain the core in its documented order, then re-arm the timer. */
  private drive(): void {
    if (this.driving || this.closed || !this.started) return;
    this.driving = true;
    try {
      for (;;) {
        const t = this.core.pollTransmit();
        if (t !== undefined) {
          this.transmit(t);
          continue;
        }
        const e = this.core.pollEvent();
        if (e === undefined) break;
        this.onCoreEvent(e);
      }
    } finally {
      this.encoder.endBatch();
      this.driving = false;
    }
    this.armTimer();
  }

  private transmit(t: Transmit): void {
    const msg = t.message;
    let bytes: Uint8Array;
    try {
      bytes = this.encoder.encode(msg);
    } catch {
      // Only a message the format cannot carry (e.g. hops past 65535) gets here.
      this.countDrop('encode');
      return;
    }
    const r = this.sendFrame(t.to, bytes);
    if (r === 'queued') {
      countFrame(this.counters.framesSent, msg.type);
      const state = this.topicStates.get(msg.topic);
      if (state !== undefined) state.bytesSent += bytes.length;
      return;
    }
    if (r !== 'overflow') return;
    switch (msg.type) {
      case FrameType.Gossip:
        // Backpressure: stop pushing payloads to a peer that cannot keep up. It hears of this
        // message (and the next ones) by IHAVE once its queue has room, and grafts them back.
        this.backpressured.add(`${msg.topic}\u0001${t.to}`);
        if (this.core.demotePeer(msg.topic, t.to, Date.now())) {
          this.counters.backpressureDemotions++;
        } else {
          this.backpressured.delete(`${msg.topic}\u0001${t.to}`);
        }
        // Keep the payload itself while the budget allows (a GRAFT answer must not be lost to a
        // full queue); beyond it, announce it and let the peer graft it later.
        if (!this.deferred.addGossip(t.to, msg.topic, bytes)) {
          this.deferred.addAnnouncements(t.to, msg.topic, [{ id: msg.id, hops: msg.hops }]);
        }
        break;
      case FrameType.IHave:
        this.deferred.addAnnouncements(t.to, msg.topic, msg.entries);
        break;
      case FrameType.Prune:
        // Without the PRUNE the peer keeps pushing, and its next GOSSIP makes it eager again.
        this.deferred.addPrune(t.to, msg.topic);
        break;
      case FrameType.Graft:
        // The missing-message timer retries (with the next announcer) on its own.
        break;
    }
  }

  /** Send a payload frame of the deferred backlog; true when the transport took it. */
  private readonly trySendDeferredGossip = (
    peer: string,
    topic: string,
    frame: Uint8Array,
  ): boolean => {
    if (!this.isAlive(peer)) return true; // nobody to send it to any more: drop it
    const r = this.sendFrame(peer, frame);
    if (r === 'overflow') return false;
    if (r === 'queued') {
      countFrame(this.counters.framesSent, FrameType.Gossip);
      const state = this.topicStates.get(topic);
      if (state !== undefined) state.bytesSent += frame.length;
    }
    return true;
  };

  /** Send a control frame of the deferred backlog; true when the transport took it. */
  private readonly trySendControl = (
    peer: string,
    message: PruneMessage | IHaveMessage,
  ): boolean => {
    if (!this.isAlive(peer)) return true; // nobody to tell any more: drop it
    let bytes: Uint8Array;
    try {
      bytes = encodeFrame(message);
    } catch {
      this.countDrop('encode');
      return true;
    }
    const r = this.sendFrame(peer, bytes);
    if (r === 'overflow') return false;
    if (r === 'queued') countFrame(this.counters.framesSent, message.type);
    return true;
  };

  /** Queue a frame, through the fault-injection filter when one is set. */
  private sendFrame(peer: string, frame: Uint8Array): string {
    const filter = this.options.frameFilter;
    if (filter !== undefined && !filter(peer, frame)) {
      this.counters.framesDroppedByFilter++;
      // The sender cannot tell a lost frame from a delivered one.
      return 'queued';
    }
    const r = this.frames.send(peer, frame);
    if (r !== 'queued') this.counters.sendFailures[r] = (this.counters.sendFailures[r] ?? 0) + 1;
    return r;
  }

  private onCoreEvent(e: PlumtreeEvent): void {
    switch (e.type) {
      case 'delivered':
        this.deliver(e);
        break;
      case 'eagerPromotion':
        this.eventsSubject.next({ type: 'promotion', topic: e.topic, peer: e.peer });
        break;
      case 'lazyDemotion': {
        const key = `${e.topic}\u0001${e.peer}`;
        if (this.backpressured.delete(key)) {
          this.eventsSubject.next({
            type: 'demotion',
            topic: e.topic,
            peer: e.peer,
            reason: 'backpressure',
          });
        } else {
          this.eventsSubject.next({ type: 'demotion', topic: e.topic, peer: e.peer });
        }
        break;
      }
      case 'graftSent':
        this.eventsSubject.next(
          e.id !== undefined
            ? { type: 'graft', topic: e.topic, peer: e.peer, id: formatMessageId(e.id) }
            : { type: 'graft', topic: e.topic, peer: e.peer },
        );
        break;
      case 'pruneSent':
        this.eventsSubject.next({ type: 'prune', topic: e.topic, peer: e.peer });
        break;
      case 'graftFailed':
        this.eventsSubject.next({
          type: 'graft-failed',
          topic: e.topic,
          id: formatMessageId(e.id),
        });
        break;
    }
  }

  private deliver(e: Extract<PlumtreeEvent, { type: 'delivered' }>): void {
    const opening = this.durableOpening.get(e.topic);
    if (opening !== undefined || this.durable.hasTopic(e.topic)) {
      // Durable: logged first, in per-origin order, then handed over by deliverRecord.
      const record: DurableRecord = {
        origin: e.id.origin,
        epoch: e.id.epoch,
        seq: e.id.seq,
        publishedAtMs: e.publishedAtMs,
        headers: e.headers,
        payload: e.payload,
      };
      this.recordHops.set(record, e.hops);
      if (opening !== undefined) opening.push({ record, from: e.from });
      else this.durable.onLive(e.topic, record, e.from);
      return;
    }
    this.deliverPayload(e.topic, e.id, e.hops, e.from, e.headers, e.publishedAtMs, e.payload);
  }

  /**
   * A durable record, logged: to the observers (caught-up and redelivered records carry hops -1),
   * marked handled in the log once they all returned; kept for the first observer when none is
   * subscribed yet.
   */
  private deliverRecord(topic: string, r: DurableRecord, from: string, redelivered = false): void {
    if (this.closed) return;
    const log = this.durableLogs.get(topic);
    const handed = this.deliverPayload(
      topic,
      { origin: r.origin, epoch: r.epoch, seq: r.seq },
      this.recordHops.get(r) ?? -1,
      from,
      r.headers,
      r.publishedAtMs,
      r.payload,
      { redelivered, handled: () => log?.markHandled?.(r.origin, r.epoch, r.seq) },
    );
    if (!handed) this.parked.park(topic, { record: r, from, redelivered });
  }

  private deliverPayload(
    topic: string,
    id: MessageId,
    hops: number,
    from: string,
    wireHeaders: Readonly<Record<string, string>> | undefined,
    publishedAtMs: number,
    raw: Uint8Array,
    durable?: { readonly redelivered: boolean; readonly handled: () => void },
  ): boolean {
    const route = this.route(topic);
    if (route.length === 0) return false;
    let contentType = this.codec.contentType;
    let headers = wireHeaders ?? EMPTY_HEADERS;
    const ct = wireHeaders?.[CONTENT_TYPE_HEADER];
    if (ct !== undefined) {
      contentType = ct;
      const rest: Record<string, string> = { ...wireHeaders };
      delete rest[CONTENT_TYPE_HEADER];
      headers = rest;
    }
    let payload: unknown;
    try {
      payload = this.codec.decode(raw, contentType);
    } catch {
      this.counters.decodeErrors++;
      // Handing it again after a restart would fail again.
      durable?.handled();
      return true;
    }
    const delivery: Delivery = {
      payload,
      topic,
      id: formatMessageId(id),
      origin: id.origin,
      epoch: id.epoch,
      seq: id.seq,
      hops,
      receivedFrom: from,
      headers,
      contentType,
      publishedAtMs,
      raw,
      redelivered: durable?.redelivered ?? false,
    };
    const observers: { next(d: Delivery): void }[] = [];
    for (const entry of route) for (const o of entry.observers) observers.push(o);
    if (observers.length === 0) {
      // A durable record waits for an observer (and is counted once handed); others are gone.
      if (durable === undefined) this.counters.deliveries++;
      return false;
    }
    this.counters.deliveries++;
    // Last in the list: runs once every observer has returned from this delivery.
    if (durable !== undefined) observers.push({ next: durable.handled });
    this.deliveryQueue.push(delivery, observers, raw.byteLength);
    return true;
  }

  private armTimer(): void {
    if (this.closed) return;
    let at = this.core.pollTimeout();
    if (!this.deferred.isEmpty) {
      const retryAt = Date.now() + CONTROL_RETRY_MS;
      if (at === undefined || retryAt < at) at = retryAt;
    }
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
    if (this.closed) return;
    if (!this.deferred.isEmpty) {
      this.deferred.flush(this.trySendControl, this.trySendDeferredGossip);
    }
    this.core.handleTimeout(Date.now());
    this.drive();
  };

  // ---------------------------------------------------------------- helpers

  private checkTopic(topic: string): void {
    if (this.validTopics.has(topic)) return;
    const reason = typeof topic === 'string' ? validateTopic(topic) : 'not a string';
    if (reason !== null) throw new InvalidTopicError(String(topic), reason);
    if (this.validTopics.size >= TOPIC_CACHE_CAP) this.validTopics.clear();
    this.validTopics.add(topic);
  }

  private nextSeq(topic: string): number {
    // Per topic and kept across leaving and re-joining the topic, so ids never repeat within
    // an epoch and a receiver can see gaps per (origin, topic).
    const seq = (this.seqs.get(topic) ?? 0) + 1;
    this.seqs.set(topic, seq);
    return seq;
  }

  /** The headers to send: the application's, plus the content type when it is not the default. */
  private outgoingHeaders(
    payload: unknown,
    headers: Readonly<Record<string, string>> | undefined,
  ): Readonly<Record<string, string>> | undefined {
    const ct = this.codec.contentTypeOf?.(payload) ?? this.codec.contentType;
    const needsType = ct !== this.codec.contentType;
    if (headers === undefined || Object.keys(headers).length === 0) {
      return needsType ? { [CONTENT_TYPE_HEADER]: ct } : undefined;
    }
    if (typeof headers !== 'object' || headers === null) {
      throw new InvalidHeadersError('must be an object of strings');
    }
    const keys = Object.keys(headers);
    if (keys.length > MAX_HEADERS) {
      throw new InvalidHeadersError(`at most ${MAX_HEADERS} headers (got ${keys.length})`);
    }
    let bytes = 0;
    for (const k of keys) {
      const v = headers[k];
      if (typeof v !== 'string') throw new InvalidHeadersError(`header ${k} is not a string`);
      if (k === CONTENT_TYPE_HEADER) {
        throw new InvalidHeadersError(`${CONTENT_TYPE_HEADER} is set by the codec`);
      }
      bytes += Buffer.byteLength(k) + Buffer.byteLength(v);
    }
    if (bytes > MAX_HEADER_BYTES) {
      throw new InvalidHeadersError(`at most ${MAX_HEADER_BYTES} bytes of keys and values`);
    }
    const out = needsType ? { ...headers, [CONTENT_TYPE_HEADER]: ct } : { ...headers };
    try {
      // Measures without allocating; throws for keys over 255 bytes or lone surrogates.
      encodedFrameSize({
        type: FrameType.Gossip,
        topic: 't',
        id: { origin: 'o', epoch: 0, seq: 1 },
        hops: 0,
        publishedAtMs: 0,
        headers: out,
        payload: new Uint8Array(0),
      });
    } catch (e) {
      throw new InvalidHeadersError((e as Error).message);
    }
    return out;
  }

  private countDrop(reason: string): void {
    const d = this.counters.frameDrops;
    d[reason] = (d[reason] ?? 0) + 1;
  }

  private async waitForDrain(maxMs: number): Promise<void> {
    const until = Date.now() + maxMs;
    while (this.frames.stats().queuedBytes > 0 && Date.now() < until) {
      await new Promise<void>((resolve) => setTimeout(resolve, 10));
    }
  }

  private completeSubjects(): void {
    this.eventsSubject.complete();
    this.membersSubject.complete();
  }
}
