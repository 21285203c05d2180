/**
 * `createTestCluster()`: N Nest applications joined as one Plumtree cluster inside the jest
 * process, for users' e2e tests. Every node runs on one shared in-memory network (`MemoryNetwork`
 * of @plumtree/swim: the same SWIM and frame code as on UDP/TCP, minus the sockets), which is
 * what makes partitions and loss exact and cheap: `partition()` splits the network by address,
 * `setLoss()` drops SWIM packets (and optionally Plumtree frames), `kill()` closes a node without
 * a leave message, as a crash would.
 */
import 'reflect-metadata';
import { Module, type INestApplication, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Delivery, PlumtreeNode, ReadyOptions } from '@plumtree/cluster';
import {
  PlumtreeModule,
  PlumtreeServer,
  PlumtreeService,
  type PlumtreeModuleOptions,
} from '@plumtree/nestjs';
import { createRng } from '@plumtree/plumtree';
import { MemoryNetwork, type MemoryTransport } from '@plumtree/swim';
import { membershipProblems, topicProblems, topicsInTree } from './convergence.js';
import {
  TEST_CLUSTER_SWIM,
  TEST_LEAVE_TIMEOUT_MS,
  TEST_STREAM_TIMEOUT_MS,
  type ModuleImport,
  type TestClusterOptions,
  type TestNodeInfo,
} from './test-cluster-options.js';
import { TestClusterTimeoutError, waitUntil } from './wait-until.js';

/** An application of the cluster: its index or the application itself. */
export type TestApp = number | INestApplication;

/** Options of {@link TestCluster.setLoss}. */
export interface LossOptions {
  /**
   * Drop Plumtree frames at the same rate too. Off by default: frames travel on streams, which
   * on a real network are TCP and never lose a frame silently (they break instead). Plumtree
   * has no anti-entropy, so frame loss can lose messages for good; use it to test that.
   */
  readonly frames?: boolean;
}

/** Options of {@link TestCluster.nextMessage}. */
export interface NextMessageOptions {
  /** Reject after this many ms. Default 10,000. */
  readonly timeoutMs?: number;
}

/** A running test cluster; see {@link createTestCluster}. */
export class TestCluster {
  /** The applications, by index (killed ones stay in place, closed). */
  readonly apps: readonly INestApplication[];
  /** The nodes, by index (killed ones stay in place, closed). */
  readonly nodes: readonly PlumtreeNode[];
  /** The node names, by index. */
  readonly names: readonly string[];
  /** The network every node runs on (drop counters, delay, packet size cap). */
  readonly network: MemoryNetwork;

  private readonly transports: readonly MemoryTransport[];
  private readonly killed = new Set<number>();
  private groups: readonly (readonly number[])[] | null = null;
  private readonly frameLoss: { rate: number };
  private closed = false;

  /** @internal Use {@link createTestCluster}. */
  constructor(
    parts: {
      apps: INestApplication[];
      nodes: PlumtreeNode[];
      transports: MemoryTransport[];
      network: MemoryNetwork;
      frameLoss: { rate: number };
    },
    private readonly timeoutMs: number,
  ) {
    this.apps = parts.apps;
    this.nodes = parts.nodes;
    this.names = parts.nodes.map((n) => n.name);
    this.transports = parts.transports;
    this.network = parts.network;
    this.frameLoss = parts.frameLoss;
  }

  /** The size the cluster was created with. */
  get size(): number {
    return this.apps.length;
  }

  /** The application at `i`. */
  app(i: number): INestApplication {
    return this.apps[this.indexOf(i)]!;
  }

  /** The node of an application. */
  node(app: TestApp): PlumtreeNode {
    return this.nodes[this.indexOf(app)]!;
  }

  /** Whether the application at `i` runs (was not killed). */
  isAlive(app: TestApp): boolean {
    return !this.killed.has(this.indexOf(app)) && !this.closed;
  }

