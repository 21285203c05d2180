/**
 * The membership rules of the SWIM core (memberlist `state.go` `aliveNode`, `suspectNode`,
 * `deadNode`, `refute`, `mergeState`, and `net.go` `mergeRemoteState`): what an alive, suspect
 * or dead claim does to a member's record, incarnation numbers and refutation of claims about the
 * local node, Lifeguard's suspicion timers with independent confirmations, dead vs left, the
 * leave, and the merge of a remote push-pull state. Every accepted change is re-broadcast through
 * dissemination and announced as an event.
 */
import { shuffle } from '@plumtree/common';
import {
  META_MAX_SIZE,
  PROTOCOL_VERSION_MAX,
  PROTOCOL_VERSION_MIN,
} from '../config/swim-config.js';
import { MessageType, NodeStateType } from '../wire/message-types.js';
import type { Alive, Dead, Message, PushNodeState, Suspect } from '../wire/messages.js';
import { addressOf, bytesEqual } from './address.js';
import type { Dissemination } from './dissemination.js';
import { suspicionTimeoutMs } from './formulas.js';
import { setVsn, stateFromWire, toMember, vsnOf, type NodeState } from './node-state.js';
import { verifyProtocol } from './protocol-versions.js';
import { Suspicion } from './suspicion.js';
import type { SwimContext } from './swim-context.js';
import { TimerKind, timerKey } from './timer-table.js';

/** The alive message announcing `n` as it is now. */
function aliveMessage(n: NodeState): Message {
  return {
    type: MessageType.Alive,
    body: {
      Incarnation: n.incarnation,
      Node: n.name,
      Addr: n.addr,
      Port: n.port,
      Meta: n.meta,
      Vsn: vsnOf(n),
    },
  };
}

/** Alive members a leaving node tells directly, besides gossiping its leave (see `leave`). */
export const LEAVE_DIRECT_FANOUT = 32;

/** What the membership rules need from probing. */
export interface MembershipHost {
  /** Lifeguard: move the local health score (being accused costs a point). */
  applyAwareness(delta: number): void;
  /** Another member suspects `s.Node`: maybe probe it next (`suspicionProbeFanout`). */
  maybePrioritise(s: Suspect): void;
}

/** The member records' state machine of one core. */
export class Membership {
  /** Times this node refuted a suspicion or death claim about itself. */
  refuteCount = 0;
  private incarnationCounter: number;
  private left = false;
  private leaveCompleted = false;
  private readonly suspicions = new Map<string, { suspicion: Suspicion; changeMs: number }>();

  constructor(
    private readonly ctx: SwimContext,
    private readonly dissemination: Dissemination,
    private readonly host: MembershipHost,
    /** The incarnation of a previous life: the first announcement goes above it. */
    incarnation: number,
  ) {
    this.incarnationCounter = incarnation;
  }

  /** Whether {@link leave} was called. */
  get hasLeft(): boolean {
    return this.left;
  }

  /** The running suspicion of a member: when it will be declared dead, and the confirmations so far. */
  suspicion(name: string): { deadlineMs: number; confirmations: number } | undefined {
    const entry = this.suspicions.get(name);
    return entry
      ? { deadlineMs: entry.suspicion.deadlineMs, confirmations: entry.suspicion.confirmations }
      : undefined;
  }

  /**
   * Announce the local node alive at a new incarnation with `meta` (memberlist `setAlive` at
   * start, `UpdateNode` later); `onFinished` runs once the broadcast is fully retransmitted.
   * Returns the incarnation. Throws a RangeError for meta above 512 bytes.
   */
  announce(meta: Uint8Array, onFinished?: (incarnation: number) => void): number {
    if (meta.length > META_MAX_SIZE) {
      throw new RangeError(`Node meta is ${meta.length} bytes; the limit is ${META_MAX_SIZE}`);
    }
    const { local, config: c } = this.ctx;
    const incarnation = this.nextIncarnation();
    const vsn = Uint8Array.from([
      PROTOCOL_VERSION_MIN,
      PROTOCOL_VERSION_MAX,
      c.protocolVersion,
      c.delegateProtocolMin,
      c.delegateProtocolMax,
      c.delegateProtocolVersion,
    ]);
    this.aliveNode(
      {
        Incarnation: incarnation,
        Node: local.name,
        Addr: local.addr,
        Port: local.port,
        Meta: meta,
        Vsn: vsn,
      },
      true,
      onFinished && (() => onFinished(incarnation)),
    );
    return incarnation;
  }

