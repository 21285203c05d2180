/**
 * Options of a {@link PlumtreeNode} and their resolution, once, at the edge: one pass that collects
 * every problem (the node's own fields through class-validator, the SWIM node's options and the
 * SWIM and Plumtree configurations through their resolvers, the keys, the topics) and throws one
 * {@link PlumtreeNodeOptionsError}. The result is frozen and marked: `PlumtreeNode.start` takes it
 * as it is, and hands its resolved SWIM part to `SwimNode.start`, which takes that as it is too.
 */
import 'reflect-metadata';
import { IsArray, IsIn, IsInt, IsOptional, IsString, Max, Min, MinLength } from 'class-validator';
import { resolveOnce, validationProblems, type Resolved } from '@plumtree/common';
import {
  PlumtreeConfigError,
  resolvePlumtreeConfig,
  type PlumtreeConfig,
  type PlumtreeConfigInput,
  type ResolvedPlumtreeConfig,
} from '@plumtree/plumtree';
import {
  decodeKey,
  DEFAULT_JOIN_TIMEOUT_MS,
  Keyring,
  labelBytes,
  parseIp,
  resolveNodeOptions,
  splitHostPort,
  SwimNodeOptionsError,
  type ResolvedSwimNodeOptions,
  type SwimConfigInput,
  type SwimNodeOptions,
  type SwimTransport,
} from '@plumtree/swim';
import {
  DirectoryOptionsError,
  resolveDirectoryOptions,
  validatePattern,
} from '../directory/index.js';
import type { FrameSourceCheck } from '../transport/index.js';
import { PlumtreeNodeOptionsError, type NodeOptionProblem } from './errors.js';
import { resolvePersistence, type PersistenceSettings } from './persistence-options.js';
import { resolveLimits, type LimitsOptions, type NodeLimits } from './limits-options.js';

export { PERSISTENCE_DEFAULTS } from './persistence-options.js';
export { LIMITS_DEFAULTS } from './limits-options.js';
export type { LimitsOptions } from './limits-options.js';
import {
  defaultPayloadCodec,
  isPayloadCodec,
  type PayloadCodec,
} from '../delivery/payload-codec.js';
import { hasMembers } from '../has-members.js';

/**
 * How to start a {@link PlumtreeNode}. Only `name` is required. The fields it shares with the SWIM
 * node keep their meaning: the name is also the frame sender name and message origin, the port
 * also carries the frame streams, the keyring (`keys`) also seals every Plumtree frame, and
 * `seed` seeds every RNG (SWIM core, Plumtree core, hand-off choices).
 */
export interface PlumtreeNodeOptions extends Pick<
  SwimNodeOptions,
  | 'name'
  | 'bindAddr'
  | 'bindPort'
  | 'advertiseAddr'
  | 'advertisePort'
  | 'seeds'
  | 'joinTimeoutMs'
  | 'keys'
  | 'label'
  | 'transport'
  | 'seed'
