/**
 * The runtime of one SWIM node: a {@link SwimCore} bound to the memberlist codec, a
 * {@link SwimTransport} and ONE real timer. This is the only place of the SWIM stack that reads
 * the clock (`Date.now()`) or arms a timer for the protocol (stream reads carry their own
 * timeouts).
 *
 * After every input (a packet, a stream, the timer) or command, {@link SwimNode} drives the core
 * in its documented order: transmits are encoded (compound, LZW when smaller, CRC when the core
 * says the peer speaks protocol 5, AES-GCM with the primary key, label) and sent; stream requests
 * are started (push-pull, TCP fallback ping, reliable user message, each on its own connection as
 * memberlist's net.go does: `swim-streams.ts`, which also serves the streams peers open); events are published on {@link SwimNode.events$}; and the timer is
 * re-armed for `pollTimeout()`.
 *
 * Inbound bytes never throw: malformed packets and streams are dropped and counted by reason in
 * {@link SwimNode.stats}.
 */
import { randomInt } from 'node:crypto';
import { BehaviorSubject, merge, Observable, ReplaySubject, Subject } from 'rxjs';
import { withBoundAddress, type SwimConfig } from '../config/swim-config.js';
import { splitHostPort } from '../protocol/address.js';
import { SwimCore } from '../protocol/swim-core.js';
import type { SwimStats } from '../protocol/swim-core.js';
import type { SwimEvent, SwimMember } from '../protocol/types.js';
import { encryptOverhead } from '../wire/encryption.js';
import type { Keyring } from '../wire/keyring.js';
import { labelOverhead } from '../wire/label.js';
import { encodeMessage } from '../wire/message-codec.js';
import { EncryptionVersion } from '../wire/message-types.js';
import { decodePacket, encodePacketMessages } from '../wire/packet.js';
import { MEMBERLIST_STREAM_FIRST_BYTES, type SwimTransport } from '../transport/transport.js';
import type { TransportStats } from '../transport/transport.js';
import { UdpTcpTransport } from '../transport/udp-tcp-transport.js';
import {
  defaultAdvertiseAddr,
  resolveNodeOptions,
  type ResolvedNodeOptions,
  type SwimNodeOptions,
} from './swim-node-options.js';
import { JoinError, retryJoin, type JoinRetryOptions } from './join-retry.js';
import { SwimStreams, type WireSettings } from './swim-streams.js';
/** Bytes a CRC header adds; reserved in every packet budget so CRC'd packets still fit. */
const CRC_HEADER_BYTES = 5;

/** Counters of a node. */
export interface SwimNodeStats {
  /** Inputs dropped, by `layer:reason` (e.g. `packet:bad-crc`, `stream:decrypt-failed`, `core:stale-ack`). */
  readonly drops: Readonly<Record<string, number>>;
  /** Sum of {@link drops}. */
  readonly droppedTotal: number;
  /** Packets decoded and handed to the core. */
  readonly packetsHandled: number;
  /** Inbound streams served. */
  readonly streamsHandled: number;
  /** Outbound streams (push-pull, fallback ping, reliable user message) still in flight. */
  readonly pendingStreams: number;
  /** Push-pull exchanges (anti-entropy and joins) answered and opened by this node. */
  readonly pushPulls: { readonly received: number; readonly sent: number };
  /** Members declared suspect, as this node learnt it (its own probes' and gossiped ones). */
  readonly suspicions: number;
  /**
   * Time from the node's start (its transport bound) to the first join a seed answered, ms; null
   * before that (or without seeds, alone by choice).
   */
  readonly joinedAfterMs: number | null;
  /** The core's counters (probes, refutes, its drops). */
  readonly core: SwimStats;
  /** The transport's counters. */
  readonly transport: TransportStats;
}

/** Thrown by {@link SwimNode.sendUserMessage} for a payload that cannot fit one packet. */
export class PayloadTooLargeError extends RangeError {
  override readonly name = 'PayloadTooLargeError';
  constructor(
    readonly sizeBytes: number,
    readonly limitBytes: number,
  ) {
    super(`payload of ${sizeBytes} bytes exceeds the packet limit of ${limitBytes} bytes`);
  }
}