  /** An alive message from the network. Protocol < 2 carries no port: peers use our bind port. */
  receiveAlive(a: Alive): void {
    const port = this.fixPort(a.Port);
    this.aliveNode(port === a.Port ? a : { ...a, Port: port }, false);
  }

  /** memberlist `aliveNode`. `bootstrap` marks our own announcements (start, meta update). */
  private aliveNode(a: Alive, bootstrap: boolean, onBroadcastFinished?: () => void): void {
    const { ctx } = this;
    if (this.left && a.Node === ctx.local.name) return;
    if (a.Vsn.length >= 3) {
      const pMin = a.Vsn[0]!;
      const pMax = a.Vsn[1]!;
      if (pMin === 0 || pMax === 0 || pMin > pMax) {
        ctx.drop('bad-protocol-version');
        return;
      }
    }
    if (ctx.delegate.notifyAlive) {
      if (a.Vsn.length < 6) {
        ctx.drop('alive-filtered');
        return;
      }
      const reason = ctx.delegate.notifyAlive({
        name: a.Node,
        addr: a.Addr,
        port: a.Port,
        meta: a.Meta,
        state: 'alive',
        vsn: a.Vsn,
      });
      if (reason !== null) {
        ctx.drop('alive-filtered');
        return;
      }
    }

    let state = ctx.table.get(a.Node);
    let updatesNode = false;
    if (!state) {
      state = {
        name: a.Node,
        addr: a.Addr,
        port: a.Port,
        meta: a.Meta,
        incarnation: 0,
        state: 'dead',
        stateChangeMs: ctx.now,
        pMin: 0,
        pMax: 0,
        pCur: 0,
        dMin: 0,
        dMax: 0,
        dCur: 0,
      };
      if (a.Vsn.length > 5) setVsn(state, a.Vsn);
      ctx.table.insert(state, ctx.rng);
    } else if (!bytesEqual(state.addr, a.Addr) || state.port !== a.Port) {
      const reclaimMs = ctx.config.deadNodeReclaimTimeMs;
      const canReclaim = reclaimMs > 0 && ctx.now - state.stateChangeMs > reclaimMs;
      if (state.state === 'left' || (state.state === 'dead' && canReclaim)) {
        updatesNode = true;
      } else {
        ctx.events.push({
          type: 'conflict',
          existing: toMember(state),
          other: { name: a.Node, address: addressOf(a.Addr, a.Port), meta: a.Meta },
        });
        return;
      }
    }

    const isLocal = state.name === ctx.local.name;
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
      const alive = { type: MessageType.Alive, body: a } as const;
      this.dissemination.queueMembership(a.Node, alive, onBroadcastFinished);
      if (a.Vsn.length > 0) setVsn(state, a.Vsn);
      state.incarnation = a.Incarnation;
      state.meta = a.Meta;
      state.addr = a.Addr;
      state.port = a.Port;
      if (state.state !== 'alive') {
        state.state = 'alive';
        state.stateChangeMs = ctx.now;
      }
    }

