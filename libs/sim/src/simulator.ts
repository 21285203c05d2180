import type { Rng } from '@plumtree/common';
import { messageKey, type MessageId } from '@plumtree/plumtree';
import { BroadcastLog } from './broadcast-log.js';
import { EventHeap } from './event-heap.js';
import { LatencyModel, type LatencyConfig } from './latency-model.js';
import { MembershipOracle, type CrashBatch, type DetectionConfig } from './membership-oracle.js';
import type { SimProtocol, SimProtocolNode } from './protocol-adapter.js';
import { SeedStream, streamRng } from './seeds.js';
import { buildTopicLayout, type TopicLayout } from './topic-layout.js';
import { SimTopicView } from './topic-view.js';

/** Construction options of a {@link Simulator}. */
export interface SimulatorOptions {
  /** Number of nodes, named `n0..n{N-1}`. */
  readonly nodes: number;
  /** Run seed; every random stream of the run derives from it. */
  readonly seed: number;
  /** Number of topics (Zipf subscriber counts, see `zipfSubscriberCounts`). Default 1. */
  readonly topics?: number;
  /** Per-message loss probability in [0, 1). Default 0. */
  readonly lossRate?: number;
  readonly latency?: Partial<LatencyConfig>;
  readonly detection?: Partial<DetectionConfig>;
  /** Peers per node whose RTT is reported at start, as SWIM probes would. Default 32. */
  readonly rttSamples?: number;
}

/** Run-wide counters. */
export interface SimCounters {
  /** Events popped from the queue (messages, wake-ups, detections, actions), stale wake-ups included. */
  events: number;
  /** Frames carrying a payload, sent by live nodes (GRAFT/IWANT answers included). */
  payloadFrames: number;
  /** Control frames sent (IHAVE, IWANT, GRAFT, PRUNE, link requests). */
  controlFrames: number;
  /** Frames dropped by random loss. */
  droppedLoss: number;
  /** Frames dropped because the receiver had crashed when they arrived. */
  droppedCrashed: number;
  /** Frames dropped because sender and receiver were in different partition groups. */
  droppedPartition: number;
  /** Frames addressed to a name that is no node of the simulation. */
  droppedUnknown: number;
  /** Frames of any kind received by a node that does not subscribe to the frame's topic. */
  framesAtNonSubscribers: number;
  /** Payload frames received by a node that does not subscribe to the frame's topic. */
  payloadFramesAtNonSubscribers: number;
  /** Payload frames that carried no broadcast the harness issued (should stay 0). */
  unknownPayloads: number;
  /** Delivered events for ids the harness did not issue (should stay 0). */
  unknownDeliveries: number;
}

const EV_MESSAGE = 0;
const EV_WAKE = 1;
const EV_DETECT = 2;
const EV_ACTION = 3;

/**
 * A deterministic discrete-event simulator that drives N sans-IO protocol nodes.
 *
 * It owns the clock, an event heap ordered by (time, insertion sequence), the latency model,
 * loss, crashes, partitions, the membership oracle and the per-(node, topic) views, and it
 * measures every broadcast issued through {@link broadcast}. It reads no wall clock and draws
 * randomness only from streams derived from the seed, so one seed gives one run.
 */
export class Simulator<M> {
  /** Node names `n0..n{N-1}`. */
  readonly names: readonly string[];
  /** Node index by name. */
  readonly indexOf: ReadonlyMap<string, number>;
  readonly topics: TopicLayout;
  readonly latency: LatencyModel;
  readonly oracle: MembershipOracle;
  readonly log: BroadcastLog;
  readonly counters: SimCounters = {
    events: 0,
    payloadFrames: 0,
    controlFrames: 0,
    droppedLoss: 0,
    droppedCrashed: 0,
    droppedPartition: 0,
    droppedUnknown: 0,
    framesAtNonSubscribers: 0,
    payloadFramesAtNonSubscribers: 0,
    unknownPayloads: 0,
    unknownDeliveries: 0,
  };
  /** Simulated time of the event being processed, in ms. */
  now = 0;
  /** Frames queued and not yet arrived. */
  inFlight = 0;
  /** Simulated time of the last frame sent. */
  lastSendMs = 0;

