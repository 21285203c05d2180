/**
 * Options of a {@link SwimNode} and their resolution, once, into what the core, the codec and the
 * transport need. Problems are collected and thrown once as a {@link SwimNodeOptionsError}; the
 * resolved options are frozen and marked, so a layer above that resolved them (the Plumtree node)
 * hands them to {@link SwimNode.start} and nothing is checked twice.
 */
import { networkInterfaces } from 'node:os';
import {
  ProblemListError,
  resolveOnce,
  type BackoffBounds,
  type Problem,
  type Resolved,
} from '@plumtree/common';
import {
  resolveSwimConfig,
  SwimConfigError,
  type ResolvedSwimConfig,
  type SwimConfigInput,
} from '../config/swim-config.js';
import { parseIp } from '../protocol/address.js';
import { Keyring, KeyringError } from '../wire/keyring.js';
import { labelBytes, LabelError } from '../wire/label.js';
import type { SwimTransport } from '../transport/transport.js';
import type { SwimDelegate } from '../protocol/types.js';

/** How to start a {@link SwimNode}. */
export interface SwimNodeOptions {
  /** Node name, unique in the cluster. */
  readonly name: string;
  /** Address to bind UDP and TCP to. Default `0.0.0.0`. */
  readonly bindAddr?: string;
  /** Port of UDP and TCP; 0 picks a free one. Default 7946. */
  readonly bindPort?: number;
  /**
   * Address advertised to peers. Default: the bind address, or when that is a wildcard the first
   * private IPv4 of this host (memberlist `GetPrivateIP`), else 127.0.0.1.
   */
  readonly advertiseAddr?: string;
  /** Port advertised to peers. Default the bound port. */
  readonly advertisePort?: number;
  /**
   * `host:port` of members to join at start; `start` waits for the join, retrying while no seed
   * answers (see {@link joinTimeoutMs}).
   */
  readonly seeds?: readonly string[];
  /**
   * How long `start` keeps trying to join {@link seeds} while none answers (a seed not listening
   * yet, as when a whole cluster starts at once): attempts follow each other with
   * {@link joinRetry} backoff until one seed answers, and `start` rejects with a `JoinError` only
   * once this has run out. 0 makes one attempt (memberlist's `Join`). Default
   * {@link DEFAULT_JOIN_TIMEOUT_MS} (60 s: containers of one deployment are usually up within
   * it; Serf's `retry_join` retries for ever by default).
   */
  readonly joinTimeoutMs?: number;
  /**
   * Backoff between join attempts, ms: `min(max, initial * 2^(n-1))` with equal jitter. Default
   * {@link DEFAULT_JOIN_RETRY}: 200 ms doubling to 2 s, so a seed that comes up a moment later
   * is joined within about a second of it listening, and one that stays away costs one attempt
   * per 1-2 s.
   */
  readonly joinRetry?: BackoffBounds;
  /** AES keys in base64 (16, 24 or 32 bytes each), primary first. Empty: no encryption. */
  readonly keys?: readonly string[];
  /** A keyring to use instead of {@link keys} (shared, so key rotation is visible). */
  readonly keyring?: Keyring;
  /** Cluster label (memberlist `Label`); '' sends none. */
  readonly label?: string;
  /** Preset and overrides of the SWIM configuration (its `name`, bind and advertise fields are set from here). */
  readonly config?: SwimConfigInput;
  /** Initial node meta, at most 512 bytes. */
  readonly meta?: Uint8Array;
  /** A transport to use instead of binding UDP + TCP (e.g. a {@link MemoryTransport}). */
  readonly transport?: SwimTransport;
  /** Seed of the core's RNG. Default: a random one (node:crypto). */
  readonly seed?: number;
  /** Cap on one inbound stream message in bytes. Default 20 MiB + 64 KiB. */
  readonly maxStreamBytes?: number;
  /** Incarnation of a previous life (from a store): the node starts above it. */
  readonly incarnation?: number;
  /**
   * Hooks of the layer above (memberlist's Delegate): ack payload, extra broadcasts to piggyback,
   * push-pull local state and merge. Called synchronously from the protocol; keep them fast.
   */
  readonly delegate?: SwimDelegate;
}

/** Default of {@link SwimNodeOptions.joinTimeoutMs}. */
export const DEFAULT_JOIN_TIMEOUT_MS = 60_000;
/** Default of {@link SwimNodeOptions.joinRetry}. */
export const DEFAULT_JOIN_RETRY: BackoffBounds = { initial: 200, max: 2_000 };

/** Thrown by `SwimNode.start` for invalid options; lists every problem. */
export class SwimNodeOptionsError extends ProblemListError {
  override readonly name = 'SwimNodeOptionsError';
  constructor(problems: readonly Problem[]) {
    super('SWIM node options', problems);
  }
}

/**
 * The options taken as given, not checked here: the seeds (a join reports the ones that fail),
 * the meta (the core checks its size), the transport, the RNG seed, the previous incarnation and
 * the delegate. A layer above adds them to options it resolved with {@link withNodeHooks}.
 */
export type SwimNodeHooks = Pick<
  SwimNodeOptions,
  'seeds' | 'meta' | 'transport' | 'seed' | 'incarnation' | 'delegate'
>;

