/**
 * A discrete-event driver for many real {@link SwimCore}s on the simulator's {@link EventHeap}.
 *
 * Model:
 * - Packets are the cores' decoded message arrays (no encoding); each is lost with probability
 *   `loss` when sent, else delivered after `LatencyModel.sample(from, to)`.
 * - Streams (push-pull, TCP fallback ping) are reliable request/response exchanges: one latency
 *   there, one back. A stream to a crashed node fails one round trip later (connection refused).
 *   The requester's `deadlineMs` is enforced by the shell as memberlist's socket deadline is: a
 *   ping answer that would arrive later is replaced by `null` at the deadline, a push-pull by a
 *   failure.
 * - A crashed node neither sends nor receives; what is in flight to it is dropped. A node that
 *   has not started yet (see `startSpreadMs`) is down the same way.
 * - Lag: a node with `lagMs > 0` models an overloaded process whose event loop runs `lagMs`
 *   behind. Its `handleTimeout` runs `lagMs` after each deadline, and (unless `lagInbound` is
 *   false) every packet or stream answer reaching it is handled `lagMs` after it arrived, so its
 *   replies leave late too.
 * - Each node is woken only at its own `pollTimeout()` (plus its lag). A node keeps one valid
 *   wake-up instant; an earlier queued wake-up that no longer matches it is skipped when popped
 *   (lazy deletion), so re-arming costs one heap push and nothing is ever removed.
 *
 * Polling order after every input, as the core's header says: transmits, stream requests, events,
 * then the next deadline.
 */
import type {
  AckResp,
  Message,
  PushNodeState,
  SwimConfigInput,
  SwimEvent,
  SwimStreamRequest,
} from '@plumtree/swim/sans-io';
import { NodeStateType, SwimCore } from '@plumtree/swim/sans-io';
import { backoffDelayMs, type BackoffBounds, type Rng } from '@plumtree/common';
import { EventHeap } from '../event-heap.js';
import { LatencyModel, type LatencyConfig } from '../latency-model.js';
import { deriveSeed, SeedStream, streamRng } from '../seeds.js';

/** Event kinds on the heap. */
const enum Ev {
  Wake = 0,
  Packet = 1,
  StreamArrive = 2,
  StreamAnswer = 3,
  StreamDeadline = 4,
  Crash = 5,
  Start = 6,
  JoinRetry = 7,
}

/** One stream exchange in flight; `settled` makes sure the core hears exactly one outcome. */
interface StreamFlight {
  readonly from: number;
  readonly to: number;
  readonly req: SwimStreamRequest;
  settled: boolean;
  /** The push-pull answer or ping ack, set when the target answered. */
  answer: PushNodeState[] | AckResp | null;
  failed: boolean;
}

/** Options of {@link SwimSimulator}. */
export interface SwimSimulatorOptions {
  /** Number of nodes, named `n0..n{N-1}`. */
  readonly nodes: number;
  /** Run seed: latencies, loss, node RNGs and crash draws derive from it. */
  readonly seed: number;
  /** Probability that a packet is lost (streams are reliable). Default 0. */
  readonly loss?: number;
  /** Config of every node (the name is added). Default the `lan` preset. */
  readonly config?: SwimConfigInput;
  /** Link latencies (the sim's datacenter defaults). */
  readonly latency?: Partial<LatencyConfig>;
  /** Per-node overrides of the config, by index (e.g. another awareness multiplier). */
  readonly configOf?: (index: number) => SwimConfigInput | undefined;
  /**
   * Node `i` starts (its core is created, its clock and tickers begin) at a seeded uniform instant
   * in [0, startSpreadMs), so probe and gossip ticks are not in lockstep. Before its start a node is
   * down: packets to it are dropped, streams to it fail. Default 0 (all start at 0).
   */
  readonly startSpreadMs?: number;
}

/** Called for every event a live node raises. */
export type SwimEventListener = (node: number, event: SwimEvent, nowMs: number) => void;

/** Run-wide counters. */
export interface SwimSimCounters {
  /** Heap events popped (wake-ups, stale ones included; deliveries; stream steps). */
  events: number;
  /** Wake-ups skipped because the node re-armed its timer since they were queued. */
  staleWakes: number;
  packetsSent: number;
  packetsLost: number;
  /** Packets addressed to a node that was down (crashed or not started yet). */
  packetsToCrashed: number;
  messagesDelivered: number;
  streams: number;
  streamFailures: number;
  streamTimeouts: number;
}