    if (oldState === 'dead' || oldState === 'left') {
      ctx.events.push({ type: 'member-join', member: toMember(state) });
    } else if (!bytesEqual(oldMeta, state.meta)) {
      ctx.events.push({ type: 'member-update', member: toMember(state) });
    }
  }

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
    this.host.applyAwareness(1);
    this.dissemination.queueMembership(me.name, aliveMessage(me));
  }

  /**
   * A join of ours was answered with `remote` (`joinNoticeFanout`, ours): tell up to that many of
   * its alive members directly that this node is here, beside gossiping it. Each of them was
   * admitted by the seed before this node and would otherwise learn of it by gossip only.
   */
  noticeJoin(remote: readonly PushNodeState[]): void {
    const { ctx } = this;
    const fanout = ctx.config.joinNoticeFanout;
    if (fanout <= 0 || this.left) return;
    const named = new Set<string>();
    for (const r of remote) if (r.State === NodeStateType.Alive) named.add(r.Name);
    const targets = ctx.table.aliveOthers().filter((n) => named.has(n.name));
    const alive = aliveMessage(ctx.table.local);
    for (const n of shuffle(ctx.rng, targets).slice(0, fanout)) ctx.transmitTo(n, [alive]);
  }

  /** memberlist `suspectNode`, with Lifeguard's confirmations. */
  suspectNode(s: Suspect): void {
    const { ctx } = this;
    const state = ctx.table.get(s.Node);
    if (!state) return;
    if (s.Incarnation < state.incarnation) return;

    const timer = this.suspicions.get(s.Node);
    if (timer) {
      // An independent confirmation: re-gossip it so others can count it too.
      if (timer.suspicion.confirm(s.From, ctx.now)) {
        ctx.timers.set(timerKey(TimerKind.Suspicion, s.Node), timer.suspicion.deadlineMs);
        this.dissemination.queueMembership(s.Node, { type: MessageType.Suspect, body: s });
      }
      return;
    }
    if (state.state !== 'alive') return;

    if (state.name === ctx.local.name) {
      this.refute(state, s.Incarnation);
      return;
    }
    this.dissemination.queueMembership(s.Node, { type: MessageType.Suspect, body: s });

    state.incarnation = s.Incarnation;
    state.state = 'suspect';
    state.stateChangeMs = ctx.now;
    ctx.events.push({ type: 'member-suspect', member: toMember(state), from: s.From });

    // Expect k confirmations so the nominal timeout is reached two probe intervals short of
    // suspicionMult; none when too few members remain (n minus us and the suspect).
    const { suspicionMult, suspicionMaxTimeoutMult, probeIntervalMs } = ctx.config;
    const n = ctx.table.size;
    let k = suspicionMult - 2;
    if (n - 2 < k) k = 0;
    const min = suspicionTimeoutMs(suspicionMult, n, probeIntervalMs);
    const max = suspicionMaxTimeoutMult * min;
    const suspicion = new Suspicion(s.From, k, min, max, ctx.now);
    this.suspicions.set(s.Node, { suspicion, changeMs: ctx.now });
    ctx.timers.set(timerKey(TimerKind.Suspicion, s.Node), suspicion.deadlineMs);
    this.host.maybePrioritise(s);
  }

  /** A suspicion timer ran out: the member is dead, unless the suspicion is no longer current. */
  onSuspicionTimeout(name: string): void {
    const { ctx } = this;
    const entry = this.suspicions.get(name);
    if (!entry) return;
    this.suspicions.delete(name);
    const state = ctx.table.get(name);
    // Only the suspicion that is still current may kill the member.
    if (!state || state.state !== 'suspect' || state.stateChangeMs !== entry.changeMs) return;
    const dead: Dead = { Incarnation: state.incarnation, Node: state.name, From: ctx.local.name };
    this.deadNode(dead);
    this.sendDirect(dead, ctx.config.deadNoticeFanout);
  }

  /** memberlist `deadNode`: `From === Node` means the member left. */
  deadNode(d: Dead): void {
    const { ctx } = this;
    const state = ctx.table.get(d.Node);
    if (!state) return;
    if (d.Incarnation < state.incarnation) return;
    this.clearSuspicion(d.Node);
    if (state.state === 'dead' || state.state === 'left') return;

    const dead = { type: MessageType.Dead, body: d } as const;
    if (state.name === ctx.local.name) {
      if (!this.left) {
        this.refute(state, d.Incarnation);
        return;
      }
      this.dissemination.queueMembership(d.Node, dead, () => this.completeLeave());
    } else {
      this.dissemination.queueMembership(d.Node, dead);
    }

    state.incarnation = d.Incarnation;
    state.state = d.Node === d.From ? 'left' : 'dead';
    state.stateChangeMs = ctx.now;
    ctx.events.push({
      type: state.state === 'left' ? 'member-left' : 'member-failed',
      member: toMember(state),
    });
  }

  /**
   * Leave gracefully: a dead message about ourselves with `From` = our name, which peers record as
   * `left`; `leave-complete` follows once it has been fully retransmitted, at once when no other
   * member is alive.
   */
  leave(): void {
    if (this.left) return;
    this.left = true;
    const self = this.ctx.table.local;
    const dead: Dead = { Incarnation: self.incarnation, Node: self.name, From: self.name };
    this.deadNode(dead);
    // memberlist only gossips the leave, a retransmit-limited number of times to random members,
    // the recently dead included, so after other failures every copy can go to dead nodes and the
    // live ones later time us out as "failed". One direct packet to a bounded random set of alive
    // members makes the leave land at once; peers treat it as any gossiped dead message.
    this.sendDirect(dead, LEAVE_DIRECT_FANOUT);
    if (!this.ctx.table.anyLiveOther()) this.completeLeave();
  }

  /**
   * Sends a `dead` message, alone in its packet, to up to `fanout` random alive members: a leave
   * (see {@link leave}) or a death this node declared (`deadNoticeFanout`).
   */
  private sendDirect(dead: Dead, fanout: number): void {
    if (fanout <= 0) return;
    for (const n of shuffle(this.ctx.rng, this.ctx.table.aliveOthers()).slice(0, fanout)) {
      this.ctx.transmitTo(n, [{ type: MessageType.Dead, body: dead }]);
    }
  }

  /** memberlist `mergeRemoteState`; returns the reason when the state is refused. */
  mergeRemoteState(
    join: boolean,
    remote: readonly PushNodeState[],
    userState: Uint8Array,
  ): string | null {
    const { ctx } = this;
    const fixed = remote.map((r) => {
      const port = this.fixPort(r.Port);
      return port === r.Port ? r : { ...r, Port: port };
    });
    const problem = verifyProtocol(
      fixed,
      ctx.table.nodes.map((n) => ({ ...n, alive: n.state === 'alive' })),
    );
    if (problem) {
      ctx.drop('incompatible-protocol');
      return problem;
    }
    if (join && ctx.delegate.notifyMerge) {
      const reason = ctx.delegate.notifyMerge(
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
        ctx.drop('merge-rejected');
        return reason;
      }
    }
    this.mergeState(fixed);
    if (userState.length > 0) ctx.delegate.mergeRemoteState?.(userState, join);
    return null;
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
          this.suspectNode({ Incarnation: r.Incarnation, Node: r.Name, From: this.ctx.local.name });
          break;
      }
    }
  }

  /** Drop a member's suspicion and its timer. */
  clearSuspicion(name: string): void {
    if (this.suspicions.delete(name)) this.ctx.timers.cancel(timerKey(TimerKind.Suspicion, name));
  }

  /** A port as peers mean it: protocol < 2 and port 0 mean our bind port. */
  private fixPort(port: number): number {
    const { config } = this.ctx;
    return config.protocolVersion < 2 || port === 0 ? config.bindPort : port;
  }

  private completeLeave(): void {
    if (this.leaveCompleted) return;
    this.leaveCompleted = true;
    this.ctx.events.push({ type: 'leave-complete' });
  }

  private nextIncarnation(): number {
    this.incarnationCounter = (this.incarnationCounter + 1) >>> 0;
    return this.incarnationCounter;
  }
}