  /**
   * Wait until the cluster has converged: every running node sees exactly the nodes it can reach
   * (its partition group) as alive, the topic directories agree, and each topic's tree links all
   * its subscribers. After this, a message published anywhere reaches every subscriber in the
   * publisher's group. Call it after start-up (`createTestCluster` already does), after `kill`,
   * `partition` and `heal`, and after apps subscribe to new topics. Rejects with a
   * `TestClusterTimeoutError` listing what had not converged.
   */
  async waitForMembers(options: { timeoutMs?: number } = {}): Promise<void> {
    const groups = this.liveGroups();
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    await waitUntil(
      'cluster convergence',
      () => {
        const membership = groups.flatMap((g) => membershipProblems(g));
        return membership.length > 0 ? membership : groups.flatMap((g) => topicProblems(g));
      },
      timeoutMs,
    );
    // Links present is not links answered: every topic ready at every node of its group.
    await Promise.all(
      groups.flatMap((g) =>
        [...topicsInTree(g)].flatMap(([topic, subscribers]) =>
          g.map((n) => n.ready(topic, { subscribers, timeoutMs })),
        ),
      ),
    );
  }

  /**
   * Wait until a message published on `topic` reaches every subscriber, from any node: at every
   * running application (or only at `apps`), `PlumtreeNode.ready(topic, { subscribers,
   * timeoutMs })` resolved, so the directory lists at least `subscribers` of the topic and the
   * node's tree links for it are up. No warm-up publishes needed: call it after the subscribing
   * apps started (their handlers subscribe at init), then publish. Rejects with the first node's
   * `ReadyTimeoutError` after `timeoutMs` (default: the cluster's).
   */
  async ready(
    topic: string,
    options: ReadyOptions & { readonly apps?: readonly TestApp[] } = {},
  ): Promise<void> {
    const indexes = options.apps?.map((a) => this.indexOf(a)) ?? this.liveGroupIndexes().flat();
    const ready: ReadyOptions = {
      timeoutMs: options.timeoutMs ?? this.timeoutMs,
      ...(options.subscribers !== undefined ? { subscribers: options.subscribers } : {}),
    };
    await Promise.all(indexes.map((i) => this.nodes[i]!.ready(topic, ready)));
  }

  /**
   * Wait until `condition()` holds, polling every few ms; rejects with a
   * `TestClusterTimeoutError` naming `what` after `timeoutMs` (default: the cluster's). For
   * effects of handlers, which run asynchronously after the node delivered a message (pipes,
   * guards and interceptors first): `await cluster.waitFor('app 2 handled it', () =>
   * cluster.app(2).get(Listener).received.length === 1)`.
   */
  async waitFor(
    what: string,
    condition: () => boolean,
    options: { timeoutMs?: number } = {},
  ): Promise<void> {
    await waitUntil(
      what,
      () => (condition() ? [] : ['condition false']),
      options.timeoutMs ?? this.timeoutMs,
    );
  }

