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
 * It is split the way memberlist splits its own, over one shared member table
 * (`member-table.ts`) and one shared state (`swim-context.ts`: config, RNG, timer table, output
 * queues, pending streams): probing and awareness in `probing.ts`, the membership rules
 * (alive/suspect/dead, refutation, suspicion timers, merge of remote state) in
 * `member-state.ts`, gossip, the broadcast queues and push-pull in `dissemination.ts`. This class
 * is the public face: it validates the options, routes each input to its part and fires timers.
 *
 * The four kinds of methods of a sans-IO core (quinn-proto's shape, as the Plumtree core's):
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
 * arm the one real timer of the shell for that instant, calling `handleTimeout(now)` when it
 * fires. Transmits and stream requests never depend on events being drained; events are only
 * notifications.
 */
import { createRng, type Rng } from '@plumtree/common';
import { resolveSwimConfig } from '../config/swim-config.js';
import type { SwimConfig, SwimConfigInput } from '../config/swim-config.js';
import { MessageType } from '../wire/message-types.js';
import type { AckResp, Message, Ping, PushNodeState } from '../wire/messages.js';
import { addressOf, parseIp, type SwimAddress } from './address.js';
import { Dissemination } from './dissemination.js';
import { MemberTable } from './member-table.js';
import { Membership } from './member-state.js';
import { estimateEncodedSize } from './message-size.js';
import { toMember } from './node-state.js';
import { Prober } from './probing.js';
import { SwimContext, type PendingStream } from './swim-context.js';
import { parseTimerKey, TimerKind } from './timer-table.js';
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

export { COMPOUND_HEADER_OVERHEAD, COMPOUND_OVERHEAD, USER_MSG_OVERHEAD } from './dissemination.js';
export { LEAVE_DIRECT_FANOUT } from './member-state.js';

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

/**
 * One memberlist node's protocol state machine. See the file header for the method kinds and the
 * polling order.
 */
export class SwimCore {
  /** The validated configuration. */
  readonly config: SwimConfig;
  private readonly ctx: SwimContext;
  private readonly table: MemberTable;
  private readonly dissemination: Dissemination;
  private readonly membership: Membership;
  private readonly prober: Prober;

