/**
 * One node process of a local cluster: a Nest application (`PlumtreeModule` + the chat rooms
 * provider) on 127.0.0.1 behind the process's fault hooks, driven by the supervisor's commands
 * and reporting its state over the IPC channel.
 *
 * Reports: `ready` once the node runs; a `snapshot` (members, rooms, trees, counters, faults)
 * at most every {@link SNAPSHOT_MIN_GAP_MS} after something changed and at least every
 * {@link SNAPSHOT_MAX_GAP_MS} (counters move without events); `events` batched on the same turn.
 */
import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { PlumtreeNode, PlumtreeNodeEvent } from '@plumtree/cluster';
import { PlumtreeService, type PlumtreeModuleOptions } from '@plumtree/nestjs';
import type { SwimEvent } from '@plumtree/swim';
import type { Subscription } from 'rxjs';
import type {
  NodeCommand,
  NodeEvent,
  NodeHostConfig,
  NodeReport,
  NodeSnapshot,
} from '../protocol.js';
import { ChatRoomsService } from './chat-rooms.service.js';
import { FaultHooks } from './fault-hooks.js';
import { NodeAppModule } from './node-app.module.js';
import { nodeCounters } from './node-counters.js';

/** Least time between two snapshots, ms. */
export const SNAPSHOT_MIN_GAP_MS = 100;
/** Most time between two snapshots, ms. */
export const SNAPSHOT_MAX_GAP_MS = 1_000;
/** Events kept for the next report at most (a loss storm of GRAFTs is cut, not queued). */
const MAX_EVENTS_PER_REPORT = 500;

/**
 * SWIM timers of the demo: memberlist's local profile with a 500 ms probe interval, so a killed
 * node is declared dead in a few seconds (suspicion >= 3 x 1 x 500 ms, shrinking as others confirm).
 */
const SWIM = { preset: 'local', probeIntervalMs: 500 } as const;
/** Lazarus rounds every 2 s: a healed partition rejoins soon even without the heal command. */
const LAZARUS_INTERVAL_MS = 2_000;
/** A graceful leave waits this long at most for SWIM's leave broadcast. */
const LEAVE_TIMEOUT_MS = 1_000;

/** The running Nest application of the node and what listens to it. */
interface Running {
  readonly app: INestApplicationContext;
  readonly node: PlumtreeNode;
  readonly rooms: ChatRoomsService;
  readonly subscriptions: Subscription[];
}

