/**
 * The options of a {@link FrameTransport}, their defaults and their one validation, and what the
 * transport reports: send results, counters and the reasons frames and connections are dropped.
 */
import type { Keyring, SwimTransport } from '@plumtree/swim';
import { FRAME_HEADER_BYTES, SEAL_OVERHEAD_BYTES, validateNodeName } from './frame-handshake.js';
import type { FrameSourceCheck } from './member-gate.js';
import type { BackoffBounds } from './reconnect-backoff.js';

/** Options of a {@link FrameTransport}. */
export interface FrameTransportOptions {
  /** The SWIM node's transport: frames share its TCP port. */
  readonly transport: SwimTransport;
  /** This node's name, sent in the preamble of every connection it dials. */
  readonly localName: string;
  /**
   * Peer name to `host:port` (the SWIM member address) of an alive or suspect member; undefined
   * for anyone else. Dials go there, and an accepted connection is admitted only when the name it
   * claims resolves (see {@link sourceCheck}).
   */
  readonly resolve: (peer: string) => string | undefined;
  /**
   * How an accepted connection is bound to the member it claims to be (member-gate.ts): its
   * name must resolve and, with `'address'`, its source IP must be that member's IP. Default
   * `'address'`; `'member-only'` for nodes behind NAT or a proxy.
   */
  readonly sourceCheck?: FrameSourceCheck;
  /**
   * How long an accepted connection whose name is not (yet) a member waits for it to become one
   * (a node that just joined dials before every member heard of it), ms. Default 5,000. Call
   * {@link FrameTransport.membersChanged} on membership events so it is admitted at once.
   */
  readonly pendingMemberMs?: number;
  /** Accepted connections waiting for their member at once, default 64; beyond, refused. */
  readonly maxPendingConnections?: number;
  /**
   * Bytes a waiting connection may send before it is answered (a conforming dialer sends none),
   * default 64 KiB; beyond, refused.
   */
  readonly maxPendingBytes?: number;
  /** Accepted connections per claimed name, default 4 (one is the norm); beyond, refused. */
  readonly maxInboundPerPeer?: number;
  /** Accepted frame connections in total, default 1,024; beyond, refused. */
  readonly maxInboundConnections?: number;
  /** Where the one line per refused peer (reason, name, source IP) goes. Default: nowhere. */
  readonly log?: (line: string) => void;
  /**
   * Seal frames (and the preamble) with the primary key, open with any key. Null or empty:
   * plain. Both ends must agree, and each end checks the other's preamble, so a new key must be
   * installed on every node before any node makes it primary (memberlist's rotation order).
   * Whether to seal is decided at construction.
   */
  readonly keyring?: Keyring | null;
  /** Cap on one peer's queue in bytes (queued + in the socket), default 4 MiB. */
  readonly maxQueueBytes?: number;
  /**
   * A peer's queue above this many bytes (queued + in the socket) is under pressure: the
   * pressure handler hears of it, and again once the queue is down to half of it. Default
   * {@link defaultHighWaterBytes}.
   */
  readonly highWaterBytes?: number;
  /** Largest frame sent or accepted, in bytes, default 8 MiB + 64 KiB. */
  readonly maxFrameBytes?: number;
  /** Bound on connecting and on the preamble exchange, in milliseconds, default 5000. */
  readonly dialTimeoutMs?: number;
  /** Redial delay bounds after a failure, in milliseconds, default 50 .. 5000. */
  readonly reconnectBackoffMs?: { initial: number; max: number };
  /**
   * Close an outbound connection nothing was written to for this long (it is redialed on the
   * next send). Default: never.
   */
  readonly idleTimeoutMs?: number;
}

/** What {@link FrameTransport.send} did with a frame. */
export type SendResult = 'queued' | 'overflow' | 'closed' | 'unknown-peer';

/** Counters of a {@link FrameTransport}. */
export interface FrameTransportStats {
  /** Frames written to sockets. */
  framesSent: number;
  /** Frames received and handed to the frame handler. */
  framesReceived: number;
  /** Bytes written to sockets: preambles, length headers and (sealed) bodies. */
  bytesSent: number;
  /** Bytes read from accepted connections, preambles included. */
  bytesReceived: number;
  /** Frames refused because a peer's queue was full (also in `drops.overflow`). */
  overflows: number;
  /** Times a peer's queue went above `highWaterBytes`. */
  pressureRises: number;
  /** Dials after a failed dial, refused preamble or broken connection (not after an idle close). */
  reconnects: number;
  /**
   * Socket writes of frame data: one per batch of small frames, one per large frame (its header
   * is corked with it). `framesSent / writes` is the batching factor.
   */
  writes: number;
  /** Dropped frames and refused connections, by reason (see {@link FrameDropReason}). */
  drops: Record<string, number>;
  /**
   * Accepted connections refused and closed, by reason (see `InboundRefusal`): not a member,
   * wrong source address, failed handshake, replayed batch, caps.
   */
  refused: Record<string, number>;
  /** Accepted frame connections open now (waiting ones included). */
  inboundConnections: number;
  /** Accepted connections waiting for the member they claim to appear. */
  pendingConnections: number;
  /** Peers with outbound state (a queue, a connection or a pending redial). */
  peers: number;
  /** Bytes waiting over all peers (queued + in sockets). */
  queuedBytes: number;
}