/** The driver. See the file header for the model. */
export class SwimSimulator {
  /** The cores, by index. */
  readonly cores: SwimCore[] = [];
  /** Node names, by index. */
  readonly names: string[] = [];
  /** Crash instant of each node, `Infinity` while it runs. */
  readonly crashedAtMs: Float64Array;
  /** Start instant of each node. */
  readonly startAtMs: Float64Array;
  /** Lag of each node (see the file header). */
  readonly lagMs: Float64Array;
  /** Whether a lagging node also handles its inbound traffic late. */
  lagInbound = true;
  /** The clock. */
  now = 0;
  readonly counters: SwimSimCounters = {
    events: 0,
    staleWakes: 0,
    packetsSent: 0,
    packetsLost: 0,
    packetsToCrashed: 0,
    messagesDelivered: 0,
    streams: 0,
    streamFailures: 0,
    streamTimeouts: 0,
  };
  /** Set to observe events. */
  onEvent: SwimEventListener | null = null;
  /**
   * When each node's join succeeded (its first seed answered), NaN until then; the seedless nodes
   * of {@link startWithSeeds} are ready at their start.
   */
  readonly readyAtMs: Float64Array;

  private readonly heap = new EventHeap(1 << 16);
  private readonly latency: LatencyModel;
  private readonly netRng: Rng;
  private readonly loss: number;
  private readonly addresses: string[] = [];
  private readonly byAddress = new Map<string, number>();
  /** The one valid wake-up instant of each node (NaN: none queued). */
  private readonly wakeAt: Float64Array;

  constructor(options: SwimSimulatorOptions) {
    const n = options.nodes;
    if (!Number.isInteger(n) || n < 1 || n > 1 << 24)
      throw new RangeError(`nodes must be an integer in [1, 2^24], got ${n}`);
    const loss = options.loss ?? 0;
    if (!(loss >= 0 && loss < 1)) throw new RangeError(`loss must be in [0, 1), got ${loss}`);
    this.loss = loss;
    this.latency = new LatencyModel(
      n,
      streamRng(options.seed, SeedStream.Topology),
      options.latency,
    );
    this.netRng = streamRng(options.seed, SeedStream.Network);
    // SWIM runs have no detection oracle: join retries draw from that stream.
    this.joinRng = streamRng(options.seed, SeedStream.Detection);
    this.crashedAtMs = new Float64Array(n).fill(Infinity);
    this.lagMs = new Float64Array(n);
    this.wakeAt = new Float64Array(n).fill(NaN);
    this.startAtMs = new Float64Array(n);
    this.readyAtMs = new Float64Array(n).fill(NaN);
    const spread = options.startSpreadMs ?? 0;
    if (!(spread >= 0)) throw new RangeError(`startSpreadMs must be >= 0, got ${spread}`);
    // SWIM runs carry no broadcast workload, so the start instants take the workload stream.
    const startRng = streamRng(options.seed, SeedStream.Workload);
    for (let i = 0; i < n; i++) this.startAtMs[i] = spread > 0 ? spread * startRng.next() : 0;
    const base = options.config ?? { preset: 'lan' };
    for (let i = 0; i < n; i++) {
      const name = `n${i}`;
      const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      const core = new SwimCore({
        config: { ...base, ...options.configOf?.(i), name },
        addr: ip,
        port: 7946,
        nowMs: this.startAtMs[i]!,
        seed: deriveSeed(options.seed, SeedStream.NodeBase + i),
      });
      this.cores.push(core);
      this.names.push(name);
      this.addresses.push(`${ip}:7946`);
      this.byAddress.set(`${ip}:7946`, i);
    }
  }

  /** Number of nodes. */
  get size(): number {
    return this.cores.length;
  }

  /** Whether node `i` has crashed by now. */
  isCrashed(i: number): boolean {
    return this.crashedAtMs[i]! <= this.now;
  }

  /** Whether node `i` is not running now: not started yet, or crashed. */
  isDown(i: number): boolean {
    return this.now < this.startAtMs[i]! || this.crashedAtMs[i]! <= this.now;
  }

  /**
   * Start every node with the full membership: at its start instant node `i` merges the state of
   * all nodes through `handlePushPull`, as if a seed that knew everybody had just pushed it (the
   * merge is the core's real one: memberlist queues an alive broadcast for each member it learns,
   * so the first seconds carry that burst). Call once, before {@link runUntil}.
   */
  startWithFullMembership(): void {
    const states: PushNodeState[] = this.cores.map((c) => {
      const m = c.localMember;
      return {
        Name: m.name,
        Addr: m.addr,
        Port: m.port,
        Meta: m.meta,
        Incarnation: m.incarnation,
        State: NodeStateType.Alive,
        Vsn: Uint8Array.from([m.pMin, m.pMax, m.pCur, m.dMin, m.dMax, m.dCur]),
      };
    });
    this.fullState = states;
    for (let i = 0; i < this.cores.length; i++) this.heap.push(this.startAtMs[i]!, Ev.Start, i, 0);
  }

