/**
 * The runtime of one node: SWIM membership, the topic directory, one Plumtree core (one tree per
 * topic) and the frame transport, bound to the clock, timers and sockets.
 *
 * `PlumtreeNode` is the composition root: it owns the parts (SWIM, the frame transport, the
 * directory, the sans-IO core, the store, Lazarus) and the node's life (start, leave, close),
 * and hands every role to an engine; node-engines.ts wires the engines to the parts and to each
 * other, and docs/architecture.md draws the map. The public methods below are thin: each checks
 * the node's state and calls the engine that owns the role.
 *
 * The start sequence is node-boot.ts, `leave` and `close` are node-stop.ts.
 */
import { randomInt } from 'node:crypto';
import { BehaviorSubject, Observable, Subject } from 'rxjs';
import { createRng, Plumtree, type GossipMessage } from '@plumtree/plumtree';
import { type SwimMember, type SwimNode } from '@plumtree/swim';
import { InvalidTopicError, TopicDirectory, validatePattern } from '../directory/index.js';
import type { Delivery, PlumtreeNodeEvent, SubscribeOptions } from '../delivery/delivery.js';
import { formatMessageId } from '../delivery/message-id.js';
import type { DurableReplicatorEvent } from '../durable/index.js';
import type { Lazarus } from '../lazarus/index.js';
import type { PublishOptions } from '../publish/outgoing-messages.js';
import type { ReadyOptions } from '../readiness/index.js';
import type { RequestHandler, RequestOptions, RpcReply } from '../rpc/rpc.js';
import { NodeClosedError } from './errors.js';
import { BootedParts, bootNode, type BootHost } from './node-boot.js';
import { NodeEngines } from './node-engines.js';
import { NodeLifecycle } from './node-lifecycle.js';
import { joinLater } from './node-network.js';
import { assembleNodeStats, type PlumtreeNodeStats } from './node-stats.js';
import { closeNode, leaveNode } from './node-stop.js';
import {
  resolvePlumtreeNodeOptions,
  type PlumtreeNodeOptions,
  type ResolvedNodeOptions,
} from './plumtree-node-options.js';

/** A running node. Start one with {@link PlumtreeNode.start}; the file comment shows the wiring. */
export class PlumtreeNode {
  /** This node's name. */
  readonly name: string;
  /** The incarnation of this node's message ids: its start time, ms since the Unix epoch. */
  readonly epoch: number;
  /** Tree and connection events (hot). Completes when the node is closed. */
  readonly events$: Observable<PlumtreeNodeEvent>;
  /**
   * The alive and suspect members, this node included; the current list on subscription, then
   * every change (SWIM's `members$`). Completes when the node is closed.
   */
  readonly members$: Observable<SwimMember[]>;