> {
  /** SWIM profile and overrides, e.g. `{ preset: 'local', probeIntervalMs: 500 }`. Default `lan`. */
  readonly swim?: Omit<SwimConfigInput, 'name' | 'bindAddr' | 'bindPort'>;
  /**
   * Plumtree preset and overrides, e.g. `{ preset: 'wan', eagerFanout: 4 }`. Default `lan`, with
   * {@link NODE_PLUMTREE_DEFAULTS} applied over any preset unless set here.
   */
  readonly plumtree?: PlumtreeConfigInput;
  /** Topics and patterns subscribed from the start, for the node's whole life (no observer needed). */
  readonly topics?: readonly string[];
  /** Payload codec. Default {@link defaultPayloadCodec} (bytes raw, other values JSON). */
  readonly codec?: PayloadCodec;
  /** Cap of the frame queue of one peer, bytes. Default 4 MiB (the frame transport's). */
  readonly maxQueueBytes?: number;
  /** Largest frame accepted from a peer, bytes. Default `maxMessageSize` + 64 KiB. */
  readonly maxFrameBytes?: number;
  /**
   * Deliveries waiting for slow handlers above which the node stops reading Plumtree frames
   * (peers then demote it to lazy and it catches up through GRAFT). Default 4,096.
   */
  readonly maxPendingDeliveries?: number;
  /** The same bound in payload bytes. Default 16 MiB. */
  readonly maxPendingDeliveryBytes?: number;
  /**
   * Longest run of handlers before the node yields the event loop to sockets and timers, ms.
   * Default 10. Handlers run off the protocol's turn, so slow handlers never starve SWIM.
   */
  readonly deliverySliceMs?: number;
  /** How long a hand-off waits for the subscriber's ACK before trying another one. Default 2,000 ms. */
  readonly handoffTimeoutMs?: number;
  /** Subscribers a hand-off tries before rejecting with `NoSubscribersError`. Default 3. */
  readonly handoffMaxAttempts?: number;
  /** How long `leave()` waits for SWIM's leave broadcast. Default 3,000 ms. */
  readonly leaveTimeoutMs?: number;
  /** Bounds of the topic directory. Defaults: the directory's. */
  readonly directory?: {
    readonly maxSubscriptions?: number;
    readonly maxTopicBytes?: number;
    readonly maxEntries?: number;
  };
  /**
   * Where the node's LevelDB store lives: known peers, its incarnation, its subscriptions and the
   * durable topics' logs (docs/persistence.md). Default `./.plumtree/<name>`. One process per
   * directory: a second one fails to start with `StoreLockedError`.
   */
  readonly dataDir?: string;
  /**
   * `false`: nothing on disk; peers and incarnation are not kept across restarts and durable
   * logs live in memory (tests, throwaway nodes). Default `true`.
   */
  readonly persistence?: boolean;
  /**
   * Seeds that are always part of the cluster (`host:port`, IP or DNS name). Joined at start with
   * `seeds` and the stored peers; while one is not an alive member, Lazarus probes it.
   */
  readonly staticSeeds?: readonly string[];
  /** Lazarus: re-join static seeds that died and came back. Default enabled, every 30,000 ms. */
  readonly lazarus?: { readonly enabled?: boolean; readonly intervalMs?: number };
  /**
   * Durable topics: every delivered message is logged and a node that was down or cut off pulls
   * what it missed (docs/persistence.md). `topics` are topics or patterns (also
   * `subscribe(t, { durable: true })`); retention by age (default 24 h) and by count per topic
   * (default 100,000).
   */
  readonly durable?: {
    readonly topics?: readonly string[];
    readonly retentionMs?: number;
    readonly maxMessages?: number;
  };
  /**
   * Fault injection for tests: called for every outgoing frame; returning false drops it (as a
   * lossy link would; counted in `stats().node.framesDroppedByFilter`). Default none.
   */
  readonly frameFilter?: (peer: string, frame: Uint8Array) => boolean;
  /**
   * Whom frame connections are taken from: `'address'` (default) only from an alive member whose
   * advertised IP is the connection's source IP; `'member-only'` from an alive member at any IP
   * (nodes behind NAT or a proxy; without keys anyone can then claim a member's name).
   * docs/cluster.md, "Who may send frames".
   */
  readonly frameSourceCheck?: FrameSourceCheck;
  /**
   * Caps on what remote input grows (pattern-joined topics, concurrent requests and catch-up
   * serves, durable stream tracking); docs/limits.md. Defaults: {@link LIMITS_DEFAULTS}.
   */
  readonly limits?: LimitsOptions;
}

