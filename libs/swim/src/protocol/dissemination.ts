/**
 * Dissemination, the SWIM core's gossip and push-pull (memberlist `broadcast.go`, the gossip and
 * push-pull halves of `state.go` and `net.go`): the transmit-limited queues of membership and user
 * broadcasts, piggybacked on every packet the core sends and carried by the gossip tick to a few
 * random members; and the periodic full-state exchange with one random member, whose local half
 * ({@link Dissemination.localState}) also answers a peer's push-pull. Merging a remote state is a
 * membership rule and lives in `member-state.ts`.
 */
import { kRandom, randomInt } from '@plumtree/common';
import { MessageType } from '../wire/message-types.js';
import type { Message, PushNodeState } from '../wire/messages.js';
import { addressOf, splitHostPort, type SwimAddress } from './address.js';
import { pushPullScaleMs } from './formulas.js';
import { stateToWire, vsnOf } from './node-state.js';
import type { SwimContext } from './swim-context.js';
import { nextTick, TimerKind } from './timer-table.js';
import { TransmitLimitedQueue } from './transmit-limited-queue.js';
import type { PushPullState } from './types.js';

/** Assumed size of a compound message's header (memberlist `compoundHeaderOverhead`). */
export const COMPOUND_HEADER_OVERHEAD = 2;
/** Assumed size per part of a compound message (memberlist `compoundOverhead`). */
export const COMPOUND_OVERHEAD = 2;
/** The user message type byte in front of each user broadcast (memberlist `userMsgOverhead`). */
export const USER_MSG_OVERHEAD = 1;
/** A compound message counts its parts in one byte. */
const COMPOUND_MAX_PARTS = 255;

/** How a user broadcast is queued (see `SwimCore.queueBroadcast`). */
export interface UserBroadcastOptions {
  readonly name?: string;
  readonly unique?: boolean;
  readonly onFinished?: () => void;
}

/** The broadcast queues, the gossip tick and push-pull of one core. */
export class Dissemination {
  private readonly broadcasts: TransmitLimitedQueue<Message>;
  private readonly userBroadcasts: TransmitLimitedQueue<Uint8Array>;
  /** The seed of our last join, for the next push-pull (see {@link followUpJoin}). */
  private followUpTo: SwimAddress | undefined;

  constructor(
    private readonly ctx: SwimContext,
    /** Encoded size of a message (the codec's exact function or an estimate). */
    private readonly encodedSize: (message: Message) => number,
    /** Bytes the shell adds to each packet (encryption, label, CRC), off every packet budget. */
    private readonly packetOverhead: number,
  ) {
    const members = (): number => ctx.table.size;
    this.broadcasts = new TransmitLimitedQueue<Message>(ctx.config.retransmitMult, members);
    this.userBroadcasts = new TransmitLimitedQueue<Uint8Array>(ctx.config.retransmitMult, members);
  }

  /** Membership broadcasts and user broadcasts waiting to be piggybacked. */
  get queued(): { membership: number; user: number } {
    return { membership: this.broadcasts.length, user: this.userBroadcasts.length };
  }

  /**
   * Arm the gossip and push-pull timers. Go tickers start when memberlist is created; the random
   * stagger of `triggerFunc` only delays the first read of a tick already pending, so the first
   * gossip comes one period in. pushPullTrigger waits a random stagger, then the scaled interval.
   */
  start(): void {
    const { config: c, timers, now } = this.ctx;
    if (c.gossipIntervalMs > 0 && c.gossipNodes > 0) {
      timers.set(TimerKind.GossipTick, now + c.gossipIntervalMs);
    }
    if (c.pushPullIntervalMs > 0) {
      const stagger = randomInt(this.ctx.rng, c.pushPullIntervalMs);
      timers.set(
        TimerKind.PushPullTick,
        now + stagger + pushPullScaleMs(c.pushPullIntervalMs, this.ctx.table.size),
      );
    }
  }

  /** The gossip timer fired (scheduled for `atMs`): re-arm it and gossip. */
  onGossipTick(atMs: number): void {
    const { config, timers, now } = this.ctx;
    timers.set(TimerKind.GossipTick, nextTick(atMs, config.gossipIntervalMs, now));
    this.gossip();
  }

  /** The push-pull timer fired: re-arm it for the scaled interval, then exchange with someone. */
  onPushPullTick(): void {
    const { config, timers, now, table } = this.ctx;
    timers.set(
      TimerKind.PushPullTick,
      now + pushPullScaleMs(config.pushPullIntervalMs, table.size),
    );
    const seed = this.followUpTo;
    this.followUpTo = undefined;
    if (seed !== undefined) {
      this.requestPushPull(seed, false);
      return;
    }
    const [node] = kRandom(
      this.ctx.rng,
      1,
      table.nodes,
      (n) => n.name === table.localName || n.state !== 'alive',
    );
    if (!node) return;
    this.requestPushPull({ addr: addressOf(node.addr, node.port), name: node.name }, false);
  }

