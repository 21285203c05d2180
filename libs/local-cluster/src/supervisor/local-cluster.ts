/**
 * `LocalCluster`: a real cluster of N node processes on 127.0.0.1, each a Nest application with
 * `PlumtreeModule` (see ../node-host), driven and watched over IPC. What `npm start` (the web
 * chat) and `plumtree chat` (the terminal chat) run.
 *
 * - Start: node-1 first (a free port, no seeds), then the others joining it; every node keeps its
 *   LevelDB store in its own directory, so a killed node restarted on the same port and store
 *   rejoins (stored peers, incarnation) and catches up its durable rooms.
 * - Faults are the nodes' own (packet loss, frame loss, blocked addresses; see fault-hooks.ts);
 *   kill is SIGKILL; a partition blocks, on every node, the addresses of the other side.
 * - State: each node reports its snapshot and events; {@link view$} is the cluster computed from
 *   them (cluster-view.ts), {@link events$} every event tagged with its node, in batches.
 * - Stop: every node leaves gracefully, bounded in time, then SIGKILL; a node process also exits
 *   by itself when this process dies (its IPC channel closes).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BehaviorSubject, Observable, Subject } from 'rxjs';
import { NO_FAULTS, type NodeEvent, type NodeFaults, type NodeSnapshot } from '../protocol.js';
import { ChatLog, type ChatMessage } from './chat-log.js';
import {
  buildClusterView,
  type ClusterView,
  type NodeRecord,
  type ProcessState,
} from './cluster-view.js';
import {
  LocalClusterError,
  resolveLocalClusterOptions,
  type LocalClusterOptions,
  type ResolvedLocalClusterOptions,
} from './local-cluster-options.js';
import { MetricsBook } from './metrics-book.js';
import { NodeProcess } from './node-process.js';

/** An event of the cluster: one node's, or the supervisor's own (starts, kills, faults). */
export type ClusterEvent =
  | (NodeEvent & { readonly node: string; readonly atMs: number })
  | {
      readonly kind: 'cluster';
      readonly level: 'info' | 'warn' | 'error';
      readonly text: string;
      readonly atMs: number;
    };

/** Events kept for {@link LocalCluster.recentEvents} (a front-end that connects late). */
const RECENT_EVENTS = 300;
/** How long a graceful stop of one node may take before SIGKILL. */
const STOP_TIMEOUT_MS = 4_000;
/** View recomputations at most this often, ms. */
const VIEW_MIN_GAP_MS = 150;
/** Events handed on in batches, at most this often, ms. */
const EVENTS_GAP_MS = 100;

/** Everything the supervisor keeps about one node. */
interface Slot {
  readonly name: string;
  readonly seed: number;
  readonly dataDir: string;
  proc: NodeProcess | undefined;
  process: ProcessState;
  address: string;
  snapshot: NodeSnapshot | undefined;
  faults: NodeFaults;
  rooms: Set<string>;
}

export class LocalCluster {
  private readonly options: ResolvedLocalClusterOptions;
  private readonly slots: Slot[];
  private readonly ownsDataDir: boolean;
  private readonly dataDir: string;
  private readonly script = fileURLToPath(new URL('../node-host/main.js', import.meta.url));
  private readonly metrics = new MetricsBook();
  private readonly chat = new ChatLog();
  private readonly viewSubject: BehaviorSubject<ClusterView>;
  private readonly eventsSubject = new Subject<ClusterEvent[]>();
  private readonly messagesSubject = new Subject<ChatMessage>();
  private pendingEvents: ClusterEvent[] = [];
  /** The last {@link RECENT_EVENTS} events but chat deliveries, oldest first. */
  private readonly recent: ClusterEvent[] = [];
  private eventsTimer: NodeJS.Timeout | undefined;
  private viewTimer: NodeJS.Timeout | undefined;
  private lastViewMs = 0;
  private readonly rateTimer: NodeJS.Timeout;
  private partitionGroups: string[][] | null = null;
  private eagerAll = false;
  private reconfiguring = false;
  private stopping: Promise<void> | undefined;
  private started: Promise<void> | undefined;