/** The node's own scalar options, validated with class-validator (the house pattern). */
class NodeSettings {
  @IsString() @MinLength(1) name = '';
  @IsString() bindAddr = '0.0.0.0';
  @IsInt() @Min(0) @Max(65535) bindPort = 7946;
  @IsOptional() @IsString() advertiseAddr?: string;
  @IsOptional() @IsInt() @Min(1) @Max(65535) advertisePort?: number;
  @IsArray() @IsString({ each: true }) seeds: string[] = [];
  @IsInt() @Min(0) @Max(86_400_000) joinTimeoutMs = DEFAULT_JOIN_TIMEOUT_MS;
  @IsArray() @IsString({ each: true }) keys: string[] = [];
  @IsString() label = '';
  @IsArray() @IsString({ each: true }) topics: string[] = [];
  @IsOptional() @IsInt() @Min(1024) maxQueueBytes?: number;
  @IsOptional() @IsInt() @Min(1024) maxFrameBytes?: number;
  @IsOptional() @IsInt() @Min(0) @Max(2 ** 32 - 1) seed?: number;
  @IsInt() @Min(1) maxPendingDeliveries = 4_096;
  @IsInt() @Min(1024) maxPendingDeliveryBytes = 16 * 1024 * 1024;
  @IsInt() @Min(1) @Max(1_000) deliverySliceMs = 10;
  @IsInt() @Min(1) @Max(600_000) handoffTimeoutMs = 2_000;
  @IsInt() @Min(1) @Max(100) handoffMaxAttempts = 3;
  @IsInt() @Min(0) @Max(600_000) leaveTimeoutMs = 3_000;
  @IsIn(['address', 'member-only']) frameSourceCheck: FrameSourceCheck = 'address';
}

const KNOWN_OPTIONS = new Set<string>([
  ...Object.keys(new NodeSettings()),
  'advertiseAddr',
  'advertisePort',
  'maxQueueBytes',
  'maxFrameBytes',
  'seed',
  'swim',
  'plumtree',
  'codec',
  'transport',
  'directory',
  'frameFilter',
  'dataDir',
  'persistence',
  'staticSeeds',
  'lazarus',
  'durable',
  'limits',
]);

/** The options filled in: what {@link ResolvedNodeOptions} holds (exported as `PlumtreeNodeSettings`). */
export type NodeOptionsFilledIn = PersistenceSettings &
  Pick<
    ResolvedSwimNodeOptions,
    'name' | 'bindAddr' | 'bindPort' | 'advertiseAddr' | 'advertisePort' | 'keyring' | 'label'
  > & {
    readonly seeds: readonly string[];
    /** The SWIM node's options, resolved; the node adds its hooks (transport, delegate, ...). */
    readonly swim: ResolvedSwimNodeOptions;
    readonly plumtree: ResolvedPlumtreeConfig;
    readonly topics: readonly string[];
    readonly codec: PayloadCodec;
    readonly transport: SwimTransport | undefined;
    readonly maxQueueBytes: number | undefined;
    readonly maxFrameBytes: number;
    readonly seed: number | undefined;
    readonly maxPendingDeliveries: number;
    readonly maxPendingDeliveryBytes: number;
    readonly deliverySliceMs: number;
    readonly handoffTimeoutMs: number;
    readonly handoffMaxAttempts: number;
    readonly leaveTimeoutMs: number;
    readonly directory: NonNullable<PlumtreeNodeOptions['directory']>;
    readonly frameFilter: ((peer: string, frame: Uint8Array) => boolean) | undefined;
    readonly frameSourceCheck: FrameSourceCheck;
    readonly limits: NodeLimits;
  };

/** The options checked and completed by {@link resolvePlumtreeNodeOptions}; frozen. */
export type ResolvedNodeOptions = Resolved<NodeOptionsFilledIn>;

/**
 * What the runtime changes in every Plumtree preset unless the options set it: the GRAFT answer
 * budget per requesting peer. The presets' 5-20 answers/s (burst 15-40) are the reference
 * crate's, sized for a trickle; after a node dies, the subtree it fed repairs every message
 * published until the failure is detected through GRAFT, i.e. detection time x publish rate
 * answers at once, and answers refused beyond the budget exhaust the requester's retries
 * (`graftMaxRetries`) and lose messages. Measured on 10 loopback nodes at ~250 msg/s with 3
 * killed, 20/s lost messages in 3 of 4 runs (up to 18% at one survivor); 1,000/s lost none in 5 runs.
 */