  /**
   * The next message delivered on `topic` (or pattern) at `app`. It listens from the call on,
   * so take the promise before publishing:
   * `const next = cluster.nextMessage(2, 'orders.created'); await publish(); await next;`.
   * The app should be in the topic's tree already (a handler subscribes it); otherwise this
   * subscription joins it, and `waitForMembers()` must run before publishing.
   */
  nextMessage<T = unknown>(
    app: TestApp,
    topic: string,
    options: NextMessageOptions = {},
  ): Promise<Delivery<T>> {
    const i = this.indexOf(app);
    const timeoutMs = options.timeoutMs ?? 10_000;
    return new Promise<Delivery<T>>((resolve, reject) => {
      const timer = setTimeout(() => {
        sub.unsubscribe();
        reject(
          new TestClusterTimeoutError(
            `no message on ${topic} at ${this.names[i]} (app ${i}) within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      const sub = this.nodes[i]!.subscribe<T>(topic).subscribe({
        next: (d) => {
          clearTimeout(timer);
          sub.unsubscribe();
          resolve(d);
        },
        error: (e: unknown) => {
          clearTimeout(timer);
          reject(e as Error);
        },
        complete: () => {
          clearTimeout(timer);
          reject(new Error(`${this.names[i]} closed before a message on ${topic}`));
        },
      });
    });
  }

  /**
   * Crash the application at `i`: its transport and node stop at once, with no leave message,
   * so the others detect it as failed (not left) after SWIM's suspicion timeout; then the Nest
   * application is closed to release it. Call `waitForMembers()` to wait for the detection.
   */
  async kill(app: TestApp): Promise<void> {
    const i = this.indexOf(app);
    if (this.killed.has(i)) return;
    this.killed.add(i);
    // The transport first: nothing may leave the node once it is "dead", not even a FIN.
    await this.transports[i]!.close();
    await this.nodes[i]!.close();
    await this.apps[i]!.close();
  }

  /**
   * Split the network into groups of application indexes: nodes talk only within their group;
   * nodes in no group form one more group together. Open connections across groups are reset
   * and new ones time out, as on a real cut. Each side then declares the other failed; call
   * `waitForMembers()` to wait for that.
   */
  partition(groups: readonly (readonly number[])[]): void {
    for (const g of groups) for (const i of g) this.indexOf(i);
    this.groups = groups.map((g) => [...g]);
    this.network.partition(groups.map((g) => g.map((i) => this.transports[i]!.localAddress)));
  }

  /**
   * Remove the partition. Every node has the others as static seeds, so Lazarus re-joins the
   * sides: `heal` runs one Lazarus round on every running node now instead of waiting for the
   * interval, then SWIM merges the member lists and refutes the failures. Resolves once the
   * rounds are done; call `waitForMembers()` to wait for the whole cluster to converge.
   */
  async heal(): Promise<void> {
    const running = this.liveGroupIndexes().flat();
    this.groups = null;
    this.network.heal();
    await Promise.all(running.map((i) => this.nodes[i]!.lazarus?.probeNow()));
  }

  /**
   * Lose SWIM packets with probability `rate` in [0, 1] (drawn from the cluster's seeded RNG),
   * and Plumtree frames too with `{ frames: true }`. `setLoss(0)` stops both.
   */
  setLoss(rate: number, options: LossOptions = {}): void {
    if (!(rate >= 0 && rate <= 1)) throw new RangeError(`loss rate must be in [0, 1], got ${rate}`);
    this.network.lossRate = rate;
    this.frameLoss.rate = options.frames === true ? rate : 0;
  }

  /**
   * Close every running application (gracefully: each node leaves the cluster), in parallel.
   * Idempotent; call it in `afterAll`/`afterEach`.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.apps.map((app, i) => (this.killed.has(i) ? undefined : app.close())));
  }

  private indexOf(app: TestApp): number {
    const i = typeof app === 'number' ? app : this.apps.indexOf(app);
    if (!Number.isInteger(i) || i < 0 || i >= this.apps.length) {
      throw new RangeError(
        `no application ${typeof app === 'number' ? app : '(unknown app)'} in this cluster`,
      );
    }
    return i;
  }

  /** Indexes of running nodes by partition group (nodes in no group form one more). */
  private liveGroupIndexes(): number[][] {
    const live = this.apps.map((_, i) => i).filter((i) => !this.killed.has(i));
    if (this.groups === null) return [live];
    const grouped = new Set(this.groups.flat());
    return [...this.groups.map((g) => [...g]), live.filter((i) => !grouped.has(i))]
      .map((g) => g.filter((i) => !this.killed.has(i)))
      .filter((g) => g.length > 0);
  }

  private liveGroups(): PlumtreeNode[][] {
    return this.liveGroupIndexes().map((g) => g.map((i) => this.nodes[i]!));
  }
}

/**
 * Start `size` Nest applications as one cluster and wait until it has converged (see
 * {@link TestCluster.waitForMembers}). Each application gets `PlumtreeModule.forRoot` with its
 * own node options: name `node-<i>`, a transport on the shared `MemoryNetwork`, node 0 as seed,
 * fast SWIM timers ({@link TEST_CLUSTER_SWIM}), a short leave ({@link TEST_LEAVE_TIMEOUT_MS}),
 * merged with `options`.
 *
 * ```ts
 * const cluster = await createTestCluster({ size: 5, imports: [OrdersModule] });
 * const next = cluster.nextMessage(4, 'orders.created');
 * await cluster.app(0).get(PlumtreeService).publish('orders.created', { id: 1 });
 * expect((await next).payload).toEqual({ id: 1 });
 * await cluster.close();
 * ```
 */
export async function createTestCluster(options: TestClusterOptions): Promise<TestCluster> {
  const size = options.size;
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(`size must be a positive integer, got ${String(size)}`);
  }
  const seed = options.seed ?? 1;
  const timeoutMs = options.timeoutMs ?? 20_000;
  const prefix = options.namePrefix ?? 'node-';
  const network = new MemoryNetwork({ rng: createRng(seed) });
  const frameLoss = { rate: 0 };
  const frameRng = createRng(seed ^ 0x5bd1e995);
  const apps: INestApplication[] = [];
  const nodes: PlumtreeNode[] = [];
  const transports: MemoryTransport[] = [];
  try {
    for (let i = 0; i < size; i++) {
      const address = `127.0.0.1:${7001 + i}`;
      const info: TestNodeInfo = { index: i, name: `${prefix}${i}`, address };
      const user =
        typeof options.options === 'function' ? options.options(info) : (options.options ?? {});
      const transport = network.bind(address, { streamTimeoutMs: TEST_STREAM_TIMEOUT_MS });
      transports.push(transport);
      const userFilter = user.frameFilter;
      const nodeOptions: PlumtreeModuleOptions = {
        leaveTimeoutMs: TEST_LEAVE_TIMEOUT_MS,
        // Every node is a static seed of every other: Lazarus heals partitions (see heal()).
        staticSeeds: Array.from({ length: size }, (_, k) => `127.0.0.1:${7001 + k}`).filter(
          (a) => a !== address,
        ),
        // In memory unless the options ask for a dataDir (tests restart nodes without disks).
        ...(user.dataDir === undefined ? { persistence: false } : {}),
        ...user,
        name: info.name,
        transport,
        seeds: i === 0 ? [] : [transports[0]!.localAddress],
        seed: seed + i,
        swim: { ...TEST_CLUSTER_SWIM, ...(user.swim ?? {}) },
        frameFilter: (peer, frame) =>
          (frameLoss.rate === 0 || frameRng.next() >= frameLoss.rate) &&
          (userFilter === undefined || userFilter(peer, frame)),
      };
      const { app, node } = await startApp(options, nodeOptions, info);
      apps.push(app);
      nodes.push(node);
    }
  } catch (e) {
    await Promise.all(apps.map((a) => a.close().catch(() => undefined)));
    await Promise.all(transports.map((t) => t.close()));
    throw e;
  }
  const cluster = new TestCluster({ apps, nodes, transports, network, frameLoss }, timeoutMs);
  try {
    await cluster.waitForMembers();
  } catch (e) {
    await cluster.close();
    throw e;
  }
  return cluster;
}

/** Create, connect and initialise one application; resolves with it and its running node. */
async function startApp(
  options: TestClusterOptions,
  nodeOptions: PlumtreeModuleOptions,
  info: TestNodeInfo,
): Promise<{ app: INestApplication; node: PlumtreeNode }> {
  const microservice = options.microservice === true;
  const plumtreeOptions: PlumtreeModuleOptions = microservice
    ? { shareServer: true, name: nodeOptions.name }
    : nodeOptions;
  const imports: ModuleImport[] = [];
  if (typeof options.module === 'function' && !isModuleClass(options.module)) {
    imports.push(options.module(plumtreeOptions, info));
  } else {
    imports.push(PlumtreeModule.forRoot(plumtreeOptions));
    if (options.module !== undefined) imports.push(options.module as ModuleImport);
  }
  imports.push(...(options.imports ?? []));

  @Module({ imports })
  class TestNodeModule {}
  Object.defineProperty(TestNodeModule, 'name', { value: `TestNodeModule_${info.index}` });

  const app = await NestFactory.create(TestNodeModule, {
    logger: options.logger ?? ['error', 'warn'],
    abortOnError: false,
  });
  try {
    if (microservice) {
      app.connectMicroservice({ strategy: new PlumtreeServer(nodeOptions) });
      await app.startAllMicroservices();
    }
    await app.init();
    const node = await app.get(PlumtreeService, { strict: false }).whenReady();
    return { app, node };
  } catch (e) {
    await app.close().catch(() => undefined);
    throw e;
  }
}

/** A class (a module) rather than a factory function of the node options. */
function isModuleClass(f: unknown): f is Type {
  return typeof f === 'function' && /^class\s/.test(Function.prototype.toString.call(f));
}