/**
 * Why a frame or a connection was dropped:
 * - `overflow`: a peer's queue was full; `frame-too-large`: a frame above `maxFrameBytes` was
 *   sent or announced; `unknown-peer`: `resolve` knew no address; `discarded`: frames still queued
 *   when a peer was disconnected, became unknown, or the transport closed;
 * - `bad-preamble`, `bad-version`, `encryption-mismatch` (one end sealed, the other not),
 *   `auth-failed` (no key opened the name), `bad-name`: refused preambles;
 *   `peer-name-mismatch`: the dialed address answered with another node's name;
 *   `handshake-timeout`: no preamble within `dialTimeoutMs`; `dial-failed`: connect failed;
 * - `decrypt-failed`: a sealed batch no key opened; `bad-batch`: an opened batch whose frame
 *   lengths do not add up; `handler-error`: the frame handler threw;
 *   `internal-error`: a bug caught at a socket callback.
 */
export type FrameDropReason =
  | 'overflow'
  | 'frame-too-large'
  | 'unknown-peer'
  | 'discarded'
  | 'bad-preamble'
  | 'bad-version'
  | 'encryption-mismatch'
  | 'auth-failed'
  | 'bad-name'
  | 'peer-name-mismatch'
  | 'handshake-timeout'
  | 'dial-failed'
  | 'decrypt-failed'
  | 'bad-batch'
  | 'handler-error'
  | 'internal-error';

/** Every {@link FrameDropReason}, to start each count at zero. */
export const FRAME_DROP_REASONS: readonly FrameDropReason[] = [
  'overflow',
  'frame-too-large',
  'unknown-peer',
  'discarded',
  'bad-preamble',
  'bad-version',
  'encryption-mismatch',
  'auth-failed',
  'bad-name',
  'peer-name-mismatch',
  'handshake-timeout',
  'dial-failed',
  'decrypt-failed',
  'bad-batch',
  'handler-error',
  'internal-error',
];

/** Defaults of {@link FrameTransportOptions}. */
export const FRAME_TRANSPORT_DEFAULTS = {
  /** Per-peer queue cap: 4 MiB. */
  maxQueueBytes: 4 * 1024 * 1024,
  /** Per-peer queue pressure mark: 256 KiB. */
  highWaterBytes: 256 * 1024,
  /** Frame cap: 8 MiB + 64 KiB (an 8 MiB payload plus frame headers). */
  maxFrameBytes: 8 * 1024 * 1024 + 64 * 1024,
  /** Dial and preamble timeout. */
  dialTimeoutMs: 5000,
  /** Redial backoff bounds. */
  reconnectBackoffMs: { initial: 50, max: 5000 } as BackoffBounds,
  /** Wait for a claimed member: as long as a dial may take. */
  pendingMemberMs: 5000,
  /** Connections waiting for their member at once. */
  maxPendingConnections: 64,
  /** Bytes a waiting connection may send. */
  maxPendingBytes: 64 * 1024,
  /** Accepted connections per claimed name (a 100-node cluster has one per peer). */
  maxInboundPerPeer: 4,
  /** Accepted connections in total (10x a 100-node cluster's). */
  maxInboundConnections: 1024,
} as const;

/**
 * The pressure mark of a queue capped at `maxQueueBytes`: min(256 KiB, maxQueueBytes / 4).
 * 256 KiB is about 250 messages of 1 KiB, tens of milliseconds at loopback rates; a quarter of
 * the cap leaves room for what is already on its way when the publishers hear of the pressure.
 */
export function defaultHighWaterBytes(maxQueueBytes: number): number {
  return Math.min(FRAME_TRANSPORT_DEFAULTS.highWaterBytes, Math.floor(maxQueueBytes / 4));
}