export const NODE_PLUMTREE_DEFAULTS: Readonly<Partial<PlumtreeConfig>> = Object.freeze({
  graftRateLimitPerSecond: 1_000,
  graftRateLimitBurst: 2_000,
  // The presets give a missing message up after 3 GRAFTs (under a second with lan). A slow
  // subscriber's answers wait behind its full queue for longer than that, and nobody announces
  // the message again, so it was lost while every peer still cached it. 80 GRAFTs with the
  // lan backoff (capped at 1.6 s) keep asking for about as long as peers cache it (~125 s).
  graftMaxRetries: 80,
  // How long a node can lag and still catch up: peers answer GRAFTs from their cache for this
  // long. The lan preset's 30 s lost a slow subscriber's last messages under CI load (its
  // peers' caches had expired when it asked); the cache stays bounded by messageCacheMaxSize.
  messageCacheTtlMs: 120_000,
  // Each id is announced again in the next 2 IHAVE flushes, to every neighbour (the presets
  // announce once, to lazy peers only). A frame lost on its own (a broken connection takes the
  // frames in flight with it) otherwise loses the message for good at a node whose every copy
  // and announcement was in such frames. Measured with test/e2e/cluster-node.test.ts's 20 %
  // packet and frame loss scenario (10 nodes on a MemoryNetwork, 8 subscribers, 200 messages,
  // the default tree otherwise), 20 seeds each: 0 repeats lost deliveries in 15 of 20 runs
  // (104 of 32,000); 1 and 2 repeats in none (39 runs; one more ended in a hand-off failure).
  // Cost: IHAVE frames per run about 1,100 with 0, 2,700 with 1, 3,900 with 2; no payload.
  ihaveRepeats: 2,
});

/** Frame bytes beyond the payload: ids, topic, headers (the codec's 16 KiB cap) and sealing. */
const FRAME_OVERHEAD_BYTES = 64 * 1024;

/**
 * Check `options` and fill in defaults. Throws one {@link PlumtreeNodeOptionsError} naming every
 * problem: unknown options, wrong types and ranges, bad addresses, seeds, keys, label, topics,
 * codec or transport, and every problem of the SWIM and Plumtree configurations (as `swim.x`,
 * `plumtree.x`). Options this function returned are returned as they are.
 */
export const resolvePlumtreeNodeOptions = resolveOnce(checkNodeOptions);

/**
 * `resolved` without its seeds: the Nest server starts its node that way, subscribes its
 * handlers, and only then joins the seeds itself.
 */
export function withoutSeeds(resolved: ResolvedNodeOptions): ResolvedNodeOptions {
  return resolvePlumtreeNodeOptions.derive(resolved, { seeds: [] });
}