  /**
   * Validates the configuration (throws `SwimConfigError` listing every problem), announces the
   * local node as alive (a `member-join` event for itself and an alive broadcast, as memberlist's
   * `setAlive`) and arms the probe, gossip and push-pull timers.
   */
  constructor(options: SwimCoreOptions) {
    this.config = resolveSwimConfig(options.config);
    const addr = typeof options.addr === 'string' ? parseIp(options.addr) : options.addr;
    if (!addr || (addr.length !== 4 && addr.length !== 16)) {
      throw new TypeError(
        `SwimCore: addr must be an IPv4 or IPv6 address, got ${String(options.addr)}`,
      );
    }
    if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) {
      throw new RangeError(`SwimCore: port must be in [1, 65535], got ${options.port}`);
    }
    const local = { name: this.config.name, addr, port: options.port };
    this.table = new MemberTable(local.name);
    this.ctx = new SwimContext(
      this.config,
      options.rng ?? createRng(options.seed ?? 1),
      options.delegate ?? {},
      local,
      this.table,
      options.nowMs,
    );
    this.dissemination = new Dissemination(
      this.ctx,
      options.encodedSize ?? estimateEncodedSize,
      options.encryptionOverheadBytes ?? 0,
    );
    this.membership = new Membership(
      this.ctx,
      this.dissemination,
      {
        applyAwareness: (delta) => this.prober.applyAwareness(delta),
        maybePrioritise: (s) => this.prober.maybePrioritise(s),
      },
      options.incarnation ?? 0,
    );
    this.prober = new Prober(this.ctx, this.dissemination, {
      suspect: (s) => this.membership.suspectNode(s),
      clearSuspicion: (name) => this.membership.clearSuspicion(name),
    });
    this.membership.announce(options.meta ?? new Uint8Array(0));
    // Arming order decides which of two equal deadlines fires first: probe, gossip, push-pull.
    this.prober.start();
    this.dissemination.start();
  }

  // ---------------------------------------------------------------- getters

  /** This node's name. */
  get localName(): string {
    return this.table.localName;
  }

  /** This node as the cluster sees it. */
  get localMember(): SwimMember {
    return toMember(this.table.local);
  }

  /** This node's current incarnation. */
  get incarnation(): number {
    return this.table.local.incarnation;
  }

  /** Whether {@link leave} was called. */
  get hasLeft(): boolean {
    return this.membership.hasLeft;
  }

  /** Lifeguard health score: 0 healthy, up to `awarenessMaxMultiplier - 1`. */
  get healthScore(): number {
    return this.prober.healthScore;
  }

  /** Members that are alive or suspect, the local node included (memberlist `Members`). */
  members(): SwimMember[] {
    return this.table.members();
  }

  /** Every known member, dead and left ones not yet reaped included. */
  allMembers(): SwimMember[] {
    return this.table.nodes.map(toMember);
  }

  /** The member of that name, if known. */
  member(name: string): SwimMember | undefined {
    const n = this.table.get(name);
    return n ? toMember(n) : undefined;
  }

  /** Number of alive or suspect members, the local node included (memberlist `NumMembers`). */
  numMembers(): number {
    return this.table.numMembers();
  }

  /** memberlist's `estNumNodes`: every entry of the node list, dead ones not yet reaped included. */
  estNumNodes(): number {
    return this.table.size;
  }

  /** The running suspicion of a member: when it will be declared dead, and the confirmations so far. */
  suspicion(name: string): { deadlineMs: number; confirmations: number } | undefined {
    return this.membership.suspicion(name);
  }

  /** Membership broadcasts and user broadcasts waiting to be piggybacked. */
  get queuedBroadcasts(): { membership: number; user: number } {
    return this.dissemination.queued;
  }

  /**
   * Stream requests handed out and not yet answered through a `handle*` input. It returns to 0 once
   * the shell has reported every stream; a value that only grows means the shell drops outcomes.
   */
  get pendingStreamCount(): number {
    return this.ctx.pendingStreams.size;
  }

  /** Counters. */
  get stats(): SwimStats {
    return {
      drops: { ...this.ctx.drops },
      probes: this.prober.probeCount,
      probeFailures: this.prober.probeFailureCount,
      refutes: this.membership.refuteCount,
    };
  }

  // ---------------------------------------------------------------- outputs

  /** Next packet to send, or undefined. */
  pollTransmit(): SwimTransmit | undefined {
    return this.ctx.transmits.shift();
  }

  /** Next stream to open, or undefined. */
  pollStreamRequest(): SwimStreamRequest | undefined {
    return this.ctx.streamRequests.shift();
  }

  /** Next event, or undefined. */
  pollEvent(): SwimEvent | undefined {
    return this.ctx.events.shift();
  }

  /** The earliest deadline of the timer table, or undefined when nothing is armed. */
  pollTimeout(): number | undefined {
    return this.ctx.timers.next();
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
        this.prober.onPing(from, message.body);
        return;
      case MessageType.IndirectPing:
        this.prober.onIndirectPing(from, message.body);
        return;
      case MessageType.AckResp:
        this.prober.onAck(message.body);
        return;
      case MessageType.NackResp:
        this.prober.onNack(message.body.SeqNo);
        return;
      case MessageType.Suspect:
        this.membership.suspectNode(message.body);
        return;
      case MessageType.Alive:
        this.membership.receiveAlive(message.body);
        return;
      case MessageType.Dead:
        this.membership.deadNode(message.body);
        return;
      case MessageType.User:
        this.ctx.events.push({ type: 'user-message', from, payload: message.body });
        return;
      case MessageType.Err:
        this.ctx.drop('error-response');
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
    const answer = this.dissemination.localState(join);
    const problem = this.membership.mergeRemoteState(join, remoteStates, userState);
    if (problem) {
      this.ctx.events.push({
        type: 'push-pull-failed',
        peer: { addr: from, name: '' },
        error: problem,
      });
    }
    return answer;
  }

  /**
   * A peer pinged over a stream (the TCP fallback of its probe). Returns the ack to write back, or
   * null when the ping is addressed to another node name.
   */
  handleStreamPing(_from: string, ping: Ping, nowMs: number): AckResp | null {
    this.advance(nowMs);
    if (ping.Node !== '' && ping.Node !== this.localName) {
      this.ctx.drop('ping-wrong-node');
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
    const pending = this.takeStream(requestId, 'push-pull');
    if (!pending) return;
    const problem = this.membership.mergeRemoteState(pending.join, remoteStates, userState);
    if (pending.join) {
      if (!problem) {
        this.membership.noticeJoin(remoteStates);
        this.dissemination.followUpJoin(pending.to);
      }
      this.ctx.events.push(
        problem
          ? { type: 'join-result', seed: pending.to, ok: false, error: problem }
          : { type: 'join-result', seed: pending.to, ok: true },
      );
    } else if (problem) {
      this.ctx.events.push({ type: 'push-pull-failed', peer: pending.to, error: problem });
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
    const pending = this.takeStream(requestId, 'ping');
    if (pending) this.prober.onFallbackResult(requestId, pending, ack, refused);
  }

  /**
   * A reliable user message stream (`kind: 'user'`, from {@link sendReliable}) was written and
   * closed. It carries no answer, but the core tracks it until it hears the outcome, so the shell
   * reports success here as it reports failure through {@link handleStreamFailure}. An id that is
   * unknown or not a user stream is counted as `unknown-stream` and changes nothing.
   */
  handleStreamDone(requestId: number, nowMs: number): void {
    this.advance(nowMs);
    this.takeStream(requestId, 'user');
  }

  /** A stream the core asked for could not be completed (dial, write, read or decode failure). */
  handleStreamFailure(requestId: number, error: string, nowMs: number): void {
    this.advance(nowMs);
    const pending = this.takeStream(requestId);
    if (pending?.kind === 'push-pull') {
      this.ctx.events.push(
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
      const due = this.ctx.timers.popDue(this.ctx.now);
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
      this.dissemination.requestPushPull(to, true);
    }
  }

  /**
   * Leave gracefully: broadcast a dead message about ourselves with `From` = our name, which peers
   * record as `left`. A `leave-complete` event follows once the broadcast has been sent its full
   * retransmit count, at once when no other member is alive. Keep driving the core until then.
   */
  leave(nowMs: number): void {
    this.advance(nowMs);
    this.membership.leave();
  }

  /**
   * Publish new node meta (memberlist `UpdateNode`): a new incarnation and an alive broadcast.
   * Throws a RangeError above 512 bytes (memberlist panics). An `update-complete` event follows
   * once the broadcast is fully retransmitted.
   */
  updateMeta(meta: Uint8Array, nowMs: number): void {
    this.advance(nowMs);
    this.membership.announce(meta, (incarnation) =>
      this.ctx.events.push({ type: 'update-complete', incarnation }),
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
    this.dissemination.queueUser(payload, options);
  }

  /** Send a user message to a member in one packet, best effort (memberlist `SendBestEffort`). */
  sendBestEffort(name: string, payload: Uint8Array): boolean {
    const n = this.table.get(name);
    if (!n) return false;
    this.ctx.transmitTo(n, [{ type: MessageType.User, body: payload }]);
    return true;
  }

  /** Send a user message to an address in one packet (memberlist `SendToAddress`). */
  sendToAddress(to: SwimAddress, payload: Uint8Array): void {
    this.ctx.transmits.push({
      to,
      messages: [{ type: MessageType.User, body: payload }],
      crc: this.dissemination.crcFor(to.addr),
    });
  }

  /**
   * Send a user message over a stream (memberlist `SendReliable`). Returns the stream id, or null
   * for an unknown member. The shell must report the outcome with {@link handleStreamDone} or
   * {@link handleStreamFailure}; until then the id stays in the pending table.
   */
  sendReliable(name: string, payload: Uint8Array, nowMs: number): number | null {
    this.advance(nowMs);
    const n = this.table.get(name);
    if (!n) return null;
    const to = { addr: addressOf(n.addr, n.port), name: n.name };
    return this.ctx.openStream({ kind: 'user', to }, (id) => ({
      kind: 'user',
      id,
      to,
      payload,
      deadlineMs: this.ctx.now + this.config.tcpTimeoutMs,
    }));
  }

  /**
   * Ping `to` once outside the probe cycle (memberlist `Ping`); a `ping-result` event gives the RTT,
   * or null when no ack came within the probe timeout. Returns the sequence number.
   */
  ping(to: SwimAddress, nowMs: number): number {
    this.advance(nowMs);
    return this.prober.ping(to);
  }

  // ---------------------------------------------------------------- helpers

  private onTimer(key: string, atMs: number): void {
    const { kind, id } = parseTimerKey(key);
    switch (kind) {
      case TimerKind.ProbeTick:
        this.prober.onProbeTick(atMs);
        return;
      case TimerKind.GossipTick:
        this.dissemination.onGossipTick(atMs);
        return;
      case TimerKind.PushPullTick:
        this.dissemination.onPushPullTick();
        return;
      case TimerKind.ProbeTimeout:
        this.prober.onProbeTimeout();
        return;
      case TimerKind.ProbeDeadline:
        this.prober.onProbeDeadline();
        return;
      case TimerKind.AckHandler:
        this.prober.onAckHandlerExpired(Number(id));
        return;
      case TimerKind.Suspicion:
        this.membership.onSuspicionTimeout(id!);
        return;
    }
  }

  /**
   * Take the pending stream `requestId` out of the table when it is of `kind` (any kind when
   * omitted); otherwise count an `unknown-stream` drop and leave the table alone.
   */
  private takeStream<K extends PendingStream['kind']>(
    requestId: number,
    kind?: K,
  ): Extract<PendingStream, { kind: K }> | undefined {
    const pending = this.ctx.pendingStreams.get(requestId);
    if (!pending || (kind !== undefined && pending.kind !== kind)) {
      this.ctx.drop('unknown-stream');
      return undefined;
    }
    this.ctx.pendingStreams.delete(requestId);
    return pending as Extract<PendingStream, { kind: K }>;
  }

  private advance(nowMs: number): void {
    // The clock never runs backwards inside the core, whatever the shell passes.
    if (nowMs > this.ctx.now) this.ctx.now = nowMs;
  }
}