  private readonly nodes: SimProtocolNode<M>[] = [];
  private readonly heap = new EventHeap(1 << 16);
  private readonly wakeAt: Float64Array;
  private readonly group: Int32Array;
  private partitioned = false;
  private readonly lossRate: number;
  private readonly netRng: Rng;
  private readonly crashRng: Rng;
  private readonly detectionRng: Rng;
  private readonly rttSamples: number;
  private started = false;
  private readonly idCache = new WeakMap<MessageId, number>();
  private lastId: MessageId | undefined = undefined;
  private lastIdBroadcast: number | undefined = undefined;
  private lastTopicName: string | undefined = undefined;
  private lastTopicIndex = -1;

  constructor(
    readonly protocol: SimProtocol<M>,
    readonly options: SimulatorOptions,
  ) {
    const n = options.nodes;
    if (!Number.isInteger(n) || n < 2)
      throw new RangeError(`nodes must be an integer >= 2, got ${n}`);
    this.lossRate = options.lossRate ?? 0;
    if (!(this.lossRate >= 0 && this.lossRate < 1))
      throw new RangeError(`lossRate must be in [0, 1), got ${this.lossRate}`);
    this.rttSamples = options.rttSamples ?? 32;
    const seed = options.seed;
    const names: string[] = [];
    const indexOf = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      names.push(`n${i}`);
      indexOf.set(names[i]!, i);
    }
    this.names = names;
    this.indexOf = indexOf;
    this.latency = new LatencyModel(n, streamRng(seed, SeedStream.Topology), options.latency);
    this.topics = buildTopicLayout(
      n,
      options.topics ?? 1,
      streamRng(seed, SeedStream.Subscriptions),
    );
    this.oracle = new MembershipOracle(n, options.detection);
    this.log = new BroadcastLog(n);
    this.wakeAt = new Float64Array(n).fill(NaN);
    this.group = new Int32Array(n);
    this.netRng = streamRng(seed, SeedStream.Network);
    this.crashRng = streamRng(seed, SeedStream.Crashes);
    this.detectionRng = streamRng(seed, SeedStream.Detection);
    for (let i = 0; i < n; i++)
      this.nodes.push(protocol.createNode(names[i]!, streamRng(seed, SeedStream.NodeBase + i)));
  }

  /** Number of nodes. */
  get size(): number {
    return this.names.length;
  }

  /** The protocol node with index `i` (for inspection in tests). */
  node(i: number): SimProtocolNode<M> {
    return this.nodes[i]!;
  }

  /**
   * Time zero: report RTTs to `rttSamples` random peers per node (2 x the pair's latency), then
   * subscribe every node to its topics with a view backed by the oracle.
   */
  start(): void {
    if (this.started) throw new Error('Simulator already started');
    this.started = true;
    const n = this.size;
    const rttRng = streamRng(this.options.seed, SeedStream.Rtt);
    const samples = Math.min(this.rttSamples, n - 1);
    for (let i = 0; i < n; i++) {
      const node = this.nodes[i]!;
      for (let k = 0; k < samples; k++) {
        let p = Math.floor(rttRng.next() * (n - 1));
        if (p >= i) p++;
        node.recordRtt(this.names[p]!, 2 * this.latency.latency(i, p));
      }
    }
    for (let i = 0; i < n; i++) {
      const node = this.nodes[i]!;
      for (const t of this.topics.topicsOfNode[i]!) {
        const topic = this.topics.topics[t]!;
        node.subscribe(
          topic.name,
          new SimTopicView(topic, i, this.oracle, this.names, this.indexOf),
          this.now,
        );
      }
      this.drain(i);
    }
  }

  /** Issue a broadcast of topic `topic` from node `origin` now; returns its index in {@link log}. */
  broadcast(origin: number, topic: number, payload: Uint8Array): number {
    if (this.oracle.crashed[origin] === 1) throw new Error(`origin n${origin} has crashed`);
    const t = this.topics.topics[topic]!;
    const id = this.nodes[origin]!.broadcast(t.name, payload, this.now);
    const index = this.log.register(messageKey(id), this.now, topic, origin);
    this.drain(origin);
    return index;
  }

  /** Crash `members` now and schedule when each live node learns of it. */
  crash(members: readonly number[]): CrashBatch {
    const { batch, buckets } = this.oracle.crash(members, this.now, this.detectionRng);
    for (const b of buckets) this.heap.push(b.atMs, EV_DETECT, b.batch, 0, b.observers);
    return batch;
  }

  /** Crash `count` random live nodes now (drawn from the run's crash stream). */
  crashRandom(count: number): CrashBatch {
    const live: number[] = [];
    for (let i = 0; i < this.size; i++) if (this.oracle.crashed[i] === 0) live.push(i);
    const k = Math.min(count, live.length);
    for (let i = 0; i < k; i++) {
      const j = i + Math.floor(this.crashRng.next() * (live.length - i));
      const v = live[j]!;
      live[j] = live[i]!;
      live[i] = v;
    }
    return this.crash(live.slice(0, k));
  }

  /**
   * Split the network: frames between nodes of different groups are dropped. Nodes not listed
   * form one more group together. Membership is not told (a partition is not a crash).
   */
  partition(groups: readonly (readonly number[])[]): void {
    this.group.fill(0);
    groups.forEach((g, gi) => {
      for (const m of g) this.group[m] = gi + 1;
    });
    this.partitioned = true;
  }

  /** End every partition. */
  heal(): void {
    this.group.fill(0);
    this.partitioned = false;
  }

  /** Run `action` at simulated time `atMs` (for scenario steps; not for per-message work). */
  at(atMs: number, action: (sim: Simulator<M>) => void): void {
    this.heap.push(Math.max(atMs, this.now), EV_ACTION, 0, 0, action);
  }

  /** Process every event up to and including `untilMs`; the clock ends at `untilMs`. */
  runUntil(untilMs: number): void {
    const heap = this.heap;
    while (heap.size > 0 && heap.peekTime() <= untilMs) this.step();
    if (untilMs > this.now) this.now = untilMs;
  }

  /**
   * After `afterMs`, run until no frame has been sent for `quietMs` of simulated time and none
   * is in flight, or until `afterMs + maxMs`, whichever comes first. Periodic timers (cache
   * maintenance, heartbeats) keep firing meanwhile but do not count as activity unless they send.
   */
  runUntilQuiet(afterMs: number, quietMs: number, maxMs: number): void {
    this.runUntil(afterMs);
    const heap = this.heap;
    const limit = afterMs + maxMs;
    while (heap.size > 0) {
      const t = heap.peekTime();
      if (t > limit) break;
      if (this.inFlight === 0 && t > this.lastSendMs + quietMs) break;
      this.step();
    }
  }

  private step(): void {
    const heap = this.heap;
    heap.pop();
    this.counters.events++;
    this.now = heap.time;
    switch (heap.kind) {
      case EV_MESSAGE:
        this.arrive(heap.a, heap.b, heap.obj as M);
        break;
      case EV_WAKE: {
        const i = heap.a;
        if (this.wakeAt[i] !== heap.time || this.oracle.crashed[i] === 1) break;
        this.wakeAt[i] = NaN;
        this.nodes[i]!.handleTimeout(this.now);
        this.drain(i);
        break;
      }
      case EV_DETECT:
        this.detect(heap.a, heap.obj as Int32Array);
        break;
      case EV_ACTION:
        (heap.obj as (sim: Simulator<M>) => void)(this);
        break;
    }
  }

  private arrive(to: number, from: number, msg: M): void {
    this.inFlight--;
    if (this.oracle.crashed[to] === 1) {
      this.counters.droppedCrashed++;
      return;
    }
    const name = this.protocol.topicOf(msg);
    // Consecutive frames mostly share one topic string: skip the map lookup then.
    let t = this.lastTopicIndex;
    if (name !== this.lastTopicName) {
      t = this.topics.byName.get(name) ?? -1;
      this.lastTopicName = name;
      this.lastTopicIndex = t;
    }
    if (t < 0 || this.topics.topics[t]!.isSubscriber[to] === 0) {
      this.counters.framesAtNonSubscribers++;
      if (this.protocol.payloadIdOf(msg) !== undefined)
        this.counters.payloadFramesAtNonSubscribers++;
    }
    this.nodes[to]!.handleMessage(this.names[from]!, msg, this.now);
    this.drain(to);
  }

  private detect(batch: number, observers: Int32Array): void {
    const members = this.oracle.batches[batch]!.members;
    const crashed = this.oracle.crashed;
    for (let k = 0; k < observers.length; k++) {
      const o = observers[k]!;
      if (crashed[o] === 1) continue;
      this.oracle.learn(batch, o);
      const node = this.nodes[o]!;
      for (let m = 0; m < members.length; m++) node.peerDown(this.names[members[m]!]!, this.now);
      this.drain(o);
    }
  }

  /** Drain a node's outputs after an input, in the documented order. */
  private drain(i: number): void {
    const node = this.nodes[i]!;
    for (let tx = node.pollTransmit(); tx !== undefined; tx = node.pollTransmit())
      this.send(i, tx.to, tx.message);
    for (let ev = node.pollEvent(); ev !== undefined; ev = node.pollEvent()) {
      if (ev.type !== 'delivered' || ev.id === undefined) continue;
      const b = this.broadcastOf(ev.id);
      if (b === undefined) this.counters.unknownDeliveries++;
      else this.log.deliveredAt(b, i, ev.hops ?? 0, this.now);
    }
    const d = node.pollTimeout();
    if (d !== undefined) {
      const at = d > this.now ? d : this.now;
      if (at !== this.wakeAt[i]) {
        this.wakeAt[i] = at;
        this.heap.push(at, EV_WAKE, i, 0);
      }
    }
  }

  /**
   * The broadcast an id belongs to. Cores copy frames with `{ ...msg, hops }`, so one id object
   * usually travels the whole tree: caching by object identity saves building the string key
   * for almost every frame.
   */
  private broadcastOf(id: MessageId): number | undefined {
    // A forward sends one id to every neighbour in a row: remember the last answer.
    if (id === this.lastId) return this.lastIdBroadcast;
    let b = this.idCache.get(id);
    if (b === undefined) {
      b = this.log.indexOf(messageKey(id));
      if (b !== undefined) this.idCache.set(id, b);
    }
    this.lastId = id;
    this.lastIdBroadcast = b;
    return b;
  }

  private send(from: number, toName: string, msg: M): void {
    this.lastSendMs = this.now;
    const pid = this.protocol.payloadIdOf(msg);
    if (pid !== undefined) {
      this.counters.payloadFrames++;
      const b = this.broadcastOf(pid);
      if (b === undefined) this.counters.unknownPayloads++;
      else this.log.payloadSent(b);
    } else this.counters.controlFrames++;
    const to = this.indexOf.get(toName);
    if (to === undefined) {
      this.counters.droppedUnknown++;
      return;
    }
    if (this.partitioned && this.group[from] !== this.group[to]) {
      this.counters.droppedPartition++;
      return;
    }
    if (this.lossRate > 0 && this.netRng.next() < this.lossRate) {
      this.counters.droppedLoss++;
      return;
    }
    this.inFlight++;
    this.heap.push(
      this.now + this.latency.sample(from, to, this.netRng),
      EV_MESSAGE,
      to,
      from,
      msg,
    );
  }
}