interface PendingJoin {
  readonly remaining: string[];
  ok: number;
  readonly errors: string[];
  readonly resolve: (n: number) => void;
  readonly reject: (e: Error) => void;
}

/** A running SWIM node. Start one with {@link SwimNode.start}. */
export class SwimNode {
  /** The validated configuration the core runs with. */
  readonly config: SwimConfig;
  private readonly eventsSubject = new Subject<SwimEvent>();
  /** Holds this node's own `member-join`, raised inside {@link start} before anyone can subscribe. */
  private readonly localJoinSubject = new ReplaySubject<SwimEvent>(1);
  private readonly membersSubject: BehaviorSubject<SwimMember[]>;
  /**
   * Every core event: joins, updates, suspicions, failures, leaves, user messages, ...
   *
   * Hot, except for one replayed event: every subscriber first receives, synchronously on
   * subscription, this node's own `member-join` exactly as the core raised it inside
   * {@link start} (memberlist's `NotifyJoin` for the local node, which a delegate sees because it
   * is registered before `Create`). Nobody can subscribe before `start()` resolves, so without the
   * replay that event would always be lost. After it come live events only; other members' past
   * joins are not replayed: read {@link members$} or {@link members} for the current membership.
   * Completes when the node is closed.
   */
  readonly events$: Observable<SwimEvent>;
  /**
   * The alive and suspect members (this node included), re-emitted after every change. Backed by
   * a BehaviorSubject: a subscriber gets the current list at once (never empty: the local node is
   * in it from the start), then every change. Completes when the node is closed.
   */
  readonly members$: Observable<SwimMember[]>;

  private timer: NodeJS.Timeout | null = null;
  private timerAt: number | undefined = undefined;
  private closed = false;
  private localJoined = false;
  private closing: Promise<void> | null = null;
  private driving = false;
  private readonly drops = new Map<string, number>();
  private packetsHandled = 0;
  private suspicions = 0;
  private readonly startedAtMs = Date.now();
  private joinedAfterMs: number | null = null;
  private readonly streams: SwimStreams;
  private readonly pendingJoins: PendingJoin[] = [];
  private leaveWaiters: Array<(completed: boolean) => void> = [];
  /** Aborted by close(): ends a join retry's wait. */
  private readonly closeSignal = new AbortController();
  private readonly packetLimit: number;

  private constructor(
    private readonly core: SwimCore,
    private readonly transport: SwimTransport,
    private readonly keyring: Keyring | null,
    private readonly label: string,
    maxStreamBytes: number,
  ) {
    this.config = core.config;
    this.membersSubject = new BehaviorSubject(core.members());
    // merge subscribes in order, so the replayed local join always comes before any live event.
    this.events$ = merge(this.localJoinSubject, this.eventsSubject);
    this.members$ = this.membersSubject.asObservable();
    this.packetLimit = transport.maxPacketBytes;
    this.streams = new SwimStreams(
      {
        core,
        transport,
        config: this.config,
        isClosed: () => this.closed,
        wire: () => this.wire(),
        countDrop: (key) => this.countDrop(key),
        drive: () => this.drive(),
      },
      maxStreamBytes,
    );
    transport.onPacket((buf, from) => this.onPacket(buf, from));
    transport.streams.register(MEMBERLIST_STREAM_FIRST_BYTES, (s, from) => {
      void this.streams.serve(s, from);
    });
  }