  /**
   * The cluster as the nodes report it: the current view on subscription, then every change
   * (at most every 150 ms).
   */
  readonly view$: Observable<ClusterView>;
  /** Events of every node and of the supervisor, in batches (hot). */
  readonly events$: Observable<ClusterEvent[]>;
  /** Each chat message when a node delivers it (the entry, its arrivals so far) (hot). */
  readonly messages$: Observable<ChatMessage>;

  /** A cluster whose nodes start with {@link launch}; throws a LocalClusterError for bad options. */
  constructor(options: LocalClusterOptions = {}) {
    this.options = resolveLocalClusterOptions(options);
    this.ownsDataDir = options.dataDir === undefined;
    this.dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'plumtree-local-cluster-'));
    const o = this.options;
    this.slots = Array.from({ length: o.nodes }, (_, i) => {
      const name = `node-${(i + 1).toString()}`;
      const dataDir = join(this.dataDir, name);
      mkdirSync(dataDir, { recursive: true });
      return {
        name,
        seed: o.seed + i,
        dataDir,
        proc: undefined,
        process: 'starting' as ProcessState,
        address: '',
        snapshot: undefined,
        faults: NO_FAULTS,
        rooms: new Set(o.initialRooms(i, o.nodes)),
      };
    });
    this.viewSubject = new BehaviorSubject(this.computeView());
    this.view$ = this.viewSubject.asObservable();
    this.events$ = this.eventsSubject.asObservable();
    this.messages$ = this.messagesSubject.asObservable();
    this.rateTimer = setInterval(() => {
      this.metrics.tick();
      this.viewChanged();
    }, 1_000);
  }

  /**
   * Starts a cluster; resolves once every node runs (node-1 first, the others joining it).
   * Rejects with the first node's start error, after stopping the nodes already started.
   */
  static async start(options: LocalClusterOptions = {}): Promise<LocalCluster> {
    const cluster = new LocalCluster(options);
    try {
      await cluster.launch();
    } catch (e) {
      await cluster.stop();
      throw e;
    }
    return cluster;
  }

  /**
   * Starts the nodes (once; later calls return the same promise): node-1 first, the others
   * joining it. A front-end may show the view meanwhile (nodes `starting`). Rejects when a node
   * could not start (the others keep running; `stop()` ends them).
   */
  launch(): Promise<void> {
    this.started ??= this.startAll().catch((e: unknown) => {
      if (this.stopping === undefined) this.notice('error', (e as Error).message);
      throw e;
    });
    return this.started;
  }

  /** The node names, in order. */
  get names(): string[] {
    return this.slots.map((s) => s.name);
  }

  /** The rooms, durable ones marked. */
  get rooms(): readonly { readonly name: string; readonly durable: boolean }[] {
    return this.options.rooms;
  }

  /** Whether {@link stop} was called (a start cut short by it is not an error). */
  get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  /** The current view. */
  view(): ClusterView {
    return this.viewSubject.value;
  }

  /** The chat so far, oldest first (one room, or all). */
  history(room?: string): ChatMessage[] {
    return this.chat.recent(room);
  }

  /** The last events (chat deliveries aside: see {@link history}), oldest first. */
  recentEvents(): ClusterEvent[] {
    return [...this.recent];
  }

  // ---------------------------------------------------------------- commands

  /** `node` joins `room`: it subscribes to the topic and enters its tree. */
  async join(node: string, room: string): Promise<void> {
    const s = this.slot(node);
    this.checkRoom(room);
    s.rooms.add(room);
    if (s.process === 'running') await s.proc!.request({ type: 'join', room });
  }

  /** `node` leaves `room`: it unsubscribes and drops out of the room's tree. */
  async leave(node: string, room: string): Promise<void> {
    const s = this.slot(node);
    this.checkRoom(room);
    s.rooms.delete(room);
    if (s.process === 'running') await s.proc!.request({ type: 'leave', room });
  }

  /** Publishes a chat line from `node` on `room`; resolves to the message id. */
  async send(node: string, room: string, text: string): Promise<string> {
    const s = this.slot(node);
    this.checkRoom(room);
    if (s.process !== 'running') throw new LocalClusterError(`${node} is not running`);
    const id = await s.proc!.request({ type: 'send', room, text });
    return id ?? '';
  }

  /** SIGKILL `node`: no leave message; the others detect the failure. */
  async kill(node: string): Promise<void> {
    const s = this.slot(node);
    if (s.proc === undefined || s.proc.hasExited) return;
    s.process = 'killed';
    s.snapshot = undefined;
    this.notice('warn', `${node} killed (SIGKILL, pid ${String(s.proc.pid)})`);
    await s.proc.kill();
  }

  /** Starts a stopped `node` again on its port and store; resolves once it runs. */
  async restart(node: string): Promise<void> {
    const s = this.slot(node);
    if (s.proc !== undefined && !s.proc.hasExited) {
      throw new LocalClusterError(`${node} is running; kill it first`);
    }
    s.process = 'restarting';
    this.viewChanged();
    await this.startSlot(s, this.otherAddresses(s));
  }

  /**
   * Splits the cluster: nodes talk only within their group; nodes in no group form one more.
   * Every node blocks the addresses of the nodes outside its group (both ways, open streams cut).
   */
  async partition(groups: readonly (readonly string[])[]): Promise<void> {
    for (const g of groups) for (const n of g) this.slot(n);
    const grouped = new Set(groups.flat());
    const rest = this.slots.map((s) => s.name).filter((n) => !grouped.has(n));
    const all = [...groups.map((g) => [...g]), ...(rest.length > 0 ? [rest] : [])].filter(
      (g) => g.length > 0,
    );
    this.partitionGroups = all;
    const groupOf = new Map<string, number>();
    all.forEach((g, i) => g.forEach((n) => groupOf.set(n, i)));
    await Promise.all(
      this.slots.map((s) => {
        const blocked = this.slots
          .filter((o) => groupOf.get(o.name) !== groupOf.get(s.name) && o.address !== '')
          .map((o) => o.address);
        return this.setFaults(s, { ...s.faults, blocked });
      }),
    );
    this.notice('warn', `partition ${all.map((g) => g.join(' ')).join(' | ')}`);
  }

  /** Lifts the partition; the sides merge at once (each node joins the others). */
  async heal(): Promise<void> {
    this.partitionGroups = null;
    for (const s of this.slots) s.faults = { ...s.faults, blocked: [] };
    this.notice('info', 'partition healed');
    await Promise.all(
      this.slots
        .filter((s) => s.process === 'running')
        .map((s) =>
          s
            .proc!.request({ type: 'heal', addresses: this.otherAddresses(s) })
            .catch(() => undefined),
        ),
    );
    this.viewChanged();
  }

  /** Loss on `node`: SWIM packets (each way) and outgoing Plumtree frames, rates in [0, 1]. */
  async setLoss(node: string, loss: { packets: number; frames: number }): Promise<void> {
    const s = this.slot(node);
    for (const r of [loss.packets, loss.frames]) {
      if (!(r >= 0 && r <= 1)) throw new LocalClusterError(`loss rate must be in [0, 1], got ${r}`);
    }
    await this.setFaults(s, { ...s.faults, packetLoss: loss.packets, frameLoss: loss.frames });
    const pct = (x: number) => `${Math.round(x * 100).toString()}%`;
    this.notice(
      'info',
      `${node}: packet loss ${pct(loss.packets)}, frame loss ${pct(loss.frames)}`,
    );
  }

  /** Every node's counters start from zero again (the deliveries/s chart goes on). */
  resetMetrics(): void {
    this.metrics.reset();
    this.notice('info', 'metrics reset');
  }

  /**
   * Reopens every tree with all peers eager (`on`), or with the default fanout: each running node
   * in turn restarts in place (graceful leave, same port and store) with that configuration.
   * With all peers eager, the next messages are pushed on every link and the duplicates PRUNE
   * the redundant ones back into a tree. Resolves when every node has restarted.
   */
  async setEagerAll(on: boolean): Promise<void> {
    if (this.reconfiguring) throw new LocalClusterError('a reconfiguration is under way');
    this.reconfiguring = true;
    this.eagerAll = on;
    this.notice(
      'info',
      on ? 'all peers eager: restarting every tree' : 'default fanout: restarting every tree',
    );
    try {
      for (const s of this.slots) {
        if (s.process !== 'running') continue;
        await s
          .proc!.request({ type: 'reconfigure', eagerAll: on, seeds: this.otherAddresses(s) })
          .catch((e: unknown) => this.notice('error', `${s.name}: ${(e as Error).message}`));
      }
    } finally {
      this.reconfiguring = false;
      this.viewChanged();
    }
  }

  /**
   * Stops every node: each leaves gracefully (at most 4 s), then SIGKILL; removes the stores when
   * the cluster made their directory. Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      clearInterval(this.rateTimer);
      for (const s of this.slots) if (s.process === 'running') s.process = 'stopping';
      await Promise.all(this.slots.map((s) => s.proc?.stop(STOP_TIMEOUT_MS)));
      if (this.viewTimer !== undefined) clearTimeout(this.viewTimer);
      this.flushEvents();
      if (this.eventsTimer !== undefined) clearTimeout(this.eventsTimer);
      this.viewSubject.complete();
      this.eventsSubject.complete();
      this.messagesSubject.complete();
      if (this.ownsDataDir) rmSync(this.dataDir, { recursive: true, force: true });
    })();
    return this.stopping;
  }

  /** SIGKILL every node now, without waiting (for `process.on('exit')`). */
  killNow(): void {
    for (const s of this.slots) s.proc?.killNow();
  }

  // ---------------------------------------------------------------- internals

  private async startAll(): Promise<void> {
    const [first, ...rest] = this.slots;
    await this.startSlot(first!, []);
    await Promise.all(rest.map((s) => this.startSlot(s, [first!.address])));
    this.notice('info', `${this.slots.length.toString()} nodes running on 127.0.0.1`);
  }

  private async startSlot(s: Slot, seeds: readonly string[]): Promise<void> {
    if (this.stopping !== undefined) return;
    const port = s.address === '' ? 0 : Number(s.address.split(':').pop());
    const proc = new NodeProcess(
      this.script,
      {
        name: s.name,
        bindPort: port,
        seeds,
        staticSeeds: seeds,
        dataDir: s.dataDir,
        rooms: [...s.rooms],
        durableRooms: this.options.rooms.filter((r) => r.durable).map((r) => r.name),
        faults: s.faults,
        eagerAll: this.eagerAll,
        clusterSize: this.slots.length,
        seed: s.seed,
      },
      {
        onReport: (r) => {
          if (r.type === 'snapshot') this.onSnapshot(s, proc, r.snapshot);
          else if (r.type === 'events') this.onEvents(s, r.events, r.atMs);
        },
        onExit: (code, signal) => this.onExit(s, proc, code, signal),
        onOutput: (line) => this.options.log(`[${s.name}] ${line}`),
      },
    );
    s.proc = proc;
    if (s.process !== 'restarting') s.process = 'starting';
    this.viewChanged();
    try {
      s.address = await proc.ready;
    } catch (e) {
      throw new LocalClusterError(`${s.name} could not start: ${(e as Error).message}`);
    }
    if (s.proc === proc && !proc.hasExited) s.process = 'running';
    this.notice('info', `${s.name} running on ${s.address} (pid ${String(proc.pid)})`);
  }

  private onSnapshot(s: Slot, proc: NodeProcess, snap: NodeSnapshot): void {
    if (s.proc !== proc || proc.hasExited || s.process === 'killed') return;
    s.snapshot = snap;
    this.metrics.observe(s.name, snap.epoch, snap.counters);
    this.viewChanged();
  }

  private onEvents(s: Slot, events: readonly NodeEvent[], atMs: number): void {
    for (const e of events) {
      if (e.kind === 'delivery') this.messagesSubject.next(this.chat.add(s.name, e));
      this.pendingEvents.push({ ...e, node: s.name, atMs });
    }
    this.scheduleEvents();
  }

  private onExit(
    s: Slot,
    proc: NodeProcess,
    code: number | null,
    signal: NodeJS.Signals | null,
  ): void {
    if (s.proc !== proc) return;
    s.snapshot = undefined;
    if (s.process === 'killed' || s.process === 'stopping') {
      if (s.process === 'stopping') s.process = 'exited';
    } else {
      s.process = 'exited';
      this.notice('error', `${s.name} exited (${signal ?? `code ${String(code)}`})`);
    }
    this.viewChanged();
  }

  private async setFaults(s: Slot, faults: NodeFaults): Promise<void> {
    s.faults = faults;
    if (s.process === 'running') await s.proc!.request({ type: 'faults', faults });
    this.viewChanged();
  }

  private otherAddresses(s: Slot): string[] {
    return this.slots.filter((o) => o !== s && o.address !== '').map((o) => o.address);
  }

  private slot(name: string): Slot {
    const s = this.slots.find((x) => x.name === name);
    if (s === undefined) {
      throw new LocalClusterError(
        `no node ${JSON.stringify(name)} (nodes: ${this.names.join(', ')})`,
      );
    }
    return s;
  }

  private checkRoom(room: string): void {
    if (!this.options.rooms.some((r) => r.name === room)) {
      throw new LocalClusterError(
        `no room ${JSON.stringify(room)} (rooms: ${this.options.rooms.map((r) => r.name).join(', ')})`,
      );
    }
  }

  private notice(level: 'info' | 'warn' | 'error', text: string): void {
    this.pendingEvents.push({ kind: 'cluster', level, text, atMs: Date.now() });
    this.scheduleEvents();
    this.viewChanged();
  }

  private scheduleEvents(): void {
    if (this.eventsTimer !== undefined || this.eventsSubject.closed) return;
    this.eventsTimer = setTimeout(() => {
      this.eventsTimer = undefined;
      this.flushEvents();
    }, EVENTS_GAP_MS);
  }

  private flushEvents(): void {
    if (this.pendingEvents.length === 0) return;
    const batch = this.pendingEvents;
    this.pendingEvents = [];
    for (const e of batch) if (e.kind !== 'delivery') this.recent.push(e);
    if (this.recent.length > RECENT_EVENTS)
      this.recent.splice(0, this.recent.length - RECENT_EVENTS);
    this.eventsSubject.next(batch);
  }

  private viewChanged(): void {
    if (this.viewTimer !== undefined || this.viewSubject.closed) return;
    const wait = Math.max(0, this.lastViewMs + VIEW_MIN_GAP_MS - Date.now());
    this.viewTimer = setTimeout(() => {
      this.viewTimer = undefined;
      this.lastViewMs = Date.now();
      if (!this.viewSubject.closed) this.viewSubject.next(this.computeView());
    }, wait);
  }

  private computeView(): ClusterView {
    const nodes: NodeRecord[] = this.slots.map((s) => ({
      name: s.name,
      address: s.address,
      pid: s.proc?.pid ?? null,
      process: s.process,
      snapshot: s.snapshot,
      counters: this.metrics.since(s.name),
      faults: s.faults,
      rooms: [...s.rooms],
    }));
    return buildClusterView({
      nodes,
      rooms: this.options.rooms,
      partition: this.partitionGroups,
      eagerAll: this.eagerAll,
      reconfiguring: this.reconfiguring,
      rate: this.metrics.rate(),
    });
  }
}