  private fullState: PushNodeState[] = [];
  /** Seeds of each node under {@link startWithSeeds} (null: full membership at start). */
  private seedsOf: ((i: number) => readonly number[]) | null = null;
  private joinBackoff: BackoffBounds = { initial: 200, max: 2_000 };
  private readonly joins = new Map<number, { attempt: number; remaining: number; ok: boolean }>();
  private readonly joinRng: Rng;

  /**
   * Start every node at its start instant joining `seedsOf(i)` (indexes; none: it starts alone
   * and is ready at once), as `SwimNode.start` does: one push-pull join per seed, and while no
   * seed answers (a seed that has not started yet fails the stream) the attempt is repeated after
   * `backoffDelayMs(attempt, backoff)`, the shell's retry. {@link readyAtMs} records each
   * node's first successful join. Call once, before {@link runUntil}.
   */
  startWithSeeds(seedsOf: (i: number) => readonly number[], backoff?: BackoffBounds): void {
    this.seedsOf = seedsOf;
    if (backoff !== undefined) this.joinBackoff = backoff;
    for (let i = 0; i < this.cores.length; i++) this.heap.push(this.startAtMs[i]!, Ev.Start, i, 0);
  }

  /** One join attempt of node `i` (every seed at once). */
  private attemptJoin(i: number, attempt: number): void {
    const seeds = this.seedsOf!(i);
    if (seeds.length === 0) {
      this.readyAtMs[i] = this.now;
      return;
    }
    this.joins.set(i, { attempt, remaining: seeds.length, ok: false });
    this.cores[i]!.join(
      seeds.map((s) => this.addresses[s]!),
      this.now,
    );
    this.flush(i);
  }

  /** A `join-result` of node `i`: count it; when the attempt failed everywhere, retry later. */
  private onJoinResult(i: number, ok: boolean): void {
    const j = this.joins.get(i);
    if (j === undefined) return;
    j.remaining--;
    if (ok && !j.ok) {
      j.ok = true;
      if (Number.isNaN(this.readyAtMs[i]!)) this.readyAtMs[i] = this.now;
    }
    if (j.remaining > 0) return;
    this.joins.delete(i);
    if (j.ok) return;
    const delay = backoffDelayMs(j.attempt, this.joinBackoff, this.joinRng.next());
    this.heap.push(this.now + delay, Ev.JoinRetry, i, j.attempt + 1);
  }

  /** Crash node `i` at `atMs` (>= now). */
  scheduleCrash(i: number, atMs: number): void {
    this.heap.push(atMs, Ev.Crash, i, 0);
  }

  /** Run until the clock reaches `untilMs`. */
  runUntil(untilMs: number): void {
    const heap = this.heap;
    while (heap.peekTime() <= untilMs) {
      heap.pop();
      this.counters.events++;
      this.now = heap.time;
      const a = heap.a;
      switch (heap.kind) {
        case Ev.Wake: {
          if (this.wakeAt[a] !== heap.time || this.isDown(a)) {
            this.counters.staleWakes++;
            break;
          }
          this.wakeAt[a] = NaN;
          this.cores[a]!.handleTimeout(this.now);
          this.flush(a);
          break;
        }
        case Ev.Packet:
          this.deliverPacket(heap.b, a, heap.obj as readonly Message[]);
          break;
        case Ev.StreamArrive:
          this.streamArrive(heap.obj as StreamFlight);
          break;
        case Ev.StreamAnswer:
        case Ev.StreamDeadline:
          this.streamSettle(heap.obj as StreamFlight, heap.kind === Ev.StreamDeadline);
          break;
        case Ev.Crash:
          this.crashedAtMs[a] = this.now;
          break;
        case Ev.JoinRetry:
          if (!this.isDown(a)) this.attemptJoin(a, heap.b);
          break;
        case Ev.Start:
          if (this.isCrashed(a)) break;
          if (this.seedsOf !== null) {
            this.attemptJoin(a, 1);
            break;
          }
          this.cores[a]!.handlePushPull(
            this.addresses[0]!,
            this.fullState,
            new Uint8Array(0),
            true,
            this.now,
          );
          this.flush(a);
          break;
      }
    }
    this.now = Math.max(this.now, untilMs);
  }