  /**
   * Validates the options (unless they come resolved from {@link resolveNodeOptions}, as the
   * layer above passes them), binds the transport (UDP + TCP unless one is given), starts the core
   * and, when `seeds` are given, joins them: retrying with backoff while none answers, and
   * rejecting with a {@link JoinError} once `joinTimeoutMs` has run out (see
   * {@link joinWithRetry}).
   */
  static async start(options: SwimNodeOptions | ResolvedNodeOptions): Promise<SwimNode> {
    const o = resolveNodeOptions(options);
    const base = o.config;
    const transport =
      o.transport ??
      (await UdpTcpTransport.bind({
        bindAddr: o.bindAddr,
        bindPort: o.bindPort,
        maxPacketBytes: base.udpBufferSize,
        streamTimeoutMs: base.tcpTimeoutMs,
        ...(o.maxStreamBytes !== undefined ? { maxStreamBytes: o.maxStreamBytes } : {}),
      }));
    const bound = splitHostPort(transport.localAddress)!;
    const advertiseAddr =
      o.advertiseAddr ?? (base.advertiseAddr || defaultAdvertiseAddr(bound.host));
    const advertisePort = o.advertisePort ?? bound.port;
    const encrypting = o.keyring !== null && base.gossipVerifyOutgoing;
    const encVersion =
      base.protocolVersion < 2 ? EncryptionVersion.Pkcs7 : EncryptionVersion.NoPadding;
    let core: SwimCore;
    try {
      core = new SwimCore({
        config: withBoundAddress(base, { bindPort: bound.port, advertiseAddr, advertisePort }),
        addr: advertiseAddr,
        port: advertisePort,
        nowMs: Date.now(),
        seed: o.seed ?? randomInt(2 ** 31),
        ...(o.meta ? { meta: o.meta } : {}),
        ...(o.incarnation !== undefined ? { incarnation: o.incarnation } : {}),
        ...(o.delegate ? { delegate: o.delegate } : {}),
        // Everything the shell adds around the core's messages must fit the packet budget.
        encryptionOverheadBytes:
          (encrypting ? encryptOverhead(encVersion) : 0) +
          labelOverhead(o.label) +
          CRC_HEADER_BYTES,
        encodedSize: (m) => encodeMessage(m).length,
      });
    } catch (e) {
      await transport.close();
      throw e;
    }
    const node = new SwimNode(
      core,
      transport,
      o.keyring,
      o.label,
      o.maxStreamBytes ?? transport.maxStreamBytes,
    );
    node.drive();
    if (o.seeds && o.seeds.length > 0) {
      try {
        await node.joinWithRetry(o.seeds, {
          timeoutMs: o.joinTimeoutMs,
          backoff: o.joinRetry,
        });
      } catch (e) {
        await node.close();
        throw e;
      }
    }
    return node;
  }

  // ---------------------------------------------------------------- getters

  /** This node's name. */
  get name(): string {
    return this.core.localName;
  }

  /**
   * The transport under this node: other protocols register their first bytes on
   * `streamTransport.streams` and dial peers with `streamTransport.dial` on the same port.
   */
  get streamTransport(): SwimTransport {
    return this.transport;
  }

  /** The bound `host:port` of the transport. */
  get boundAddress(): string {
    return this.transport.localAddress;
  }

  /** This node as the cluster sees it. */
  get localMember(): SwimMember {
    return this.core.localMember;
  }

  /** Alive and suspect members, this node included (memberlist `Members`). */
  members(): SwimMember[] {
    return this.core.members();
  }

  /** Every known member, dead and left ones not yet reaped included. */
  allMembers(): SwimMember[] {
    return this.core.allMembers();
  }

  /** The member of that name, if known. */
  member(name: string): SwimMember | undefined {
    return this.core.member(name);
  }

  /** Number of alive or suspect members, this node included. */
  numMembers(): number {
    return this.core.numMembers();
  }

  /** Lifeguard health score (0 is healthy). */
  get healthScore(): number {
    return this.core.healthScore;
  }

  /** Whether {@link close} (or {@link leave}) finished or is under way. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Counters: drops by reason, packets, streams, core and transport figures. */
  stats(): SwimNodeStats {
    const core = this.core.stats;
    const drops: Record<string, number> = Object.fromEntries(this.drops);
    for (const [r, n] of Object.entries(core.drops)) if (n > 0) drops[`core:${r}`] = n;
    const transport = this.transport.stats();
    for (const [r, n] of Object.entries(transport.drops)) if (n > 0) drops[`transport:${r}`] = n;
    let total = 0;
    for (const n of Object.values(drops)) total += n;
    return {
      drops,
      droppedTotal: total,
      packetsHandled: this.packetsHandled,
      streamsHandled: this.streams.handled,
      pendingStreams: this.core.pendingStreamCount,
      pushPulls: { ...this.streams.pushPulls },
      suspicions: this.suspicions,
      joinedAfterMs: this.joinedAfterMs,
      core,
      transport,
    };
  }

  // ---------------------------------------------------------------- commands

