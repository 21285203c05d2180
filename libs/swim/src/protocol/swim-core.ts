/**
 * The SWIM core: HashiCorp memberlist's failure detector and dissemination, sans-IO.
 *
 * It follows memberlist's `state.go` and `net.go` rule for rule: round-robin probing over a list
 * reshuffled every pass, indirect probes with nacks (protocol >= 4), a TCP fallback ping,
 * Lifeguard's local health awareness and dynamic suspicion timeouts, refutation by incarnation,
 * dead vs left, gossip to the dead, reaping at the end of a probe pass, the transmit-limited
 * broadcast queue piggybacked on every packet, and push-pull anti-entropy with memberlist's merge
 * rules. It never touches a socket, a clock or `Math.random()`: time comes in as `nowMs`,
 * randomness from a seeded {@link Rng}.
 *
 * The four kinds of methods (STYLE.md point 1):
 * - getters: {@link SwimCore.localName}, {@link SwimCore.members}, {@link SwimCore.member},
 *   {@link SwimCore.numMembers}, {@link SwimCore.healthScore}, {@link SwimCore.stats}, ...
 * - inputs, each taking `nowMs`: {@link SwimCore.handlePacket} for every decoded message of a
 *   packet, {@link SwimCore.handlePushPull} when a peer opens a push-pull stream (returns the answer),
 *   {@link SwimCore.handleStreamPing} when a peer pings over a stream (returns the ack),
 *   {@link SwimCore.handlePushPullResponse}, {@link SwimCore.handleStreamPingResult},
 *   {@link SwimCore.handleStreamDone} and {@link SwimCore.handleStreamFailure} for streams the core
 *   asked for (every stream request gets exactly one of them), and
 *   {@link SwimCore.handleTimeout};
 * - commands: {@link SwimCore.join}, {@link SwimCore.leave}, {@link SwimCore.updateMeta},
 *   {@link SwimCore.queueBroadcast}, {@link SwimCore.sendBestEffort},
 *   {@link SwimCore.sendToAddress}, {@link SwimCore.sendReliable}, {@link SwimCore.ping};
 * - outputs: {@link SwimCore.pollTransmit}, {@link SwimCore.pollStreamRequest},
 *   {@link SwimCore.pollEvent}, {@link SwimCore.pollTimeout}.
 *
 * Polling order, after every input or command: drain `pollTransmit()` until undefined (send each
 * packet), then `pollStreamRequest()` until undefined (open each stream; its answer comes back later
 * through a `handle*` input), then `pollEvent()` until undefined, and last read `pollTimeout()` and
 * arm the one real timer of the shell for that instant, calling `handleTimeout(now)` when it fires. Transmits and
 * stream requests never depend on events being drained; events are only notifications.
 */
import {
  resolveSwimConfig,
  META_MAX_SIZE,
  PROTOCOL_VERSION_MAX,
  PROTOCOL_VERSION_MIN,
} from '../config/swim-config.js';
import type { SwimConfig, SwimConfigInput } from '../config/swim-config.js';
import { MessageType, NodeStateType } from '../wire/message-types.js';
import type {
  AckResp,
  Alive,
  Dead,
  IndirectPingReq,
  Message,
  Ping,
  PushNodeState,
  Suspect,
} from '../wire/messages.js';
import { addressOf, bytesEqual, parseIp, splitHostPort, type SwimAddress } from './address.js';
import { Awareness } from './awareness.js';
import { pushPullScaleMs, suspicionTimeoutMs } from './formulas.js';
import { estimateEncodedSize } from './message-size.js';
import {
  setVsn,
  stateFromWire,
  stateToWire,
  toMember,
  vsnOf,
  type NodeState,
} from './node-state.js';
import { verifyProtocol } from './protocol-versions.js';
import { createRng, kRandom, randomInt, shuffle, type Rng } from '@plumtree/common';
import { Suspicion } from './suspicion.js';
import { parseTimerKey, TimerKind, TimerTable, timerKey } from './timer-table.js';
import { TransmitLimitedQueue, type QueuedBroadcast } from './transmit-limited-queue.js';
import type {
  PushPullState,
  StreamPingResult,
  SwimDelegate,
  SwimDropReason,
  SwimEvent,
  SwimMember,
  SwimStreamRequest,
  SwimTransmit,
} from './types.js';

/** Assumed size of a compound message's header (memberlist `compoundHeaderOverhead`). */
export const COMPOUND_HEADER_OVERHEAD = 2;
/** Assumed size per part of a compound message (memberlist `compoundOverhead`). */
export const COMPOUND_OVERHEAD = 2;
/** The user message type byte in front of each user broadcast (memberlist `userMsgOverhead`). */
export const USER_MSG_OVERHEAD = 1;
/** A compound message counts its parts in one byte. */
const COMPOUND_MAX_PARTS = 255;
/** Alive members a leaving node tells directly, besides gossiping its leave (see `leave`). */
export const LEAVE_DIRECT_FANOUT = 32;

/** How to build a {@link SwimCore}. */
export interface SwimCoreOptions {
  /** A resolved config or the input to resolve (validated either way). */
  readonly config: SwimConfig | SwimConfigInput;
  /** The IP advertised to peers: 4 or 16 bytes, or its literal. */
  readonly addr: Uint8Array | string;
  /** The port advertised to peers. */
  readonly port: number;
  /** Initial node meta, at most 512 bytes. */
  readonly meta?: Uint8Array;
  /** The clock at creation. */
  readonly nowMs: number;
  /** The randomness; default a {@link createRng} of `seed`. */
  readonly rng?: Rng;
  /** Seed of the default RNG. Default 1. */
  readonly seed?: number;
  /** Application hooks. */
  readonly delegate?: SwimDelegate;
  /**
   * The incarnation the node had before a restart (from the store): the node starts above it so
   * stale claims about its previous life lose. Default 0 (first incarnation 1, as memberlist).
   */
  readonly incarnation?: number;
  /**
   * Bytes of encryption added by the shell to each packet (memberlist `encryptOverhead`: 29 for
   * AES-GCM version 1, 45 for version 0); subtracted from every packet budget. Default 0.
   */
  readonly encryptionOverheadBytes?: number;
  /** Encoded size of a message (the codec's exact function); default {@link estimateEncodedSize}. */
  readonly encodedSize?: (message: Message) => number;
}

/** Counters of what the core did and dropped. */
export interface SwimStats {
  /** Inputs dropped, by reason. */
  readonly drops: Readonly<Record<SwimDropReason, number>>;
  /** Probes started, and of those the ones that ended with a suspicion. */
  readonly probes: number;
  readonly probeFailures: number;
  /** Times this node refuted a suspicion or death claim about itself. */
  readonly refutes: number;
}

interface ProbeState {
  readonly seqNo: number;
  readonly target: string;
  /** The target as it was when the probe started; the suspicion is raised at this incarnation. */
  readonly targetIncarnation: number;
  readonly sentMs: number;
  /** False during the direct phase, true once indirect probes are out. */
  indirect: boolean;
  expectedNacks: number;
  nacks: number;
  fallbackId: number | null;
  fallbackContacted: boolean;
  /** The TCP fallback's dial was refused (see `maybeConcludeProbe`). */
  fallbackRefused: boolean;
}