function checkNodeOptions(options: PlumtreeNodeOptions): NodeOptionsFilledIn {
  const problems: NodeOptionProblem[] = [];
  if (typeof options !== 'object' || options === null) {
    throw new PlumtreeNodeOptionsError([{ field: 'options', message: 'must be an object' }]);
  }
  const raw = options as unknown as Record<string, unknown>;
  const settings = new NodeSettings();
  for (const [key, value] of Object.entries(raw)) {
    if (!KNOWN_OPTIONS.has(key)) {
      problems.push({ field: key, message: 'unknown option' });
      continue;
    }
    if (value === undefined) continue;
    if (key in settings || KNOWN_SETTING_KEYS.has(key)) {
      (settings as unknown as Record<string, unknown>)[key] = Array.isArray(value)
        ? [...(value as unknown[])]
        : value;
    }
  }
  problems.push(...validationProblems(settings));

  if (typeof settings.bindAddr === 'string' && !parseIp(settings.bindAddr)) {
    problems.push({ field: 'bindAddr', message: `not an IP address: ${settings.bindAddr}` });
  }
  if (typeof settings.advertiseAddr === 'string' && !parseIp(settings.advertiseAddr)) {
    problems.push({
      field: 'advertiseAddr',
      message: `not an IP address: ${settings.advertiseAddr}`,
    });
  }
  if (Array.isArray(settings.seeds)) {
    settings.seeds.forEach((s, i) => {
      if (typeof s === 'string' && splitHostPort(s) === null) {
        problems.push({ field: `seeds[${i}]`, message: `not host:port: ${s}` });
      }
    });
  }
  let keyring: Keyring | null = null;
  if (Array.isArray(settings.keys) && settings.keys.every((k) => typeof k === 'string')) {
    const keys: Uint8Array[] = [];
    settings.keys.forEach((k, i) => {
      try {
        keys.push(decodeKey(k));
      } catch (e) {
        problems.push({ field: `keys[${i}]`, message: (e as Error).message });
      }
    });
    if (keys.length > 0 && keys.length === settings.keys.length) {
      keyring = new Keyring(keys.slice(1), keys[0]);
    }
  }
  if (typeof settings.label === 'string') {
    try {
      labelBytes(settings.label);
    } catch (e) {
      problems.push({ field: 'label', message: (e as Error).message });
    }
  }
  if (Array.isArray(settings.topics)) {
    settings.topics.forEach((t, i) => {
      if (typeof t !== 'string') return;
      const reason = validatePattern(t);
      if (reason !== null) problems.push({ field: `topics[${i}]`, message: reason });
    });
  }

  // SWIM: name and bind come from the node options, so they cannot disagree. The node-level
  // fields SWIM checks again are reported once, under their own names, above.
  const swimInput = (raw['swim'] ?? {}) as SwimConfigInput;
  let swim: ResolvedSwimNodeOptions | undefined;
  if (typeof swimInput !== 'object' || swimInput === null) {
    problems.push({ field: 'swim', message: 'must be an object' });
  } else {
    for (const k of ['name', 'bindAddr', 'bindPort'] as const) {
      if (k in swimInput) {
        problems.push({ field: `swim.${k}`, message: `set it as the node option ${k}` });
      }
    }
    try {
      // A value of the wrong type (reported above) is replaced, so SWIM's checks can run.
      const text = (v: unknown, fallback: string): string => (typeof v === 'string' ? v : fallback);
      swim = resolveNodeOptions({
        name: text(settings.name, '') || 'x',
        bindAddr: text(settings.bindAddr, '0.0.0.0'),
        bindPort: settings.bindPort,
        ...(typeof settings.advertiseAddr === 'string'
          ? { advertiseAddr: settings.advertiseAddr }
          : {}),
        ...(settings.advertisePort !== undefined ? { advertisePort: settings.advertisePort } : {}),
        ...(keyring !== null ? { keyring } : {}),
        label: text(settings.label, ''),
        ...(typeof settings.joinTimeoutMs === 'number'
          ? { joinTimeoutMs: settings.joinTimeoutMs }
          : {}),
        config: swimInput,
      });
    } catch (e) {
      if (!(e instanceof SwimNodeOptionsError)) throw e;
      for (const p of e.problems) {
        const field = p.field.startsWith('config.') ? p.field.slice('config.'.length) : null;
        if (field !== null && field !== 'name' && field !== 'bindAddr' && field !== 'bindPort') {
          problems.push({ field: `swim.${field}`, message: p.message });
        }
      }
    }
  }

  const plumtreeInput = (raw['plumtree'] ?? {}) as PlumtreeConfigInput;
  let plumtree: ResolvedPlumtreeConfig | undefined;
  if (typeof plumtreeInput !== 'object' || plumtreeInput === null) {
    problems.push({ field: 'plumtree', message: 'must be an object' });
  } else {
    try {
      plumtree = resolvePlumtreeConfig({
        preset: 'lan',
        ...NODE_PLUMTREE_DEFAULTS,
        ...plumtreeInput,
      });
    } catch (e) {
      if (!(e instanceof PlumtreeConfigError)) throw e;
      for (const p of e.problems)
        problems.push({ field: `plumtree.${p.field}`, message: p.message });
    }
  }

  const codec = raw['codec'] ?? defaultPayloadCodec;
  if (!isPayloadCodec(codec)) {
    problems.push({
      field: 'codec',
      message: 'must have encode(value), decode(bytes, contentType) and a contentType string',
    });
  }
  const transport = raw['transport'];
  if (transport !== undefined && !isSwimTransport(transport)) {
    problems.push({ field: 'transport', message: 'must be a SwimTransport' });
  }
  const frameFilter = raw['frameFilter'];
  if (frameFilter !== undefined && typeof frameFilter !== 'function') {
    problems.push({ field: 'frameFilter', message: 'must be a function' });
  }
  const directory = (raw['directory'] ?? {}) as NonNullable<PlumtreeNodeOptions['directory']>;
  if (typeof directory !== 'object' || directory === null) {
    problems.push({ field: 'directory', message: 'must be an object' });
  } else {
    for (const k of Object.keys(directory)) {
      if (k !== 'maxSubscriptions' && k !== 'maxTopicBytes' && k !== 'maxEntries') {
        problems.push({ field: `directory.${k}`, message: 'unknown option' });
      }
    }
  }
  if (typeof directory === 'object' && directory !== null) {
    try {
      resolveDirectoryOptions(directory);
    } catch (e) {
      if (!(e instanceof DirectoryOptionsError)) throw e;
      for (const p of e.problems) {
        problems.push({ field: `directory.${p.field}`, message: p.message });
      }
    }
  }
  if (
    plumtree !== undefined &&
    typeof settings.maxFrameBytes === 'number' &&
    settings.maxFrameBytes < plumtree.maxMessageSize + 1024
  ) {
    problems.push({
      field: 'maxFrameBytes',
      message: `must be at least plumtree.maxMessageSize + 1024 (${plumtree.maxMessageSize + 1024})`,
    });
  }

  const persistence = resolvePersistence(raw, settings.name, problems);
  const limits = resolveLimits(raw['limits'], problems);

  if (problems.length > 0 || plumtree === undefined || swim === undefined) {
    throw new PlumtreeNodeOptionsError(problems);
  }
  return {
    name: settings.name,
    bindAddr: settings.bindAddr,
    bindPort: settings.bindPort,
    advertiseAddr: settings.advertiseAddr,
    advertisePort: settings.advertisePort,
    seeds: settings.seeds,
    keyring,
    label: settings.label,
    swim,
    plumtree,
    topics: [...new Set(settings.topics)],
    codec: codec as PayloadCodec,
    transport: transport as SwimTransport | undefined,
    maxQueueBytes: settings.maxQueueBytes,
    maxFrameBytes: settings.maxFrameBytes ?? plumtree.maxMessageSize + FRAME_OVERHEAD_BYTES,
    seed: settings.seed,
    maxPendingDeliveries: settings.maxPendingDeliveries,
    maxPendingDeliveryBytes: settings.maxPendingDeliveryBytes,
    deliverySliceMs: settings.deliverySliceMs,
    handoffTimeoutMs: settings.handoffTimeoutMs,
    handoffMaxAttempts: settings.handoffMaxAttempts,
    leaveTimeoutMs: settings.leaveTimeoutMs,
    directory,
    frameFilter: frameFilter as ResolvedNodeOptions['frameFilter'],
    frameSourceCheck: settings.frameSourceCheck,
    limits,
    ...persistence,
  };
}

/** Settings fields that have no initialiser (optional), so `key in settings` misses them. */
const KNOWN_SETTING_KEYS = new Set([
  'advertiseAddr',
  'advertisePort',
  'maxQueueBytes',
  'maxFrameBytes',
  'seed',
]);

function isSwimTransport(t: unknown): t is SwimTransport {
  return hasMembers(t, {
    localAddress: 'string',
    sendPacket: 'function',
    dial: 'function',
    onPacket: 'function',
    streams: 'object',
  });
}