  /**
   * A join of ours was answered by `seed` (`joinPushPullDelayMs`, ours): push-pull with that seed
   * again that long from now, unless the regular push-pull comes sooner, to learn the members it
   * admitted while our join was under way. The seed, not a random member: every member that
   * joined through it is in its state, so two members that joined it at the same moment (each
   * missing from the other's answer, and so from its join notice) learn each other then at the
   * latest.
   */
  followUpJoin(seed: SwimAddress): void {
    const { config: c, timers, now } = this.ctx;
    if (c.joinPushPullDelayMs <= 0 || c.pushPullIntervalMs <= 0) return;
    this.followUpTo = seed;
    const at = now + c.joinPushPullDelayMs;
    const current = timers.get(TimerKind.PushPullTick);
    if (current === undefined || at < current) timers.set(TimerKind.PushPullTick, at);
  }

  /** Ask for a push-pull stream to `to` carrying our full state (a join when `join`). */
  requestPushPull(to: SwimAddress, join: boolean): void {
    this.ctx.openStream({ kind: 'push-pull', to, join }, (id) => ({
      kind: 'push-pull',
      id,
      to,
      local: this.localState(join),
      deadlineMs: this.ctx.now + this.ctx.config.tcpTimeoutMs,
    }));
  }

  /** memberlist `sendLocalState`: every entry of the node list, dead ones included. */
  localState(join: boolean): PushPullState {
    const nodes: PushNodeState[] = this.ctx.table.nodes.map((n) => ({
      Name: n.name,
      Addr: n.addr,
      Port: n.port,
      Meta: n.meta,
      Incarnation: n.incarnation,
      State: stateToWire(n.state),
      Vsn: vsnOf(n),
    }));
    const userState = this.ctx.delegate.localState?.(join) ?? new Uint8Array(0);
    return { join, nodes, userState };
  }

  /** Queue a membership broadcast about `node`; a newer one about the same node replaces it. */
  queueMembership(node: string, message: Message, onFinished?: () => void): void {
    this.broadcasts.queueBroadcast({
      message,
      size: this.encodedSize(message),
      name: node,
      // Ours: an alive (a join, a refutation, a meta update) reaches everyone or costs a push-pull
      // interval of not being listed; see `aliveRetransmitFloor`.
      ...(message.type === MessageType.Alive
        ? { minTransmits: this.ctx.config.aliveRetransmitFloor }
        : {}),
      ...(onFinished ? { finished: onFinished } : {}),
    });
  }

  /** Queue a user broadcast (see `SwimCore.queueBroadcast`). */
  queueUser(payload: Uint8Array, options: UserBroadcastOptions): void {
    this.userBroadcasts.queueBroadcast({
      message: payload,
      size: payload.length,
      ...(options.name !== undefined ? { name: options.name } : {}),
      ...(options.unique ? { unique: true } : {}),
      ...(options.onFinished ? { finished: options.onFinished } : {}),
    });
  }

  /** memberlist `sendMsg`: one message plus whatever broadcasts fit beside it. */
  sendMsg(to: SwimAddress, msg: Message): void {
    const bytesAvail =
      this.ctx.config.udpBufferSize -
      this.encodedSize(msg) -
      COMPOUND_HEADER_OVERHEAD -
      this.packetOverhead;
    const extra = this.getBroadcasts(COMPOUND_OVERHEAD, bytesAvail);
    const messages = extra.length === 0 ? [msg] : [msg, ...extra].slice(0, COMPOUND_MAX_PARTS);
    this.ctx.transmits.push({ to, messages, crc: this.crcFor(to.addr) });
  }

  /**
   * memberlist's `rawSendMsgPacket` without a node: it looks the destination host up as a node
   * name, so a CRC is added only when members are named by their IP and speak protocol 5.
   */
  crcFor(addr: string): boolean {
    const host = splitHostPort(addr)?.host;
    const n = host === undefined ? undefined : this.ctx.table.get(host);
    return n !== undefined && n.pMax >= 5;
  }

  /** memberlist `gossip`: piggyback-only packets to a few alive, suspect or recently dead members. */
  private gossip(): void {
    const { config, table, now } = this.ctx;
    const targets = kRandom(this.ctx.rng, config.gossipNodes, table.nodes, (n) => {
      if (n.name === table.localName) return true;
      switch (n.state) {
        case 'alive':
        case 'suspect':
          return false;
        case 'dead':
          return now - n.stateChangeMs > config.gossipToTheDeadTimeMs;
        default:
          return true;
      }
    });
    const bytesAvail = config.udpBufferSize - COMPOUND_HEADER_OVERHEAD - this.packetOverhead;
    for (const node of targets) {
      const msgs = this.getBroadcasts(COMPOUND_OVERHEAD, bytesAvail);
      if (msgs.length === 0) return;
      this.ctx.transmitTo(node, msgs.slice(0, COMPOUND_MAX_PARTS));
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
      const delegate = this.ctx.delegate;
      if (delegate.getBroadcasts && rest > userOverhead) {
        for (const payload of delegate.getBroadcasts(userOverhead, rest)) {
          out.push({ type: MessageType.User, body: payload });
        }
      }
    }
    return out;
  }
}