type AckHandler =
  | { readonly kind: 'probe' }
  | {
      readonly kind: 'relay';
      readonly origSeqNo: number;
      readonly replyTo: SwimAddress;
      readonly nack: boolean;
    }
  | { readonly kind: 'ping'; readonly name: string; readonly sentMs: number };

type PendingStream =
  | { readonly kind: 'push-pull'; readonly to: SwimAddress; readonly join: boolean }
  | { readonly kind: 'ping'; readonly probeSeqNo: number }
  | { readonly kind: 'user'; readonly to: SwimAddress };

const ALL_DROP_REASONS: readonly SwimDropReason[] = [
  'ping-wrong-node',
  'stale-ack',
  'error-response',
  'bad-protocol-version',
  'alive-filtered',
  'merge-rejected',
  'incompatible-protocol',
  'unknown-stream',
];

/**
 * One memberlist node's protocol state machine. See the file header for the method kinds and the
 * polling order.
 */
export class SwimCore {
  /** The validated configuration. */
  readonly config: SwimConfig;
  private readonly rng: Rng;
  private readonly delegate: SwimDelegate;
  private readonly encodedSize: (message: Message) => number;
  private readonly encryptionOverhead: number;
  private readonly selfName: string;
  private readonly selfAddr: Uint8Array;
  private readonly selfPort: number;

  /** Probe order; includes the local node and dead members not yet reaped (memberlist `nodes`). */
  private nodes: NodeState[] = [];
  private readonly nodeMap = new Map<string, NodeState>();
  private probeIndex = 0;
  private sequenceNum = 0;
  private incarnationCounter: number;
  private left = false;
  private leaveCompleted = false;
  private readonly awareness: Awareness;

  private readonly broadcasts: TransmitLimitedQueue<Message>;
  private readonly userBroadcasts: TransmitLimitedQueue<Uint8Array>;
  private readonly suspicions = new Map<string, { suspicion: Suspicion; changeMs: number }>();
  private readonly ackHandlers = new Map<number, AckHandler>();
  private probe: ProbeState | null = null;
  /** A probe tick arrived while a probe was running (Go's ticker keeps one pending tick). */
  private probeTickPending = false;
  /** A suspect to probe on the next tick, out of round-robin order (`suspicionProbeFanout`). */
  private priorityProbe: string | null = null;
  private readonly pendingStreams = new Map<number, PendingStream>();
  private streamId = 0;

  private readonly timers = new TimerTable();
  private transmits: SwimTransmit[] = [];
  private streamRequests: SwimStreamRequest[] = [];
  private events: SwimEvent[] = [];
  private now: number;

  private readonly drops: Record<SwimDropReason, number>;
  private probeCount = 0;
  private probeFailureCount = 0;
  private refuteCount = 0;

  /**
   * Validates the configuration (throws `SwimConfigError` listing every problem), announces the
   * local node as alive (a `member-join` event for itself and an alive broadcast, as memberlist's
   * `setAlive`) and arms the probe, gossip and push-pull timers.
   */
  constructor(options: SwimCoreOptions) {
    this.config = resolveSwimConfig(options.config);
    this.rng = options.rng ?? createRng(options.seed ?? 1);
    this.delegate = options.delegate ?? {};
    this.encodedSize = options.encodedSize ?? estimateEncodedSize;
    this.encryptionOverhead = options.encryptionOverheadBytes ?? 0;
    this.now = options.nowMs;
    this.selfName = this.config.name;
    const addr = typeof options.addr === 'string' ? parseIp(options.addr) : options.addr;
    if (!addr || (addr.length !== 4 && addr.length !== 16)) {
      throw new TypeError(
        `SwimCore: addr must be an IPv4 or IPv6 address, got ${String(options.addr)}`,
      );
    }
    if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) {
      throw new RangeError(`SwimCore: port must be in [1, 65535], got ${options.port}`);
    }
    this.selfAddr = addr;
    this.selfPort = options.port;
    this.incarnationCounter = options.incarnation ?? 0;
    this.awareness = new Awareness(this.config.awarenessMaxMultiplier);
    this.broadcasts = new TransmitLimitedQueue<Message>(
      this.config.retransmitMult,
      () => this.nodes.length,
    );
    this.userBroadcasts = new TransmitLimitedQueue<Uint8Array>(
      this.config.retransmitMult,
      () => this.nodes.length,
    );
    this.drops = Object.fromEntries(ALL_DROP_REASONS.map((r) => [r, 0])) as Record<
      SwimDropReason,
      number
    >;

