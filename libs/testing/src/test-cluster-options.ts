/**
 * Options of {@link createTestCluster} and the fast timers it runs nodes with.
 */
import type {
  DynamicModule,
  ForwardReference,
  LoggerService,
  LogLevel,
  Type,
} from '@nestjs/common';
import type { PlumtreeModuleOptions } from '@plumtree/nestjs';

/** What a Nest module's `imports` accepts. */
export type ModuleImport = Type | DynamicModule | Promise<DynamicModule> | ForwardReference;

/** What the cluster gives each node: merged over the user's `options`. */
export interface TestNodeInfo {
  /** Position in the cluster, 0-based. */
  readonly index: number;
  /** The node name, `${namePrefix}${index}`. */
  readonly name: string;
  /** The node's address on the cluster's `MemoryNetwork`. */
  readonly address: string;
}

/** Options of {@link createTestCluster}. */
export interface TestClusterOptions {
  /** Number of applications (nodes). At least 1. */
  readonly size: number;
  /**
   * Modules every application imports beside the `PlumtreeModule.forRoot(...)` the cluster adds
   * (global, so their providers inject `PlumtreeService` and their `@PlumtreeSubscribe` methods
   * are found).
   */
  readonly imports?: readonly ModuleImport[];
  /**
   * The application's module. Either a module that does not configure Plumtree itself (imported
   * like `imports`), or a function of the node's options returning a module that does, e.g.
   * `(plumtree) => AppModule.forRoot(plumtree)` whose `forRoot` imports
   * `PlumtreeModule.forRoot(plumtree)`.
   */
  readonly module?:
    ModuleImport | ((plumtree: PlumtreeModuleOptions, node: TestNodeInfo) => ModuleImport);
  /**
   * Node options merged over the cluster's for every node (`swim` merged field by field over
   * {@link TEST_CLUSTER_SWIM}), or a function giving them per node. The cluster sets `name`,
   * `transport`, `seeds` and `seed`; `frameFilter` is combined with the cluster's loss filter.
   */
  readonly options?:
    Partial<PlumtreeModuleOptions> | ((node: TestNodeInfo) => Partial<PlumtreeModuleOptions>);
  /**
   * Also run each application as a hybrid microservice: a `PlumtreeServer` connected with
   * `app.connectMicroservice`, so `@EventPattern` / `@MessagePattern` controllers work, sharing
   * its node with the module. Default false.
   */
  readonly microservice?: boolean;
  /** Node names are `${namePrefix}${index}`. Default `node-`. */
  readonly namePrefix?: string;
  /** Seed of the network's loss and of every node's RNGs (node i gets seed + i). Default 1. */
  readonly seed?: number;
  /** Nest logger of the applications. Default `['error', 'warn']`. */
  readonly logger?: LoggerService | LogLevel[] | false;
  /** How long `createTestCluster` and `waitForMembers` wait by default, ms. Default 20,000. */
  readonly timeoutMs?: number;
}

/**
 * SWIM timers of test nodes: the `local` preset (memberlist DefaultLocalConfig) with probes every
 * 100 ms, so a killed node is declared failed in about a second (suspicion timeout =
 * suspicionMult x max(1, log10 n) x probeInterval, plus the probe that notices it) instead of the
 * LAN profile's several seconds.
 */
export const TEST_CLUSTER_SWIM = Object.freeze({
  preset: 'local',
  probeIntervalMs: 100,
  probeTimeoutMs: 50,
  gossipIntervalMs: 20,
  pushPullIntervalMs: 1_000,
  suspicionMult: 3,
} as const);

/**
 * Stream idle limit of the memory transports, ms. Memory streams are cut after their transport's
 * `streamTimeoutMs` (10 s by default) even while busy, which would break the persistent Plumtree
 * frame connections mid-test.
 */
export const TEST_STREAM_TIMEOUT_MS = 600_000;

/**
 * `leaveTimeoutMs` of test nodes unless `options` set it: when `close()` stops every app at once,
 * each node's leave broadcast finds the others leaving too and would wait out the node default
 * (3,000 ms) for nothing.
 */
export const TEST_LEAVE_TIMEOUT_MS = 300;