  /** Inbound delay of node `i`. */
  private inboundLag(i: number): number {
    return this.lagInbound ? this.lagMs[i]! : 0;
  }

  private deliverPacket(from: number, to: number, messages: readonly Message[]): void {
    if (this.isDown(to)) {
      this.counters.packetsToCrashed++;
      return;
    }
    const core = this.cores[to]!;
    const fromAddr = this.addresses[from]!;
    for (let k = 0; k < messages.length; k++) core.handlePacket(fromAddr, messages[k]!, this.now);
    this.counters.messagesDelivered += messages.length;
    this.flush(to);
  }

  private streamArrive(f: StreamFlight): void {
    const back = this.latency.sample(f.to, f.from, this.netRng) + this.inboundLag(f.from);
    if (this.isDown(f.to)) {
      f.failed = true;
      this.heap.push(this.now + back, Ev.StreamAnswer, f.from, 0, f);
      return;
    }
    const core = this.cores[f.to]!;
    const fromAddr = this.addresses[f.from]!;
    if (f.req.kind === 'push-pull') {
      const local = f.req.local;
      f.answer = core.handlePushPull(
        fromAddr,
        local.nodes,
        local.userState,
        local.join,
        this.now,
      ).nodes;
    } else if (f.req.kind === 'ping') {
      f.answer = core.handleStreamPing(fromAddr, f.req.ping, this.now);
    }
    this.flush(f.to);
    this.heap.push(this.now + back, Ev.StreamAnswer, f.from, 0, f);
  }

  private streamSettle(f: StreamFlight, deadline: boolean): void {
    if (f.settled || this.isDown(f.from)) return;
    f.settled = true;
    const core = this.cores[f.from]!;
    const id = f.req.id;
    if (deadline) this.counters.streamTimeouts++;
    else if (f.failed) this.counters.streamFailures++;
    if (f.req.kind === 'ping') {
      core.handleStreamPingResult(
        id,
        deadline || f.failed ? null : (f.answer as AckResp | null),
        this.now,
      );
    } else if (f.req.kind === 'push-pull') {
      if (deadline || f.failed)
        core.handleStreamFailure(id, deadline ? 'i/o timeout' : 'connection refused', this.now);
      else
        core.handlePushPullResponse(id, f.answer as PushNodeState[], new Uint8Array(0), this.now);
    }
    this.flush(f.from);
  }

  /** Drain node `i`'s outputs in the core's polling order and re-arm its wake-up. */
  private flush(i: number): void {
    const core = this.cores[i]!;
    const now = this.now;
    for (let t = core.pollTransmit(); t; t = core.pollTransmit()) {
      this.counters.packetsSent++;
      const to = this.byAddress.get(t.to.addr);
      if (to === undefined) continue;
      if (this.loss > 0 && this.netRng.next() < this.loss) {
        this.counters.packetsLost++;
        continue;
      }
      const at = now + this.latency.sample(i, to, this.netRng) + this.inboundLag(to);
      this.heap.push(at, Ev.Packet, to, i, t.messages);
    }
    for (let r = core.pollStreamRequest(); r; r = core.pollStreamRequest()) {
      this.counters.streams++;
      const to = this.byAddress.get(r.to.addr);
      if (r.kind === 'user' || to === undefined) {
        // Not modelled (no application traffic); settle it so the core forgets it.
        core.handleStreamFailure(r.id, 'unroutable', now);
        continue;
      }
      const f: StreamFlight = { from: i, to, req: r, settled: false, answer: null, failed: false };
      this.heap.push(
        now + this.latency.sample(i, to, this.netRng) + this.inboundLag(to),
        Ev.StreamArrive,
        to,
        0,
        f,
      );
      this.heap.push(Math.max(now, r.deadlineMs) + this.inboundLag(i), Ev.StreamDeadline, i, 0, f);
    }
    const listener = this.onEvent;
    for (let e = core.pollEvent(); e; e = core.pollEvent()) {
      if (e.type === 'join-result') this.onJoinResult(i, e.ok);
      if (listener) listener(i, e, now);
    }
    const deadline = core.pollTimeout();
    if (deadline === undefined) {
      this.wakeAt[i] = NaN;
      return;
    }
    const at = Math.max(now, deadline + this.lagMs[i]!);
    if (at !== this.wakeAt[i]) {
      this.wakeAt[i] = at;
      this.heap.push(at, Ev.Wake, i, 0);
    }
  }
}