/** The options filled in: what {@link ResolvedNodeOptions} holds (exported as `SwimNodeSettings`). */
export type NodeOptionsFilledIn = SwimNodeHooks &
  Pick<SwimNodeOptions, 'name' | 'advertiseAddr' | 'advertisePort' | 'maxStreamBytes'> & {
    /** The SWIM configuration, its `name`, `bindAddr` and `bindPort` set from the options. */
    readonly config: ResolvedSwimConfig;
    readonly bindAddr: string;
    readonly bindPort: number;
    readonly keyring: Keyring | null;
    readonly label: string;
    readonly joinTimeoutMs: number;
    readonly joinRetry: BackoffBounds;
  };

/** The options checked and filled in by {@link resolveNodeOptions}; frozen. */
export type ResolvedNodeOptions = Resolved<NodeOptionsFilledIn>;

/**
 * Checks the options; throws one {@link SwimNodeOptionsError} naming every problem. Options this
 * function returned are returned as they are.
 */
export const resolveNodeOptions = resolveOnce(checkNodeOptions);

/** `resolved` with the options taken as given ({@link SwimNodeHooks}) set; still resolved. */
export function withNodeHooks(
  resolved: ResolvedNodeOptions,
  hooks: SwimNodeHooks,
): ResolvedNodeOptions {
  return resolveNodeOptions.derive(resolved, hooks);
}

function checkNodeOptions(options: SwimNodeOptions): NodeOptionsFilledIn {
  const problems: Problem[] = [];
  const bindAddr = options.bindAddr ?? '0.0.0.0';
  const bindPort = options.bindPort ?? 7946;
  if (!parseIp(bindAddr)) {
    problems.push({ field: 'bindAddr', message: `not an IP address: ${bindAddr}` });
  }
  if (!Number.isInteger(bindPort) || bindPort < 0 || bindPort > 65535) {
    problems.push({
      field: 'bindPort',
      message: `must be an integer in [0, 65535], got ${bindPort}`,
    });
  }
  if (options.advertiseAddr !== undefined && !parseIp(options.advertiseAddr)) {
    problems.push({
      field: 'advertiseAddr',
      message: `not an IP address: ${options.advertiseAddr}`,
    });
  }
  const ap = options.advertisePort;
  if (ap !== undefined && (!Number.isInteger(ap) || ap < 1 || ap > 65535)) {
    problems.push({
      field: 'advertisePort',
      message: `must be an integer in [1, 65535], got ${ap}`,
    });
  }
  let keyring: Keyring | null = options.keyring ?? null;
  if (!keyring && options.keys && options.keys.length > 0) {
    try {
      const keys = options.keys.map((k) => decodeKey(k));
      keyring = new Keyring(keys.slice(1), keys[0]);
    } catch (e) {
      problems.push({ field: 'keys', message: (e as Error).message });
    }
  }
  const joinTimeoutMs = options.joinTimeoutMs ?? DEFAULT_JOIN_TIMEOUT_MS;
  if (!Number.isInteger(joinTimeoutMs) || joinTimeoutMs < 0) {
    problems.push({
      field: 'joinTimeoutMs',
      message: `must be an integer >= 0, got ${String(joinTimeoutMs)}`,
    });
  }
  const joinRetry = options.joinRetry ?? DEFAULT_JOIN_RETRY;
  if (!(joinRetry.initial > 0) || !(joinRetry.max >= joinRetry.initial)) {
    problems.push({
      field: 'joinRetry',
      message: `needs 0 < initial <= max, got ${JSON.stringify(joinRetry)}`,
    });
  }
  const label = options.label ?? '';
  try {
    labelBytes(label);
  } catch (e) {
    if (e instanceof LabelError) problems.push({ field: 'label', message: e.message });
    else throw e;
  }
  let config: ResolvedSwimConfig | undefined;
  try {
    config = resolveSwimConfig({ ...options.config, name: options.name, bindAddr, bindPort });
  } catch (e) {
    if (e instanceof SwimConfigError) {
      problems.push(...e.problems.map((p) => ({ field: `config.${p.field}`, message: p.message })));
    } else throw e;
  }
  if (problems.length > 0 || config === undefined) throw new SwimNodeOptionsError(problems);
  const { keys: _keys, config: _config, ...given } = options;
  return { ...given, config, bindAddr, bindPort, keyring, label, joinTimeoutMs, joinRetry };
}

/** A base64 key as bytes; throws a {@link KeyringError} for bad base64 or a bad length. */
export function decodeKey(base64: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) throw new KeyringError('key is not base64');
  const b = Buffer.from(base64, 'base64');
  const l = b.length;
  if (l !== 16 && l !== 24 && l !== 32) {
    throw new KeyringError(`key must be 16, 24 or 32 bytes, got ${l}`);
  }
  return new Uint8Array(b);
}

/** memberlist's choice of an address to advertise when bound to a wildcard. */
export function defaultAdvertiseAddr(bindAddr: string): string {
  if (bindAddr !== '0.0.0.0' && bindAddr !== '::') return bindAddr;
  for (const list of Object.values(networkInterfaces())) {
    for (const i of list ?? []) {
      if (i.family === 'IPv4' && !i.internal && isPrivateV4(i.address)) return i.address;
    }
  }
  return '127.0.0.1';
}

function isPrivateV4(ip: string): boolean {
  const [a, b] = ip.split('.').map(Number) as [number, number];
  return a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || a === 100;
}