export class NodeHost {
  private running: Running | undefined;
  /** The start or restart under way; commands wait for it. */
  private starting: Promise<Running>;
  private readonly faults: FaultHooks;
  private eagerAll: boolean;
  private seeds: readonly string[];
  private port: number;
  private events: NodeEvent[] = [];
  private dirty = true;
  private flushTimer: NodeJS.Timeout | undefined;
  private lastFlushMs = 0;
  private readonly heartbeat: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly config: NodeHostConfig,
    private readonly send: (report: NodeReport) => void,
  ) {
    this.faults = new FaultHooks(config.faults, config.seed);
    this.eagerAll = config.eagerAll;
    this.seeds = config.seeds;
    this.port = config.bindPort;
    this.heartbeat = setInterval(() => this.markDirty(), SNAPSHOT_MAX_GAP_MS);
    this.starting = this.startApp(config.rooms);
  }

  /** Resolves with the bound address once the node runs; rejects when it cannot start. */
  async ready(): Promise<string> {
    const r = await this.starting;
    return r.node.address;
  }

  /** Runs one command; resolves with the value of its reply (the message id of a `send`). */
  async handle(cmd: NodeCommand): Promise<string | undefined> {
    if (cmd.type === 'stop') {
      await this.stop();
      return undefined;
    }
    const r = await this.starting;
    switch (cmd.type) {
      case 'join':
        r.rooms.join(cmd.room);
        break;
      case 'leave':
        r.rooms.leave(cmd.room);
        break;
      case 'send':
        return r.rooms.send(cmd.room, cmd.text);
      case 'faults':
        this.faults.set(cmd.faults);
        break;
      case 'heal':
        this.faults.set({ ...this.faults.faults, blocked: [] });
        // Members that failed are not probed again by SWIM: a join merges the two sides.
        if (cmd.addresses.length > 0) await r.node.swimNode.join(cmd.addresses).catch(() => 0);
        break;
      case 'reconfigure': {
        this.eagerAll = cmd.eagerAll;
        this.seeds = cmd.seeds;
        const rooms = r.rooms.rooms();
        this.starting = this.closeApp(r).then(() => this.startApp(rooms));
        await this.starting;
        break;
      }
    }
    this.markDirty();
    return undefined;
  }

  /** Leaves the cluster gracefully; idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.heartbeat);
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    const r = await this.starting.catch(() => undefined);
    if (r !== undefined) await this.closeApp(r);
  }

  private async startApp(rooms: readonly string[]): Promise<Running> {
    const c = this.config;
    const transport = await this.faults.bind(this.port, SWIM.preset);
    // A restart in place keeps the port the cluster knows this node by.
    this.port = Number(transport.localAddress.split(':').pop());
    const options: PlumtreeModuleOptions = {
      name: c.name,
      bindAddr: '127.0.0.1',
      bindPort: this.port,
      transport,
      seeds: this.seeds,
      staticSeeds: c.staticSeeds,
      dataDir: c.dataDir,
      durable: { topics: c.durableRooms },
      swim: SWIM,
      lazarus: { intervalMs: LAZARUS_INTERVAL_MS },
      leaveTimeoutMs: LEAVE_TIMEOUT_MS,
      seed: c.seed,
      frameFilter: this.faults.frameFilter,
      // "All eager": every node of the cluster an eager peer when a tree opens; the first
      // messages then PRUNE the redundant links back into a tree (see docs/web-chat.md).
      ...(this.eagerAll ? { plumtree: { eagerFanout: Math.max(1, c.clusterSize - 1) } } : {}),
    };
    const app = await NestFactory.createApplicationContext(
      NodeAppModule.forRoot(options, c.durableRooms),
      { logger: ['error', 'warn'], abortOnError: false },
    );
    await app.init();
    const node = await app.get(PlumtreeService).whenReady();
    const chat = app.get(ChatRoomsService);
    const subscriptions = [
      node.events$.subscribe((e) => this.onNodeEvent(e)),
      node.swimNode.events$.subscribe((e) => this.onSwimEvent(e, node.name)),
      node.members$.subscribe(() => this.markDirty()),
      chat.deliveries$.subscribe((d) => this.push(d)),
    ];
    for (const room of rooms) chat.join(room);
    const running: Running = { app, node, rooms: chat, subscriptions };
    this.running = running;
    this.markDirty();
    return running;
  }

  /** Closes the application: `PlumtreeModule` leaves the cluster gracefully. */
  private async closeApp(r: Running): Promise<void> {
    // The last snapshot before the node goes (its counters end here).
    this.flush();
    await r.app.close();
    for (const s of r.subscriptions) s.unsubscribe();
    if (this.running === r) this.running = undefined;
  }

  private onNodeEvent(e: PlumtreeNodeEvent): void {
    switch (e.type) {
      case 'promotion':
      case 'demotion':
      case 'graft':
      case 'prune':
        this.push({ kind: 'tree', type: e.type, topic: e.topic, peer: e.peer });
        break;
      case 'graft-failed':
        this.push({ kind: 'graft-failed', topic: e.topic, id: e.id });
        break;
      case 'peer-up':
        this.push({ kind: 'peer', type: 'up', peer: e.peer });
        break;
      case 'peer-down':
        this.push({ kind: 'peer', type: 'down', peer: e.peer });
        break;
      default:
        // topic-joined / topic-left / durable-failed: the snapshot shows the rooms.
        this.markDirty();
    }
  }

  private onSwimEvent(e: SwimEvent, self: string): void {
    const type =
      e.type === 'member-join'
        ? 'join'
        : e.type === 'member-suspect'
          ? 'suspect'
          : e.type === 'member-failed'
            ? 'failed'
            : e.type === 'member-left'
              ? 'left'
              : undefined;
    if (type === undefined || !('member' in e) || e.member.name === self) return;
    this.push({ kind: 'member', type, member: e.member.name });
  }

  private push(e: NodeEvent): void {
    if (this.events.length < MAX_EVENTS_PER_REPORT) this.events.push(e);
    this.markDirty();
  }

  private markDirty(): void {
    this.dirty = true;
    if (this.flushTimer !== undefined || this.stopped) return;
    const wait = Math.max(0, this.lastFlushMs + SNAPSHOT_MIN_GAP_MS - Date.now());
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.flush();
    }, wait);
  }

  private flush(): void {
    this.lastFlushMs = Date.now();
    if (this.events.length > 0) {
      this.send({ type: 'events', events: this.events, atMs: this.lastFlushMs });
      this.events = [];
    }
    const r = this.running;
    if (!this.dirty || r === undefined || r.node.isClosed) return;
    this.dirty = false;
    this.send({ type: 'snapshot', snapshot: this.snapshot(r) });
  }

  private snapshot(r: Running): NodeSnapshot {
    const s = r.node.stats();
    const trees: Record<string, { eager: string[]; lazy: string[] }> = {};
    for (const [topic, t] of Object.entries(s.topics)) {
      trees[topic] = { eager: [...t.eagerPeers], lazy: [...t.lazyPeers] };
    }
    return {
      name: r.node.name,
      address: r.node.address,
      epoch: r.node.epoch,
      members: r.node.swimNode.allMembers().map((m) => ({
        name: m.name,
        address: m.address,
        state: m.state,
        incarnation: m.incarnation,
      })),
      rooms: r.rooms.rooms(),
      trees,
      counters: nodeCounters(s, r.rooms.published, this.faults.packetsLost()),
      faults: this.faults.faults,
      eagerAll: this.eagerAll,
    };
  }
}