  /**
   * Joins through `seeds` (`host:port`): one push-pull per seed. Resolves with the number of seeds
   * that answered (memberlist `Join`); rejects with a {@link JoinError} when none did.
   */
  join(seeds: readonly string[]): Promise<number> {
    this.assertOpen();
    if (seeds.length === 0) return Promise.resolve(0);
    return new Promise<number>((resolve, reject) => {
      this.pendingJoins.push({ remaining: [...seeds], ok: 0, errors: [], resolve, reject });
      this.core.join(seeds, Date.now());
      this.drive();
    });
  }

  /**
   * {@link join}, again and again while no seed answers: after a failed attempt it waits
   * `backoff` (exponential, equal jitter) and tries every seed again, until one answers (resolves
   * with the number that answered in that attempt) or `timeoutMs` has passed since the call
   * (rejects with a {@link JoinError} carrying the last attempt's errors and the attempt count).
   * A seed that is not listening yet (a cluster started at once, in any order) is thus joined as
   * soon as it is up, as Serf's `retry_join` does. Rejects at once when the node closes.
   */
  joinWithRetry(seeds: readonly string[], options: JoinRetryOptions): Promise<number> {
    return retryJoin((s) => this.join(s), seeds, options, this.closeSignal.signal);
  }

  /**
   * Leaves gracefully: broadcasts this node's death as `left`, waits until the broadcast has been
   * sent its retransmit count (or `timeoutMs`), then closes. Resolves true when the broadcast
   * completed in time.
   */
  async leave(timeoutMs: number): Promise<boolean> {
    if (this.closed) return false;
    const done = new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), Math.max(0, timeoutMs));
      this.leaveWaiters.push((completed) => {
        clearTimeout(t);
        resolve(completed);
      });
    });
    this.core.leave(Date.now());
    this.drive();
    const completed = await done;
    await this.close();
    return completed;
  }

  /** Stops at once, without telling anyone (peers will detect the failure). Idempotent. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const j of this.pendingJoins.splice(0)) j.reject(new JoinError(['node closed']));
    this.closeSignal.abort();
    for (const w of this.leaveWaiters.splice(0)) w(false);
    this.closing = this.transport.close().then(() => {
      this.localJoinSubject.complete();
      this.eventsSubject.complete();
      this.membersSubject.complete();
    });
    return this.closing;
  }

  /** Publishes new meta (memberlist `UpdateNode`); throws a RangeError above 512 bytes. */
  updateMeta(meta: Uint8Array): void {
    this.assertOpen();
    this.core.updateMeta(meta, Date.now());
    this.drive();
  }

  /**
   * Sends a user message to a member: in one packet (memberlist `SendBestEffort`), or over a
   * stream with `reliable` (`SendReliable`). Returns false for an unknown member; throws a
   * {@link PayloadTooLargeError} when a best-effort payload cannot fit one packet.
   */
  sendUserMessage(
    name: string,
    payload: Uint8Array,
    options: { reliable?: boolean } = {},
  ): boolean {
    this.assertOpen();
    if (options.reliable) {
      const id = this.core.sendReliable(name, payload, Date.now());
      this.drive();
      return id !== null;
    }
    const limit = this.packetLimit - this.packetOverhead() - 1;
    if (payload.length > limit) throw new PayloadTooLargeError(payload.length, limit);
    const ok = this.core.sendBestEffort(name, payload);
    this.drive();
    return ok;
  }

  /**
   * Queues a user broadcast, piggybacked on SWIM traffic up to the retransmit limit (memberlist
   * `Delegate.GetBroadcasts`). Peers see it as a `user-message` event.
   */
  queueBroadcast(payload: Uint8Array, options: { name?: string; unique?: boolean } = {}): void {
    this.assertOpen();
    const limit = this.packetLimit - this.packetOverhead() - 4;
    if (payload.length > limit) throw new PayloadTooLargeError(payload.length, limit);
    this.core.queueBroadcast(payload, options);
    this.drive();
  }

  // ---------------------------------------------------------------- the loop

  private assertOpen(): void {
    if (this.closed) throw new Error(`SwimNode ${this.name} is closed`);
  }

  private packetOverhead(): number {
    const encrypting = this.keyring?.enabled === true && this.config.gossipVerifyOutgoing;
    return (
      (encrypting ? encryptOverhead(this.encryptionVersion()) : 0) +
      labelOverhead(this.label) +
      CRC_HEADER_BYTES
    );
  }

  private encryptionVersion(): EncryptionVersion {
    // net.go encryptionVersion(): version 0 only for protocol 1.
    return this.config.protocolVersion < 2 ? EncryptionVersion.Pkcs7 : EncryptionVersion.NoPadding;
  }

  private wire(): WireSettings {
    return {
      label: this.label,
      keyring: this.keyring,
      encryptionVersion: this.encryptionVersion(),
      verifyIncoming: this.config.gossipVerifyIncoming,
      verifyOutgoing: this.config.gossipVerifyOutgoing,
    };
  }

  private countDrop(key: string): void {
    this.drops.set(key, (this.drops.get(key) ?? 0) + 1);
  }

  /** Drains the core in its documented order and re-arms the timer. */
  private drive(): void {
    if (this.closed || this.driving) return;
    this.driving = true;
    try {
      for (let more = true; more;) {
        more = false;
        for (let t = this.core.pollTransmit(); t; t = this.core.pollTransmit()) {
          more = true;
          const parts = t.messages.map((m) => encodeMessage(m));
          const packet = encodePacketMessages(parts, {
            ...this.wire(),
            compress: this.config.enableCompression,
            crc: t.crc,
          });
          this.transport.sendPacket(t.to.addr, packet);
        }
        for (let r = this.core.pollStreamRequest(); r; r = this.core.pollStreamRequest()) {
          more = true;
          void this.streams.open(r);
        }
        for (let e = this.core.pollEvent(); e; e = this.core.pollEvent()) {
          more = true;
          this.onEvent(e);
        }
      }
    } finally {
      this.driving = false;
    }
    this.armTimer();
  }

  private armTimer(): void {
    if (this.closed) return;
    const at = this.core.pollTimeout();
    if (at === this.timerAt && this.timer) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = at;
    if (at === undefined) return;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.timerAt = undefined;
        if (this.closed) return;
        this.core.handleTimeout(Date.now());
        this.drive();
      },
      Math.max(0, at - Date.now()),
    );
  }

  private onEvent(e: SwimEvent): void {
    switch (e.type) {
      case 'join-result': {
        const i = this.pendingJoins.findIndex((j) => j.remaining.includes(e.seed.addr));
        if (i >= 0) {
          const j = this.pendingJoins[i]!;
          j.remaining.splice(j.remaining.indexOf(e.seed.addr), 1);
          if (e.ok) j.ok++;
          else j.errors.push(`${e.seed.addr}: ${e.error ?? 'failed'}`);
          if (j.remaining.length === 0) {
            this.pendingJoins.splice(i, 1);
            if (j.ok > 0) {
              this.joinedAfterMs ??= Date.now() - this.startedAtMs;
              j.resolve(j.ok);
            } else j.reject(new JoinError(j.errors));
          }
        }
        break;
      }
      case 'leave-complete':
        for (const w of this.leaveWaiters.splice(0)) w(true);
        break;
      case 'member-suspect':
        this.suspicions++;
        this.membersSubject.next(this.core.members());
        break;
      case 'member-join':
      case 'member-update':
      case 'member-failed':
      case 'member-left':
        this.membersSubject.next(this.core.members());
        break;
      default:
        break;
    }
    if (e.type === 'member-join' && e.member.name === this.name && !this.localJoined) {
      // Raised by the core's constructor, drained inside start(): kept for late subscribers.
      this.localJoined = true;
      this.localJoinSubject.next(e);
      return;
    }
    this.eventsSubject.next(e);
  }

  // ---------------------------------------------------------------- packets

  private onPacket(buf: Uint8Array, from: string): void {
    if (this.closed) return;
    const d = decodePacket(buf, this.wire());
    if (!d.ok) {
      this.countDrop(`packet:${d.reason}`);
      return;
    }
    for (const r of d.errors) this.countDrop(`packet:${r}`);
    this.packetsHandled++;
    const now = Date.now();
    for (const m of d.messages) this.core.handlePacket(from, m, now);
    this.drive();
  }
}