/** The options with their defaults, validated. */
export interface ResolvedFrameTransportOptions {
  readonly transport: SwimTransport;
  readonly localName: string;
  readonly resolve: (peer: string) => string | undefined;
  readonly sourceCheck: FrameSourceCheck;
  readonly pendingMemberMs: number;
  readonly maxPendingConnections: number;
  readonly maxPendingBytes: number;
  readonly maxInboundPerPeer: number;
  readonly maxInboundConnections: number;
  readonly log: ((line: string) => void) | undefined;
  readonly keyring: Keyring | null;
  /**
   * Whether frames are sealed. Decided once: both ends must agree on sealing for the preamble
   * exchange to succeed, so a keyring emptied later must not silently switch to plain frames.
   */
  readonly sealing: boolean;
  readonly maxQueueBytes: number;
  readonly highWaterBytes: number;
  readonly maxFrameBytes: number;
  readonly dialTimeoutMs: number;
  readonly backoff: BackoffBounds;
  readonly idleTimeoutMs: number | undefined;
}

/**
 * Apply the defaults and check the options. Throws a RangeError for an empty node name or one
 * over 226 UTF-8 bytes, a non-positive cap or timeout, an unknown `sourceCheck`, or a `maxFrameBytes` whose sealed length
 * does not fit a u32.
 */
export function resolveFrameTransportOptions(
  options: FrameTransportOptions,
): ResolvedFrameTransportOptions {
  validateNodeName(options.localName);
  const D = FRAME_TRANSPORT_DEFAULTS;
  const keyring = options.keyring ?? null;
  const o: ResolvedFrameTransportOptions = {
    transport: options.transport,
    localName: options.localName,
    resolve: options.resolve,
    sourceCheck: options.sourceCheck ?? 'address',
    pendingMemberMs: options.pendingMemberMs ?? D.pendingMemberMs,
    maxPendingConnections: options.maxPendingConnections ?? D.maxPendingConnections,
    maxPendingBytes: options.maxPendingBytes ?? D.maxPendingBytes,
    maxInboundPerPeer: options.maxInboundPerPeer ?? D.maxInboundPerPeer,
    maxInboundConnections: options.maxInboundConnections ?? D.maxInboundConnections,
    log: options.log,
    keyring,
    sealing: keyring?.enabled === true,
    maxQueueBytes: options.maxQueueBytes ?? FRAME_TRANSPORT_DEFAULTS.maxQueueBytes,
    highWaterBytes:
      options.highWaterBytes ??
      defaultHighWaterBytes(options.maxQueueBytes ?? FRAME_TRANSPORT_DEFAULTS.maxQueueBytes),
    maxFrameBytes: options.maxFrameBytes ?? FRAME_TRANSPORT_DEFAULTS.maxFrameBytes,
    dialTimeoutMs: options.dialTimeoutMs ?? FRAME_TRANSPORT_DEFAULTS.dialTimeoutMs,
    backoff: options.reconnectBackoffMs ?? FRAME_TRANSPORT_DEFAULTS.reconnectBackoffMs,
    idleTimeoutMs: options.idleTimeoutMs,
  };
  const positive: Array<[string, number | undefined]> = [
    ['maxQueueBytes', o.maxQueueBytes],
    ['highWaterBytes', o.highWaterBytes],
    ['maxFrameBytes', o.maxFrameBytes],
    ['dialTimeoutMs', o.dialTimeoutMs],
    ['reconnectBackoffMs.initial', o.backoff.initial],
    ['reconnectBackoffMs.max', o.backoff.max],
    ['idleTimeoutMs', o.idleTimeoutMs],
    ['pendingMemberMs', o.pendingMemberMs],
    ['maxPendingConnections', o.maxPendingConnections],
    ['maxPendingBytes', o.maxPendingBytes],
    ['maxInboundPerPeer', o.maxInboundPerPeer],
    ['maxInboundConnections', o.maxInboundConnections],
  ];
  for (const [field, v] of positive) {
    if (v !== undefined && !(Number.isFinite(v) && v > 0)) {
      throw new RangeError(`FrameTransport: ${field} must be a positive number, got ${v}`);
    }
  }
  if (o.sourceCheck !== 'address' && o.sourceCheck !== 'member-only') {
    throw new RangeError(
      `FrameTransport: sourceCheck must be 'address' or 'member-only', got ${String(o.sourceCheck)}`,
    );
  }
  if (o.maxFrameBytes > 0xffffffff - FRAME_HEADER_BYTES - SEAL_OVERHEAD_BYTES) {
    throw new RangeError('FrameTransport: maxFrameBytes must fit a u32 length');
  }
  return o;
}