  private readonly life = new NodeLifecycle();
  private readonly eventsSubject = new Subject<PlumtreeNodeEvent>();
  private readonly membersSubject = new BehaviorSubject<SwimMember[]>([]);
  private readonly directory: TopicDirectory;
  private readonly core: Plumtree;
  private readonly engines: NodeEngines;
  private readonly parts = new BootedParts();
  /** What the start and stop sequences (node-boot.ts, node-stop.ts) reach of this node. */
  private readonly host: BootHost;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly options: ResolvedNodeOptions,
    seed: number,
  ) {
    this.name = options.name;
    this.epoch = Date.now();
    this.events$ = this.eventsSubject.asObservable();
    this.members$ = this.membersSubject.asObservable();
    this.directory = new TopicDirectory(options.name, options.directory);
    this.core = new Plumtree({
      self: options.name,
      epoch: this.epoch,
      rng: createRng(seed ^ 0x68e31da4),
      config: options.plumtree,
      nowMs: this.epoch,
      // A durable topic's log: what was caught up from a peer, or delivered in a previous life,
      // is not GRAFTed again when a peer announces it.
      holds: (topic, id) => this.engines.durable.holds(topic, id),
    });
    this.engines = new NodeEngines({
      options,
      epoch: this.epoch,
      seed,
      life: this.life,
      directory: this.directory,
      core: this.core,
      frames: () => this.parts.frames,
      swim: () => this.parts.swim,
      persistence: () => this.parts.persistence,
      emit: (e) => this.eventsSubject.next(e),
    });
    this.host = {
      options,
      life: this.life,
      directory: this.directory,
      engines: this.engines,
      parts: this.parts,
      membersChanged: (m) => this.membersSubject.next(m),
      completeSubjects: () => this.completeSubjects(),
    };
  }

  /**
   * Validate the options (throwing one `PlumtreeNodeOptionsError` naming every problem; options
   * from `resolvePlumtreeNodeOptions` are taken as they are), bind the transport (unless one is
   * given), start SWIM with the directory as its delegate, start the frame transport on the same
   * port, join `seeds` (rejecting with SWIM's `JoinError` when none answers) and subscribe `topics`.
   */
  static async start(options: PlumtreeNodeOptions | ResolvedNodeOptions): Promise<PlumtreeNode> {
    const resolved = resolvePlumtreeNodeOptions(options);
    const seed = resolved.seed ?? randomInt(2 ** 31);
    const node = new PlumtreeNode(resolved, seed);
    await bootNode(node.host, seed);
    return node;
  }

  // ---------------------------------------------------------------- getters

  /** The bound `host:port` of SWIM and of the frame streams. */
  get address(): string {
    return this.parts.swim.boundAddress;
  }

  /**
   * The SWIM node under this one (membership events, user messages, member table). Available once
   * `start` resolved. Leave and close through this node, not through it.
   */
  get swimNode(): SwimNode {
    return this.parts.swim;
  }

  /**
   * Lazarus, when static seeds are configured and it is enabled: `stats()` (probes sent,
   * reconnections, seeds missing now) and `reconnections$`. Null otherwise.
   */
  get lazarus(): Lazarus | null {
    return this.parts.lazarus;
  }

  /** Catch-up progress and failures of durable topics, and log append failures. */
  get durableEvents$(): Observable<DurableReplicatorEvent> {
    return this.engines.durable.events$;
  }

  /** The store directory, or null with `persistence: false`. */
  get dataDir(): string | null {
    return this.parts.persistence?.dataDir ?? null;
  }

  /** Whether `topic` is durable on this node now (its log is open). */
  isDurable(topic: string): boolean {
    return this.engines.durable.isDurable(topic);
  }

  /**
   * Resolves once every durable record accepted so far on `topic` is logged and handed to the
   * delivery queue (at once for a topic that is not durable).
   */
  durableIdle(topic: string): Promise<void> {
    return this.engines.durable.whenIdle(topic);
  }

  /** Whether {@link close} or {@link leave} was called. */
  get isClosed(): boolean {
    return this.life.stopping;
  }

  /** The alive and suspect members now, this node included. */
  members(): SwimMember[] {
    return this.parts.swim.members();
  }

  /** Concrete topics whose tree this node is in (subscribed, matched by a pattern, or pinned). */
  topics(): string[] {
    return this.engines.trees.topics();
  }

  /** The local subscription set as the directory publishes it (topics and patterns). */
  subscriptionsList(): readonly string[] {
    return this.directory.localSubscriptions();
  }

  /** Nodes (other than this one) the directory says subscribe to `topic` and are alive. */
  subscribersOf(topic: string): string[] {
    return this.engines.subscribersOf(topic);
  }

  /**
   * Members of queue `group` for the concrete `topic` that are alive in this node's view, this
   * node included when it is one, sorted (docs/queue-groups.md).
   */
  groupMembersOf(topic: string, group: string): string[] {
    return this.directory.groupMembersOf(topic, group, this.engines.isAlive);
  }

  /** Counters of every layer; see {@link PlumtreeNodeStats}. */
  stats(): PlumtreeNodeStats {
    return assembleNodeStats({
      ...this.engines,
      name: this.name,
      core: this.core,
      transport: this.parts.frames,
      swim: this.life.started ? this.parts.swim : undefined,
      directory: this.directory,
      lazarus: this.parts.lazarus,
      persistence: this.parts.persistence,
    });
  }

  // ---------------------------------------------------------------- API

  /**
   * Publish `payload` on `topic`; resolves to the message id (`origin/epoch/seq`).
   *
   * When this node is in the topic's tree (it subscribes to the topic or a matching pattern), the
   * message is delivered locally and pushed down the tree once the node's publish window admits
   * it, and the promise resolves then: at once unless a burst filled the window (this node's
   * queues to its peers are under pressure), when it waits, in publish order (see
   * publish/publish-window.ts). Otherwise the message is handed to a live subscriber, and the
   * promise resolves when one acknowledges having admitted it into the tree.
   *
   * Rejects with `InvalidTopicError`, `InvalidHeadersError`, `PayloadTooLargeError` (the encoded
   * payload is above `maxMessageSize`), `NodeClosedError`, `NoSubscribersError` (no live
   * subscriber, or none acknowledged after `handoffMaxAttempts`), or the codec's encode error.
   */
  publish(topic: string, payload: unknown, options: PublishOptions = {}): Promise<string> {
    if (this.life.stopping) return Promise.reject(new NodeClosedError(this.name));
    let message: GossipMessage;
    try {
      message = this.engines.outgoing.build(topic, payload, options.headers);
    } catch (e) {
      return Promise.reject(e as Error);
    }
    if (!this.engines.trees.isSubscribed(topic) && !this.directory.localMatches(topic)) {
      return this.engines.handoff.handOff(message);
    }
    return this.engines.window.admit(message.payload.length, () => {
      this.engines.trees.join(topic);
      this.engines.trees.inject(message);
      this.engines.trees.drive();
      return formatMessageId(message.id);
    });
  }

  /**
   * Join through `seeds` after `start` (started without seeds, e.g. to register handlers first),
   * retrying like `start` until `timeoutMs` (default `joinTimeoutMs`), then SWIM's `JoinError`;
   * the join's members are stored before it resolves with the seeds that answered.
   */
  join(seeds: readonly string[], options: { timeoutMs?: number } = {}): Promise<number> {
    if (this.life.stopping) return Promise.reject(new NodeClosedError(this.name));
    const timeoutMs = options.timeoutMs ?? this.options.swim.joinTimeoutMs;
    return joinLater(this.parts.swim, this.parts.persistence, seeds, timeoutMs);
  }

  /**
   * Resolves when a publish on `topic` reaches every subscriber: at least `subscribers` (default
   * 1, this node included) in the directory and this node's tree links up at both ends; a publish
   * after it reaches every subscriber in the directory then, also while the tree forms
   * (readiness/; docs/cluster.md, "Readiness"). Rejects with `ReadyTimeoutError` after
   * `timeoutMs` (default 10 s) naming what was missing, `NodeClosedError`, `InvalidTopicError`.
   */
  ready(topic: string, options: ReadyOptions = {}): Promise<void> {
    return this.engines.readiness.whenReady(topic, options);
  }

  /**
   * Deliveries of a topic or pattern (`orders.*`: one segment, `orders.#`: any rest). Hot: the
   * node joins the topic (and, for a pattern, every matching topic) while at least one observer
   * is subscribed, and leaves when the last one unsubscribes. Each message is delivered at most
   * once per node (while its id is remembered) and shared by every observer.
   * With `{ durable: true }` the topic is durable on this node (see {@link SubscribeOptions}).
   * With `{ group }` the observer is one of the queue group's members: each message is handed to
   * one member of the group in the cluster (docs/queue-groups.md); acknowledged when `next`
   * returns, or with `ack: 'manual'` when the observer calls `delivery.ack()`.
   * Throws `InvalidTopicError` for an invalid topic or pattern (or group name) on subscription,
   * and `NodeClosedError` on a closed node. The observable completes when the node closes.
   */
  subscribe<T = unknown>(
    topicOrPattern: string,
    options: SubscribeOptions = {},
  ): Observable<Delivery<T>> {
    const reason = validatePattern(topicOrPattern);
    if (reason !== null) throw new InvalidTopicError(topicOrPattern, reason);
    if (this.life.stopping) throw new NodeClosedError(this.name);
    // Topics joined already (through another subscription) become durable now.
    if (options.durable === true)
      this.engines.durable.add(topicOrPattern, this.engines.trees.topics());
    return this.engines.deliveries.observe(topicOrPattern, options) as Observable<Delivery<T>>;
  }

  /**
   * Leave gracefully: leave every tree (PRUNE to the eager peers, so they stop pushing at once),
   * let the frames drain briefly, broadcast the SWIM leave (waiting up to `leaveTimeoutMs`),
   * then close. Pending hand-offs reject with `NodeClosedError`.
   */
  async leave(): Promise<void> {
    if (this.life.stopping) return this.closing;
    return leaveNode(this.host, () => this.close());
  }

  /**
   * Stop at once without telling anyone (peers detect the failure): queued frames are dropped,
   * observers complete, pending hand-offs reject with `NodeClosedError`. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= closeNode(this.host);
    return this.closing;
  }

  /**
   * Send a request to ONE live responder of `topic` (this node first when it answers the topic,
   * else the lowest SWIM RTT, random among equals) and resolve with its reply (decoded by the
   * codec; a reply stream's last value; `undefined` for none). At-most-once: only an attempt
   * that provably did not run (not taken by the transport, or no handler there) is retried on
   * another responder, `maxAttempts` in all (default 2); no reply within `timeoutMs` (default
   * 5,000) or the responder going down rejects with `RequestTimeoutError` unless `retryOnTimeout`
   * (see rpc/rpc.ts). Also rejects with `NoRespondersError` (no live member answers the topic),
   * `RequestHandlerError` (the handler failed), `PayloadTooLargeError` (above `maxMessageSize`),
   * `NodeClosedError` and `InvalidTopicError`.
   */
  request<T = unknown>(topic: string, payload: unknown, options: RequestOptions = {}): Promise<T> {
    return this.engines.rpc.request(topic, payload, options) as Promise<T>;
  }

  /**
   * Like {@link request}, resolving with the reply and the reply headers its handler set
   * (`RpcRequest.setReplyHeaders`; empty when none).
   */
  requestWithHeaders<T = unknown>(
    topic: string,
    payload: unknown,
    options: RequestOptions = {},
  ): Promise<RpcReply<T>> {
    return this.engines.rpc.requestWithHeaders(topic, payload, options) as Promise<RpcReply<T>>;
  }

  /**
   * Like {@link request}, as an Observable of every value of the reply (a handler returning an
   * Observable streams them); it completes with the reply. Sent on subscription; unsubscribing
   * cancels (the responder unsubscribes its reply stream).
   */
  requestStream<T>(topic: string, payload: unknown, options?: RequestOptions): Observable<T> {
    return this.engines.rpc.requestStream(topic, payload, options) as Observable<T>;
  }

  /** Live members that answer requests on `topic` (a concrete topic), this node excluded. */
  respondersOf(topic: string): string[] {
    return this.engines.respondersOf(topic);
  }

  /**
   * Answer requests of a topic or pattern with `handler` (its return value, or what its promise
   * resolves to, is the reply; an Observable is a reply stream; a throw or an error is sent back
   * as `RequestHandlerError`). While it is registered the node is listed as a responder of
   * `topicOrPattern` in its directory entry (not a subscriber: it receives no events of the
   * topic). Returns the removal. Throws `InvalidTopicError`, `NodeClosedError`,
   * `DirectoryLimitError`, or an `Error` when a handler of the same key is registered already.
   */
  handleRequests(topicOrPattern: string, handler: RequestHandler): () => void {
    return this.engines.handleRequests(topicOrPattern, handler);
  }

  private completeSubjects(): void {
    this.eventsSubject.complete();
    this.membersSubject.complete();
  }
}