    const meta = options.meta ?? new Uint8Array(0);
    checkMeta(meta);
    this.aliveNode(
      {
        Incarnation: this.nextIncarnation(),
        Node: this.selfName,
        Addr: this.selfAddr,
        Port: this.selfPort,
        Meta: meta,
        Vsn: this.buildVsn(),
      },
      true,
    );
    this.schedule();
  }

  // ---------------------------------------------------------------- getters

  /** This node's name. */
  get localName(): string {
    return this.selfName;
  }

  /** This node as the cluster sees it. */
  get localMember(): SwimMember {
    return toMember(this.nodeMap.get(this.selfName)!);
  }

  /** This node's current incarnation. */
  get incarnation(): number {
    return this.nodeMap.get(this.selfName)!.incarnation;
  }

  /** Whether {@link leave} was called. */
  get hasLeft(): boolean {
    return this.left;
  }

  /** Lifeguard health score: 0 healthy, up to `awarenessMaxMultiplier - 1`. */
  get healthScore(): number {
    return this.awareness.healthScore;
  }

  /** Members that are alive or suspect, the local node included (memberlist `Members`). */
  members(): SwimMember[] {
    return this.nodes.filter((n) => n.state === 'alive' || n.state === 'suspect').map(toMember);
  }

  /** Every known member, dead and left ones not yet reaped included. */
  allMembers(): SwimMember[] {
    return this.nodes.map(toMember);
  }

  /** The member of that name, if known. */
  member(name: string): SwimMember | undefined {
    const n = this.nodeMap.get(name);
    return n ? toMember(n) : undefined;
  }

  /** Number of alive or suspect members, the local node included (memberlist `NumMembers`). */
  numMembers(): number {
    let count = 0;
    for (const n of this.nodes) if (n.state === 'alive' || n.state === 'suspect') count++;
    return count;
  }

  /** memberlist's `estNumNodes`: every entry of the node list, dead ones not yet reaped included. */
  estNumNodes(): number {
    return this.nodes.length;
  }

  /** The running suspicion of a member: when it will be declared dead, and the confirmations so far. */
  suspicion(name: string): { deadlineMs: number; confirmations: number } | undefined {
    const entry = this.suspicions.get(name);
    return entry
      ? { deadlineMs: entry.suspicion.deadlineMs, confirmations: entry.suspicion.confirmations }
      : undefined;
  }

  /** Membership broadcasts and user broadcasts waiting to be piggybacked. */
  get queuedBroadcasts(): { membership: number; user: number } {
    return { membership: this.broadcasts.length, user: this.userBroadcasts.length };
  }

  /**
   * Stream requests handed out and not yet answered through a `handle*` input. It returns to 0 once
   * the shell has reported every stream; a value that only grows means the shell drops outcomes.
   */
  get pendingStreamCount(): number {
    return this.pendingStreams.size;
  }

  /** Counters. */
  get stats(): SwimStats {
    return {
      drops: { ...this.drops },
      probes: this.probeCount,
      probeFailures: this.probeFailureCount,
      refutes: this.refuteCount,
    };
  }

  // ---------------------------------------------------------------- outputs

  /** Next packet to send, or undefined. */
  pollTransmit(): SwimTransmit | undefined {
    return this.transmits.shift();
  }

  /** Next stream to open, or undefined. */
  pollStreamRequest(): SwimStreamRequest | undefined {
    return this.streamRequests.shift();
  }

  /** Next event, or undefined. */
  pollEvent(): SwimEvent | undefined {
    return this.events.shift();
  }

  /** The earliest deadline of the timer table, or undefined when nothing is armed. */
  pollTimeout(): number | undefined {
    return this.timers.next();
  }

  // ---------------------------------------------------------------- inputs

  /**
   * One decoded message of a packet received from `from` (`host:port`). Call it for each message of
   * a compound packet, in order. Unknown or stale input is counted and dropped; it never throws.
   */
  handlePacket(from: string, message: Message, nowMs: number): void {
    this.advance(nowMs);
    switch (message.type) {
      case MessageType.Ping:
        this.onPing(from, message.body);
        return;
      case MessageType.IndirectPing:
        this.onIndirectPing(from, message.body);
        return;
      case MessageType.AckResp:
        this.onAck(message.body);
        return;
      case MessageType.NackResp:
        this.onNack(message.body.SeqNo);
        return;
      case MessageType.Suspect:
        this.suspectNode(message.body);
        return;
      case MessageType.Alive: {
        const a = message.body;
        // Protocol < 2 carries no port: peers are assumed on our bind port.
        const port =
          this.config.protocolVersion < 2 || a.Port === 0 ? this.config.bindPort : a.Port;
        this.aliveNode(port === a.Port ? a : { ...a, Port: port }, false);
        return;
      }
      case MessageType.Dead:
        this.deadNode(message.body);
        return;
      case MessageType.User:
        this.events.push({ type: 'user-message', from, payload: message.body });
        return;
      case MessageType.Err:
        this.drop('error-response');
        return;
    }
  }

  /**
   * A peer opened a push-pull stream and sent its state. Returns the local state to write back
   * (taken before merging, as memberlist answers before it merges), then merges the remote state:
   * protocol check, merge filter on join, alive/suspect/dead per member, delegate state. A refused
   * merge is reported as a `push-pull-failed` event. (Capping concurrent inbound push-pulls, memberlist's
   * `maxPushPullRequests`, is the shell's job: the core handles one call at a time.)
   */
  handlePushPull(
    from: string,
    remoteStates: readonly PushNodeState[],
    userState: Uint8Array,
    join: boolean,
    nowMs: number,
  ): PushPullState {
    this.advance(nowMs);
    const answer = this.localState(join);
    const problem = this.mergeRemoteState(join, remoteStates, userState);
    if (problem)
      this.events.push({
        type: 'push-pull-failed',
        peer: { addr: from, name: '' },
        error: problem,
      });
    return answer;
  }

  /**
   * A peer pinged over a stream (the TCP fallback of its probe). Returns the ack to write back, or
   * null when the ping is addressed to another node name.
   */
  handleStreamPing(_from: string, ping: Ping, nowMs: number): AckResp | null {
    this.advance(nowMs);
    if (ping.Node !== '' && ping.Node !== this.selfName) {
      this.drop('ping-wrong-node');
      return null;
    }
    return { SeqNo: ping.SeqNo, Payload: new Uint8Array(0) };
  }

  /** The remote state answering a push-pull stream this core asked for (`kind: 'push-pull'`). */
  handlePushPullResponse(
    requestId: number,
    remoteStates: readonly PushNodeState[],
    userState: Uint8Array,
    nowMs: number,
  ): void {
    this.advance(nowMs);
    const pending = this.pendingStreams.get(requestId);
    if (!pending || pending.kind !== 'push-pull') {
      this.drop('unknown-stream');
      return;
    }
    this.pendingStreams.delete(requestId);
    const problem = this.mergeRemoteState(pending.join, remoteStates, userState);
    if (pending.join) {
      this.events.push(
        problem
          ? { type: 'join-result', seed: pending.to, ok: false, error: problem }
          : { type: 'join-result', seed: pending.to, ok: true },
      );
    } else if (problem) {
      this.events.push({ type: 'push-pull-failed', peer: pending.to, error: problem });
    }
  }

  /**
   * The outcome of a TCP fallback ping (`kind: 'ping'`): the ack read, or null on any failure;
   * `refused` when the dial was refused (nothing listens on the member's port: its process is
   * gone), which with `suspectOnRefusedFallback` can end the probe before its deadline.
   */
  handleStreamPingResult(
    requestId: number,
    ack: StreamPingResult,
    nowMs: number,
    refused = false,
  ): void {
    this.advance(nowMs);
    const pending = this.pendingStreams.get(requestId);
    if (!pending || pending.kind !== 'ping') {
      this.drop('unknown-stream');
      return;
    }
    this.pendingStreams.delete(requestId);
    const probe = this.probe;
    if (!probe || probe.seqNo !== pending.probeSeqNo || probe.fallbackId !== requestId) return;
    // memberlist only counts an ack carrying the probe's sequence number.
    probe.fallbackContacted = ack !== null && ack.SeqNo === probe.seqNo;
    probe.fallbackRefused = ack === null && refused;
    this.maybeConcludeProbe();
  }

  /**
   * Not in memberlist (`suspectOnRefusedFallback`): ends a failing probe before its deadline when
   * the evidence is already complete: no direct ack within the probe timeout, the TCP fallback
   * refused (the host is up and nothing listens on the port), and every helper sent its nack (so
   * this node is healthy and the helpers could not reach the target either). memberlist would
   * wait out the rest of the probe interval for an ack that cannot come.
   */
  private maybeConcludeProbe(): void {
    const probe = this.probe;
    if (!probe || !this.config.suspectOnRefusedFallback) return;
    if (!probe.indirect || !probe.fallbackRefused) return;
    if (probe.expectedNacks === 0 || probe.nacks < probe.expectedNacks) return;
    this.onProbeDeadline();
  }

  /**
   * A reliable user message stream (`kind: 'user'`, from {@link sendReliable}) was written and
   * closed. It carries no answer, but the core tracks it until it hears the outcome, so the shell
   * reports success here as it reports failure through {@link handleStreamFailure}. An id that is
   * unknown or not a user stream is counted as `unknown-stream` and changes nothing.
   */
  handleStreamDone(requestId: number, nowMs: number): void {
    this.advance(nowMs);
    const pending = this.pendingStreams.get(requestId);
    if (!pending || pending.kind !== 'user') {
      this.drop('unknown-stream');
      return;
    }
    this.pendingStreams.delete(requestId);
  }

  /** A stream the core asked for could not be completed (dial, write, read or decode failure). */
  handleStreamFailure(requestId: number, error: string, nowMs: number): void {
    this.advance(nowMs);
    const pending = this.pendingStreams.get(requestId);
    if (!pending) {
      this.drop('unknown-stream');
      return;
    }
    this.pendingStreams.delete(requestId);
    if (pending.kind === 'push-pull') {
      this.events.push(
        pending.join
          ? { type: 'join-result', seed: pending.to, ok: false, error }
          : { type: 'push-pull-failed', peer: pending.to, error },
      );
    }
  }

  /** Fire every timer due at `nowMs`, earliest first. */
  handleTimeout(nowMs: number): void {
    this.advance(nowMs);
    for (;;) {
      const due = this.timers.popDue(this.now);
      if (!due) return;
      this.onTimer(due.key, due.atMs);
    }
  }

  // ---------------------------------------------------------------- commands

  /**
   * Join through `seeds` (`host:port` strings or addresses with the expected node name): one
   * push-pull stream with `join: true` per seed. Each answers with a `join-result` event.
   */
  join(seeds: ReadonlyArray<string | SwimAddress>, nowMs: number): void {
    this.advance(nowMs);
    for (const seed of seeds) {
      const to = typeof seed === 'string' ? { addr: seed, name: '' } : seed;
      this.requestPushPull(to, true);
    }
  }

  /**
   * Leave gracefully: broadcast a dead message about ourselves with `From` = our name, which peers
   * record as `left`. A `leave-complete` event follows once the broadcast has been sent its full
   * retransmit count, at once when no other member is alive. Keep driving the core until then.
   */
  leave(nowMs: number): void {
    this.advance(nowMs);
    if (this.left) return;
    this.left = true;
    const self = this.nodeMap.get(this.selfName)!;
    const dead: Dead = { Incarnation: self.incarnation, Node: self.name, From: self.name };
    this.deadNode(dead);
    // memberlist only gossips the leave, a retransmit-limited number of times to random members,
    // the recently dead included, so after other failures every copy can go to dead nodes and the
    // live ones later time us out as "failed". One direct packet to a bounded random set of alive
    // members makes the leave land at once; peers treat it as any gossiped dead message.
    this.sendDirect(dead, LEAVE_DIRECT_FANOUT);
    if (!this.anyAlive()) this.completeLeave();
  }

  /**
   * Publish new node meta (memberlist `UpdateNode`): a new incarnation and an alive broadcast.
   * Throws a RangeError above 512 bytes (memberlist panics). An `update-complete` event follows
   * once the broadcast is fully retransmitted.
   */
  updateMeta(meta: Uint8Array, nowMs: number): void {
    this.advance(nowMs);
    checkMeta(meta);
    const self = this.nodeMap.get(this.selfName)!;
    const incarnation = this.nextIncarnation();
    this.aliveNode(
      {
        Incarnation: incarnation,
        Node: this.selfName,
        Addr: self.addr,
        Port: self.port,
        Meta: meta,
        Vsn: this.buildVsn(),
      },
      true,
      () => this.events.push({ type: 'update-complete', incarnation }),
    );
  }

  /**
   * Queue a user broadcast to piggyback on SWIM traffic, each sent at most the retransmit limit
   * times. A `name` makes it replace a queued broadcast of the same name (e.g. the latest version of
   * a topic directory); `unique` keeps it from ever being replaced.
   */
  queueBroadcast(
    payload: Uint8Array,
    options: { name?: string; unique?: boolean; onFinished?: () => void } = {},
  ): void {
    this.userBroadcasts.queueBroadcast({
      message: payload,
      size: payload.length,
      ...(options.name !== undefined ? { name: options.name } : {}),
      ...(options.unique ? { unique: true } : {}),
      ...(options.onFinished ? { finished: options.onFinished } : {}),
    });
  }

  /** Send a user message to a member in one packet, best effort (memberlist `SendBestEffort`). */
  sendBestEffort(name: string, payload: Uint8Array): boolean {
    const n = this.nodeMap.get(name);
    if (!n) return false;
    this.transmits.push({
      to: { addr: addressOf(n.addr, n.port), name: n.name },
      messages: [{ type: MessageType.User, body: payload }],
      crc: n.pMax >= 5,
    });
    return true;
  }

  /** Send a user message to an address in one packet (memberlist `SendToAddress`). */
  sendToAddress(to: SwimAddress, payload: Uint8Array): void {
    this.transmits.push({
      to,
      messages: [{ type: MessageType.User, body: payload }],
      crc: this.crcFor(to.addr),
    });
  }

  /**
   * Send a user message over a stream (memberlist `SendReliable`). Returns the stream id, or null
   * for an unknown member. The shell must report the outcome with {@link handleStreamDone} or
   * {@link handleStreamFailure}; until then the id stays in the pending table.
   */
  sendReliable(name: string, payload: Uint8Array, nowMs: number): number | null {
    this.advance(nowMs);
    const n = this.nodeMap.get(name);
    if (!n) return null;
    const to = { addr: addressOf(n.addr, n.port), name: n.name };
    const id = ++this.streamId;
    this.pendingStreams.set(id, { kind: 'user', to });
    this.streamRequests.push({
      kind: 'user',
      id,
      to,
      payload,
      deadlineMs: this.now + this.config.tcpTimeoutMs,
    });
    return id;
  }

  /**
   * Ping `to` once outside the probe cycle (memberlist `Ping`); a `ping-result` event gives the RTT,
   * or null when no ack came within the probe timeout. Returns the sequence number.
   */
  ping(to: SwimAddress, nowMs: number): number {
    this.advance(nowMs);
    const seqNo = this.nextSeqNo();
    this.ackHandlers.set(seqNo, { kind: 'ping', name: to.name, sentMs: this.now });
    this.timers.set(timerKey(TimerKind.AckHandler, seqNo), this.now + this.config.probeTimeoutMs);
    this.sendMsg(to, { type: MessageType.Ping, body: this.makePing(seqNo, to.name) });
    return seqNo;
  }

  // ---------------------------------------------------------------- scheduling

  private schedule(): void {
    const c = this.config;
    // Go tickers start when memberlist is created; the random stagger of `triggerFunc` only delays
    // the first read of a tick already pending, so the first probe and gossip come one period in.
    if (c.probeIntervalMs > 0) this.timers.set(TimerKind.ProbeTick, this.now + c.probeIntervalMs);
    if (c.gossipIntervalMs > 0 && c.gossipNodes > 0) {
      this.timers.set(TimerKind.GossipTick, this.now + c.gossipIntervalMs);
    }
    if (c.pushPullIntervalMs > 0) {
      // pushPullTrigger waits a random stagger, then the scaled interval.
      const stagger = randomInt(this.rng, c.pushPullIntervalMs);
      this.timers.set(
        TimerKind.PushPullTick,
        this.now + stagger + pushPullScaleMs(c.pushPullIntervalMs, this.nodes.length),
      );
    }
  }

  private onTimer(key: string, atMs: number): void {
    const { kind, id } = parseTimerKey(key);
    switch (kind) {
      case TimerKind.ProbeTick:
        this.timers.set(TimerKind.ProbeTick, nextTick(atMs, this.config.probeIntervalMs, this.now));
        if (this.probe) this.probeTickPending = true;
        else this.runProbe();
        return;
      case TimerKind.GossipTick:
        this.timers.set(
          TimerKind.GossipTick,
          nextTick(atMs, this.config.gossipIntervalMs, this.now),
        );
        this.gossip();
        return;
      case TimerKind.PushPullTick:
        this.timers.set(
          TimerKind.PushPullTick,
          this.now + pushPullScaleMs(this.config.pushPullIntervalMs, this.nodes.length),
        );
        this.periodicPushPull();
        return;
      case TimerKind.ProbeTimeout:
        this.onProbeTimeout();
        return;
      case TimerKind.ProbeDeadline:
        this.onProbeDeadline();
        return;
      case TimerKind.AckHandler:
        this.onAckHandlerExpired(Number(id));
        return;
      case TimerKind.Suspicion:
        this.onSuspicionTimeout(id!);
        return;
    }
  }

  // ---------------------------------------------------------------- probing

  /** memberlist `probe`: the next alive or suspect member of the round-robin list. */
  private runProbe(): void {
    if (this.priorityProbe !== null) {
      const target = this.nodeMap.get(this.priorityProbe);
      this.priorityProbe = null;
      if (target && target.state === 'suspect') {
        this.probeNode(target);
        return;
      }
    }
    let numCheck = 0;
    for (;;) {
      if (numCheck >= this.nodes.length) return;
      if (this.probeIndex >= this.nodes.length) {
        this.resetNodes();
        this.probeIndex = 0;
        numCheck++;
        continue;
      }
      const node = this.nodes[this.probeIndex]!;
      this.probeIndex++;
      if (node.name === this.selfName || node.state === 'dead' || node.state === 'left') {
        numCheck++;
        continue;
      }
      this.probeNode(node);
      return;
    }
  }

  /** memberlist `probeNode`, phase one: the direct ping. */
  private probeNode(node: NodeState): void {
    const probeInterval = this.awareness.scaleTimeout(this.config.probeIntervalMs);
    const seqNo = this.nextSeqNo();
    const ping = this.makePing(seqNo, node.name);
    this.probe = {
      seqNo,
      target: node.name,
      targetIncarnation: node.incarnation,
      sentMs: this.now,
      indirect: false,
      expectedNacks: 0,
      nacks: 0,
      fallbackId: null,
      fallbackContacted: false,
      fallbackRefused: false,
    };
    this.probeCount++;
    this.ackHandlers.set(seqNo, { kind: 'probe' });
    const to = { addr: addressOf(node.addr, node.port), name: node.name };
    if (node.state === 'alive') {
      this.sendMsg(to, { type: MessageType.Ping, body: ping });
    } else {
      // A suspect target gets the suspicion along with the ping, so it can refute at once.
      this.transmits.push({
        to,
        messages: [
          { type: MessageType.Ping, body: ping },
          {
            type: MessageType.Suspect,
            body: { Incarnation: node.incarnation, Node: node.name, From: this.selfName },
          },
        ],
        crc: node.pMax >= 5,
      });
    }
    this.timers.set(TimerKind.ProbeTimeout, this.now + this.config.probeTimeoutMs);
    this.timers.set(TimerKind.ProbeDeadline, this.now + probeInterval);
  }

  /** Phase two: no direct ack within the probe timeout; ask others, and try TCP. */
  private onProbeTimeout(): void {
    const probe = this.probe;
    if (!probe) return;
    const node = this.nodeMap.get(probe.target);
    if (!node) return;
    probe.indirect = true;
    const peers = kRandom(
      this.rng,
      this.config.indirectChecks,
      this.nodes,
      (n) => n.name === this.selfName || n.name === node.name || n.state !== 'alive',
    );
    for (const peer of peers) {
      // Only members that understand protocol 4 send nacks.
      const nack = peer.pMax >= 4;
      if (nack) probe.expectedNacks++;
      const ind: IndirectPingReq = {
        SeqNo: probe.seqNo,
        Target: node.addr,
        Port: node.port,
        Node: node.name,
        Nack: nack,
        SourceAddr: this.selfAddr,
        SourcePort: this.selfPort,
        SourceNode: this.selfName,
      };
      this.sendMsg(
        { addr: addressOf(peer.addr, peer.port), name: peer.name },
        { type: MessageType.IndirectPing, body: ind },
      );
    }
    const disableTcp =
      this.config.disableTcpPings || (this.delegate.disableTcpPingsForNode?.(node.name) ?? false);
    if (!disableTcp && node.pMax >= 3) {
      const id = ++this.streamId;
      probe.fallbackId = id;
      this.pendingStreams.set(id, { kind: 'ping', probeSeqNo: probe.seqNo });
      this.streamRequests.push({
        kind: 'ping',
        id,
        to: { addr: addressOf(node.addr, node.port), name: node.name },
        ping: this.makePing(probe.seqNo, node.name),
        deadlineMs: this.timers.get(TimerKind.ProbeDeadline) ?? this.now,
      });
    }
  }

  /** End of the probe without an ack: suspect the target unless the TCP fallback reached it. */
  private onProbeDeadline(): void {
    const probe = this.probe;
    if (!probe) return;
    this.ackHandlers.delete(probe.seqNo);
    if (probe.fallbackContacted) {
      // Reachable over TCP only: memberlist warns that the network may be misconfigured.
      this.finishProbe(-1);
      return;
    }
    // With nack-capable helpers, missing nacks point at our own health; without, any failure does.
    let delta = 0;
    if (probe.expectedNacks > 0) {
      if (probe.nacks < probe.expectedNacks) delta += probe.expectedNacks - probe.nacks;
    } else {
      delta += 1;
    }
    this.probeFailureCount++;
    this.finishProbe(delta, () =>
      this.suspectNode({
        Incarnation: probe.targetIncarnation,
        Node: probe.target,
        From: this.selfName,
      }),
    );
  }

  private finishProbe(awarenessDelta: number, then?: () => void): void {
    const probe = this.probe!;
    this.timers.cancel(TimerKind.ProbeTimeout);
    this.timers.cancel(TimerKind.ProbeDeadline);
    this.ackHandlers.delete(probe.seqNo);
    if (probe.fallbackId !== null) this.pendingStreams.delete(probe.fallbackId);
    this.probe = null;
    then?.();
    // memberlist applies the awareness delta when probeNode returns, after the suspicion.
    this.applyAwareness(awarenessDelta);
    if (this.probeTickPending) {
      this.probeTickPending = false;
      this.runProbe();
    }
  }

  /** memberlist `resetNodes`: reap members dead past gossip-to-the-dead time, reshuffle the rest. */
  private resetNodes(): void {
    const keep: NodeState[] = [];
    for (const n of this.nodes) {
      const reap =
        (n.state === 'dead' || n.state === 'left') &&
        this.now - n.stateChangeMs > this.config.gossipToTheDeadTimeMs;
      if (reap) {
        this.nodeMap.delete(n.name);
        this.clearSuspicion(n.name);
      } else {
        keep.push(n);
      }
    }
    this.nodes = shuffle(this.rng, keep);
  }

  // ---------------------------------------------------------------- packet handlers

  private onPing(from: string, p: Ping): void {
    if (p.Node !== '' && p.Node !== this.selfName) {
      this.drop('ping-wrong-node');
      return;
    }
    const ack: AckResp = {
      SeqNo: p.SeqNo,
      Payload: this.delegate.ackPayload?.() ?? new Uint8Array(0),
    };
    this.sendMsg(this.replyAddress(from, p.SourceAddr, p.SourcePort, p.SourceNode), {
      type: MessageType.AckResp,
      body: ack,
    });
  }

  private onIndirectPing(from: string, ind: IndirectPingReq): void {
    const port =
      this.config.protocolVersion < 2 || ind.Port === 0 ? this.config.bindPort : ind.Port;
    const localSeqNo = this.nextSeqNo();
    const replyTo = this.replyAddress(from, ind.SourceAddr, ind.SourcePort, ind.SourceNode);
    this.ackHandlers.set(localSeqNo, {
      kind: 'relay',
      origSeqNo: ind.SeqNo,
      replyTo,
      nack: ind.Nack,
    });
    this.timers.set(
      timerKey(TimerKind.AckHandler, localSeqNo),
      this.now + this.config.probeTimeoutMs,
    );
    this.sendMsg(
      { addr: addressOf(ind.Target, port), name: ind.Node },
      { type: MessageType.Ping, body: this.makePing(localSeqNo, ind.Node) },
    );
  }

  private onAck(ack: AckResp): void {
    const handler = this.ackHandlers.get(ack.SeqNo);
    if (!handler) {
      this.drop('stale-ack');
      return;
    }
    this.ackHandlers.delete(ack.SeqNo);
    switch (handler.kind) {
      case 'probe': {
        const probe = this.probe;
        if (!probe || probe.seqNo !== ack.SeqNo) return;
        if (!probe.indirect) {
          // Only a direct ack within the probe timeout measures the RTT.
          const node = this.nodeMap.get(probe.target);
          if (node) {
            this.events.push({
              type: 'ping-complete',
              member: toMember(node),
              rttMs: this.now - probe.sentMs,
              payload: ack.Payload,
            });
          }
        }
        this.finishProbe(-1);
        return;
      }
      case 'relay':
        this.timers.cancel(timerKey(TimerKind.AckHandler, ack.SeqNo));
        this.sendMsg(handler.replyTo, {
          type: MessageType.AckResp,
          body: { SeqNo: handler.origSeqNo, Payload: new Uint8Array(0) },
        });
        return;
      case 'ping':
        this.timers.cancel(timerKey(TimerKind.AckHandler, ack.SeqNo));
        this.events.push({
          type: 'ping-result',
          name: handler.name,
          seqNo: ack.SeqNo,
          rttMs: this.now - handler.sentMs,
        });
        return;
    }
  }

  private onNack(seqNo: number): void {
    const handler = this.ackHandlers.get(seqNo);
    if (!handler || handler.kind !== 'probe' || !this.probe || this.probe.seqNo !== seqNo) {
      this.drop('stale-ack');
      return;
    }
    this.probe.nacks++;
    this.maybeConcludeProbe();
  }

  private onAckHandlerExpired(seqNo: number): void {
    const handler = this.ackHandlers.get(seqNo);
    if (!handler) return;
    this.ackHandlers.delete(seqNo);
    if (handler.kind === 'relay' && handler.nack) {
      this.sendMsg(handler.replyTo, {
        type: MessageType.NackResp,
        body: { SeqNo: handler.origSeqNo },
      });
    } else if (handler.kind === 'ping') {
      this.events.push({ type: 'ping-result', name: handler.name, seqNo, rttMs: null });
    }
  }

  // ---------------------------------------------------------------- membership rules

  /** memberlist `refute`: beat the accusation with a higher incarnation and broadcast alive. */
  private refute(me: NodeState, accusedInc: number): void {
    let inc = this.nextIncarnation();
    if (accusedInc >= inc) {
      this.incarnationCounter = accusedInc + 1;
      inc = this.incarnationCounter;
    }
    me.incarnation = inc;
    this.refuteCount++;
    // Being accused suggests we are the slow one.
    this.applyAwareness(1);
    this.queueMembership(me.name, {
      type: MessageType.Alive,
      body: {
        Incarnation: inc,
        Node: me.name,
        Addr: me.addr,
        Port: me.port,
        Meta: me.meta,
        Vsn: vsnOf(me),
      },
    });
  }

  /** memberlist `aliveNode`. `bootstrap` marks our own announcements (start, meta update). */
  private aliveNode(a: Alive, bootstrap: boolean, onBroadcastFinished?: () => void): void {
    if (this.left && a.Node === this.selfName) return;
    if (a.Vsn.length >= 3) {
      const pMin = a.Vsn[0]!;
      const pMax = a.Vsn[1]!;
      if (pMin === 0 || pMax === 0 || pMin > pMax) {
        this.drop('bad-protocol-version');
        return;
      }
    }
    if (this.delegate.notifyAlive) {
      if (a.Vsn.length < 6) {
        this.drop('alive-filtered');
        return;
      }
      const reason = this.delegate.notifyAlive({
        name: a.Node,
        addr: a.Addr,
        port: a.Port,
        meta: a.Meta,
        state: 'alive',
        vsn: a.Vsn,
      });
      if (reason !== null) {
        this.drop('alive-filtered');
        return;
      }
    }

    let state = this.nodeMap.get(a.Node);
    let updatesNode = false;
    if (!state) {
      state = {
        name: a.Node,
        addr: a.Addr,
        port: a.Port,
        meta: a.Meta,
        incarnation: 0,
        state: 'dead',
        stateChangeMs: this.now,
        pMin: 0,
        pMax: 0,
        pCur: 0,
        dMin: 0,
        dMax: 0,
        dCur: 0,
      };
      if (a.Vsn.length > 5) setVsn(state, a.Vsn);
      this.nodeMap.set(a.Node, state);
      // Insert at a random position: if every node appended, the failure detection bound of the
      // newest member would be a full probe pass on every node.
      const n = this.nodes.length;
      const offset = randomInt(this.rng, n);
      this.nodes.push(state);
      [this.nodes[offset], this.nodes[n]] = [this.nodes[n]!, this.nodes[offset]!];
    } else if (!bytesEqual(state.addr, a.Addr) || state.port !== a.Port) {
      const canReclaim =
        this.config.deadNodeReclaimTimeMs > 0 &&
        this.now - state.stateChangeMs > this.config.deadNodeReclaimTimeMs;
      if (state.state === 'left' || (state.state === 'dead' && canReclaim)) {
        updatesNode = true;
      } else {
        this.events.push({
          type: 'conflict',
          existing: toMember(state),
          other: { name: a.Node, address: addressOf(a.Addr, a.Port), meta: a.Meta },
        });
        return;
      }
    }

    const isLocal = state.name === this.selfName;
    if (a.Incarnation <= state.incarnation && !isLocal && !updatesNode) return;
    if (a.Incarnation < state.incarnation && isLocal) return;

    this.clearSuspicion(a.Node);
    const oldState = state.state;
    const oldMeta = state.meta;

    if (!bootstrap && isLocal) {
      // Same incarnation and same content is an echo of our own alive; anything else about us at
      // our incarnation or above (e.g. a previous life with other meta) must be refuted.
      if (
        a.Incarnation === state.incarnation &&
        bytesEqual(a.Meta, state.meta) &&
        bytesEqual(a.Vsn, vsnOf(state))
      ) {
        return;
      }
      this.refute(state, a.Incarnation);
    } else {
      this.queueMembership(a.Node, { type: MessageType.Alive, body: a }, onBroadcastFinished);
      if (a.Vsn.length > 0) setVsn(state, a.Vsn);
      state.incarnation = a.Incarnation;
      state.meta = a.Meta;
      state.addr = a.Addr;
      state.port = a.Port;
      if (state.state !== 'alive') {
        state.state = 'alive';
        state.stateChangeMs = this.now;
      }
    }

    if (oldState === 'dead' || oldState === 'left') {
      this.events.push({ type: 'member-join', member: toMember(state) });
    } else if (!bytesEqual(oldMeta, state.meta)) {
      this.events.push({ type: 'member-update', member: toMember(state) });
    }
  }

  /** memberlist `suspectNode`, with Lifeguard's confirmations. */
  private suspectNode(s: Suspect): void {
    const state = this.nodeMap.get(s.Node);
    if (!state) return;
    if (s.Incarnation < state.incarnation) return;

    const timer = this.suspicions.get(s.Node);
    if (timer) {
      // An independent confirmation: re-gossip it so others can count it too.
      if (timer.suspicion.confirm(s.From, this.now)) {
        this.timers.set(timerKey(TimerKind.Suspicion, s.Node), timer.suspicion.deadlineMs);
        this.queueMembership(s.Node, { type: MessageType.Suspect, body: s });
      }
      return;
    }
    if (state.state !== 'alive') return;

    if (state.name === this.selfName) {
      this.refute(state, s.Incarnation);
      return;
    }
    this.queueMembership(s.Node, { type: MessageType.Suspect, body: s });

    state.incarnation = s.Incarnation;
    state.state = 'suspect';
    state.stateChangeMs = this.now;
    this.events.push({ type: 'member-suspect', member: toMember(state), from: s.From });

    // Expect k confirmations so the nominal timeout is reached two probe intervals short of
    // suspicionMult; none when too few members remain (n minus us and the suspect).
    const n = this.nodes.length;
    let k = this.config.suspicionMult - 2;
    if (n - 2 < k) k = 0;
    const min = suspicionTimeoutMs(this.config.suspicionMult, n, this.config.probeIntervalMs);
    const max = this.config.suspicionMaxTimeoutMult * min;
    const suspicion = new Suspicion(s.From, k, min, max, this.now);
    this.suspicions.set(s.Node, { suspicion, changeMs: this.now });
    this.timers.set(timerKey(TimerKind.Suspicion, s.Node), suspicion.deadlineMs);
    this.maybePrioritiseProbe(s);
  }

  /**
   * Someone else suspects `s.Node`: with probability `suspicionProbeFanout / (n - 2)` check it
   * ourselves on the next probe tick, so independent confirmations (or none, when it answers)
   * come within a probe interval instead of whenever round-robin gets there.
   */
  private maybePrioritiseProbe(s: Suspect): void {
    const fanout = this.config.suspicionProbeFanout;
    if (fanout === 0 || s.From === this.selfName || this.priorityProbe !== null) return;
    if (this.probe?.target === s.Node) return;
    const others = this.nodes.length - 2;
    if (others <= 0) return;
    if (others > fanout && this.rng.next() >= fanout / others) return;
    this.priorityProbe = s.Node;
  }

  private onSuspicionTimeout(name: string): void {
    const entry = this.suspicions.get(name);
    if (!entry) return;
    this.suspicions.delete(name);
    const state = this.nodeMap.get(name);
    // Only the suspicion that is still current may kill the member.
    if (!state || state.state !== 'suspect' || state.stateChangeMs !== entry.changeMs) return;
    const dead: Dead = { Incarnation: state.incarnation, Node: state.name, From: this.selfName };
    this.deadNode(dead);
    this.sendDirect(dead, this.config.deadNoticeFanout);
  }

  /**
   * Sends a `dead` message, alone in its packet, to up to `fanout` random alive members: a leave
   * (see {@link leave}) or a death this node declared (`deadNoticeFanout`).
   */
  private sendDirect(dead: Dead, fanout: number): void {
    if (fanout <= 0) return;
    const alive = this.nodes.filter((n) => n.name !== this.selfName && n.state === 'alive');
    for (const n of shuffle(this.rng, alive).slice(0, fanout)) {
      this.transmits.push({
        to: { addr: addressOf(n.addr, n.port), name: n.name },
        messages: [{ type: MessageType.Dead, body: dead }],
        crc: n.pMax >= 5,
      });
    }
  }

  /** memberlist `deadNode`: `From === Node` means the member left. */
  private deadNode(d: Dead): void {
    const state = this.nodeMap.get(d.Node);
    if (!state) return;
    if (d.Incarnation < state.incarnation) return;
    this.clearSuspicion(d.Node);
    if (state.state === 'dead' || state.state === 'left') return;

    if (state.name === this.selfName) {
      if (!this.left) {
        this.refute(state, d.Incarnation);
        return;
      }
      this.queueMembership(d.Node, { type: MessageType.Dead, body: d }, () => this.completeLeave());
    } else {
      this.queueMembership(d.Node, { type: MessageType.Dead, body: d });
    }

    state.incarnation = d.Incarnation;
    state.state = d.Node === d.From ? 'left' : 'dead';
    state.stateChangeMs = this.now;
    this.events.push({
      type: state.state === 'left' ? 'member-left' : 'member-failed',
      member: toMember(state),
    });
  }

  /** memberlist `mergeState`: a remote dead is only a suspicion here; left is believed. */
  private mergeState(remote: readonly PushNodeState[]): void {
    for (const r of remote) {
      switch (r.State) {
        case NodeStateType.Alive: {
          this.aliveNode(
            {
              Incarnation: r.Incarnation,
              Node: r.Name,
              Addr: r.Addr,
              Port: r.Port,
              Meta: r.Meta,
              Vsn: r.Vsn,
            },
            false,
          );
          break;
        }
        case NodeStateType.Left:
          this.deadNode({ Incarnation: r.Incarnation, Node: r.Name, From: r.Name });
          break;
        case NodeStateType.Dead:
        case NodeStateType.Suspect:
          this.suspectNode({ Incarnation: r.Incarnation, Node: r.Name, From: this.selfName });
          break;
      }
    }
  }

  /** memberlist `mergeRemoteState`; returns the reason when the state is refused. */
  private mergeRemoteState(
    join: boolean,
    remote: readonly PushNodeState[],
    userState: Uint8Array,
  ): string | null {
    const fixed = remote.map((r) =>
      this.config.protocolVersion < 2 || r.Port === 0 ? { ...r, Port: this.config.bindPort } : r,
    );
    const problem = verifyProtocol(
      fixed,
      this.nodes.map((n) => ({ ...n, alive: n.state === 'alive' })),
    );
    if (problem) {
      this.drop('incompatible-protocol');
      return problem;
    }
    if (join && this.delegate.notifyMerge) {
      const reason = this.delegate.notifyMerge(
        fixed.map((r) => ({
          name: r.Name,
          addr: r.Addr,
          port: r.Port,
          meta: r.Meta,
          state: stateFromWire(r.State),
          vsn: r.Vsn,
        })),
      );
      if (reason !== null) {
        this.drop('merge-rejected');
        return reason;
      }
    }
    this.mergeState(fixed);
    if (userState.length > 0) this.delegate.mergeRemoteState?.(userState, join);
    return null;
  }

  // ---------------------------------------------------------------- dissemination

  /** memberlist `gossip`: piggyback-only packets to a few alive, suspect or recently dead members. */
  private gossip(): void {
    const targets = kRandom(this.rng, this.config.gossipNodes, this.nodes, (n) => {
      if (n.name === this.selfName) return true;
      switch (n.state) {
        case 'alive':
        case 'suspect':
          return false;
        case 'dead':
          return this.now - n.stateChangeMs > this.config.gossipToTheDeadTimeMs;
        default:
          return true;
      }
    });
    const bytesAvail =
      this.config.udpBufferSize - COMPOUND_HEADER_OVERHEAD - this.encryptionOverhead;
    for (const node of targets) {
      const msgs = this.getBroadcasts(COMPOUND_OVERHEAD, bytesAvail);
      if (msgs.length === 0) return;
      this.transmits.push({
        to: { addr: addressOf(node.addr, node.port), name: node.name },
        messages: msgs.slice(0, COMPOUND_MAX_PARTS),
        crc: node.pMax >= 5,
      });
    }
  }

  /** memberlist `getBroadcasts`: membership first, then user broadcasts in the space left. */
  private getBroadcasts(overhead: number, limit: number): Message[] {
    const { messages: out, bytesUsed } = this.broadcasts.takeBroadcasts(overhead, limit);
    const avail = limit - bytesUsed;
    if (avail > overhead + USER_MSG_OVERHEAD) {
      const userOverhead = overhead + USER_MSG_OVERHEAD;
      const user = this.userBroadcasts.getBroadcasts(userOverhead, avail);
      let userUsed = 0;
      for (const payload of user) {
        userUsed += payload.length + userOverhead;
        out.push({ type: MessageType.User, body: payload });
      }
      const rest = avail - userUsed;
      if (this.delegate.getBroadcasts && rest > userOverhead) {
        for (const payload of this.delegate.getBroadcasts(userOverhead, rest)) {
          out.push({ type: MessageType.User, body: payload });
        }
      }
    }
    return out;
  }

  /** memberlist `sendMsg`: one message plus whatever broadcasts fit beside it. */
  private sendMsg(to: SwimAddress, msg: Message): void {
    const bytesAvail =
      this.config.udpBufferSize -
      this.encodedSize(msg) -
      COMPOUND_HEADER_OVERHEAD -
      this.encryptionOverhead;
    const extra = this.getBroadcasts(COMPOUND_OVERHEAD, bytesAvail);
    const messages = extra.length === 0 ? [msg] : [msg, ...extra].slice(0, COMPOUND_MAX_PARTS);
    this.transmits.push({ to, messages, crc: this.crcFor(to.addr) });
  }

  /**
   * memberlist's `rawSendMsgPacket` without a node: it looks the destination host up as a node
   * name, so a CRC is added only when members are named by their IP and speak protocol 5.
   */
  private crcFor(addr: string): boolean {
    const host = splitHostPort(addr)?.host;
    const n = host === undefined ? undefined : this.nodeMap.get(host);
    return n !== undefined && n.pMax >= 5;
  }

  private queueMembership(node: string, message: Message, onFinished?: () => void): void {
    const b: QueuedBroadcast<Message> = {
      message,
      size: this.encodedSize(message),
      name: node,
      ...(onFinished ? { finished: onFinished } : {}),
    };
    this.broadcasts.queueBroadcast(b);
  }

  // ---------------------------------------------------------------- push-pull

  private periodicPushPull(): void {
    const [node] = kRandom(
      this.rng,
      1,
      this.nodes,
      (n) => n.name === this.selfName || n.state !== 'alive',
    );
    if (!node) return;
    this.requestPushPull({ addr: addressOf(node.addr, node.port), name: node.name }, false);
  }

  private requestPushPull(to: SwimAddress, join: boolean): void {
    const id = ++this.streamId;
    this.pendingStreams.set(id, { kind: 'push-pull', to, join });
    this.streamRequests.push({
      kind: 'push-pull',
      id,
      to,
      local: this.localState(join),
      deadlineMs: this.now + this.config.tcpTimeoutMs,
    });
  }

  /** memberlist `sendLocalState`: every entry of the node list, dead ones included. */
  private localState(join: boolean): PushPullState {
    const nodes: PushNodeState[] = this.nodes.map((n) => ({
      Name: n.name,
      Addr: n.addr,
      Port: n.port,
      Meta: n.meta,
      Incarnation: n.incarnation,
      State: stateToWire(n.state),
      Vsn: vsnOf(n),
    }));
    return { join, nodes, userState: this.delegate.localState?.(join) ?? new Uint8Array(0) };
  }

  // ---------------------------------------------------------------- helpers

  private advance(nowMs: number): void {
    // The clock never runs backwards inside the core, whatever the shell passes.
    if (nowMs > this.now) this.now = nowMs;
  }

  private drop(reason: SwimDropReason): void {
    this.drops[reason]++;
  }

  private applyAwareness(delta: number): void {
    if (delta !== 0 && this.awareness.applyDelta(delta)) {
      this.events.push({ type: 'health-score', score: this.awareness.healthScore });
    }
  }

  private clearSuspicion(name: string): void {
    if (this.suspicions.delete(name)) this.timers.cancel(timerKey(TimerKind.Suspicion, name));
  }

  private completeLeave(): void {
    if (this.leaveCompleted) return;
    this.leaveCompleted = true;
    this.events.push({ type: 'leave-complete' });
  }

  private anyAlive(): boolean {
    return this.nodes.some(
      (n) => n.name !== this.selfName && n.state !== 'dead' && n.state !== 'left',
    );
  }

  private nextSeqNo(): number {
    this.sequenceNum = (this.sequenceNum + 1) >>> 0;
    return this.sequenceNum;
  }

  private nextIncarnation(): number {
    this.incarnationCounter = (this.incarnationCounter + 1) >>> 0;
    return this.incarnationCounter;
  }

  private buildVsn(): Uint8Array {
    const c = this.config;
    return Uint8Array.from([
      PROTOCOL_VERSION_MIN,
      PROTOCOL_VERSION_MAX,
      c.protocolVersion,
      c.delegateProtocolMin,
      c.delegateProtocolMax,
      c.delegateProtocolVersion,
    ]);
  }

  private makePing(seqNo: number, node: string): Ping {
    return {
      SeqNo: seqNo,
      Node: node,
      SourceAddr: this.selfAddr,
      SourcePort: this.selfPort,
      SourceNode: this.selfName,
    };
  }

  /** Where to answer: the source the message names (protocol 5, NAT), else the packet's sender. */
  private replyAddress(
    from: string,
    sourceAddr?: Uint8Array,
    sourcePort?: number,
    sourceNode?: string,
  ): SwimAddress {
    const addr =
      sourceAddr && sourceAddr.length > 0 && sourcePort && sourcePort > 0
        ? addressOf(sourceAddr, sourcePort)
        : from;
    return { addr, name: sourceNode ?? '' };
  }
}

/** The next instant of a fixed-period ticker that already fired at `atMs`; missed ticks are dropped. */
function nextTick(atMs: number, periodMs: number, nowMs: number): number {
  const next = atMs + periodMs;
  if (next > nowMs) return next;
  return atMs + periodMs * (Math.floor((nowMs - atMs) / periodMs) + 1);
}

function checkMeta(meta: Uint8Array): void {
  if (meta.length > META_MAX_SIZE) {
    throw new RangeError(`Node meta is ${meta.length} bytes; the limit is ${META_MAX_SIZE}`);
  }
}
