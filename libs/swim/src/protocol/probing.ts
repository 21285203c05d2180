/**
 * Probing, the SWIM core's failure detector (memberlist `state.go` `probe`, `probeNode`, the ping
 * and indirect-ping handlers of `net.go`, and Lifeguard's `awareness.go`): round-robin probes
 * over the member table, the direct ping, indirect pings through `indirectChecks` helpers with
 * nacks (protocol >= 4) and a TCP fallback ping, the ack and nack handlers (our probes, indirect
 * pings we relay for others, one-off `ping` commands), and the awareness score every probe outcome
 * moves. A failed probe is handed to the membership rules as a suspicion.
 */
import { kRandom } from '@plumtree/common';
import { MessageType } from '../wire/message-types.js';
import type { AckResp, IndirectPingReq, Ping, Suspect } from '../wire/messages.js';
import { addressOf, type SwimAddress } from './address.js';
import { Awareness } from './awareness.js';
import type { Dissemination } from './dissemination.js';
import { toMember, type NodeState } from './node-state.js';
import type { PendingStream, SwimContext } from './swim-context.js';
import { nextTick, TimerKind, timerKey } from './timer-table.js';
import type { StreamPingResult } from './types.js';

/** What probing needs from the membership rules. */
export interface ProbingHost {
  /** A probe failed: raise (or confirm) the suspicion (memberlist `suspectNode`). */
  suspect(s: Suspect): void;
  /** A member was reaped: drop its suspicion, if any. */
  clearSuspicion(name: string): void;
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

/** The probe cycle and ack bookkeeping of one core. */
export class Prober {
  /** Probes started, and of those the ones that ended with a suspicion. */
  probeCount = 0;
  probeFailureCount = 0;
  private readonly awareness: Awareness;
  private readonly ackHandlers = new Map<number, AckHandler>();
  private probe: ProbeState | null = null;
  /** A probe tick arrived while a probe was running (Go's ticker keeps one pending tick). */
  private probeTickPending = false;
  /** A suspect to probe on the next tick, out of round-robin order (`suspicionProbeFanout`). */
  private priorityProbe: string | null = null;
  private probeIndex = 0;

  constructor(
    private readonly ctx: SwimContext,
    private readonly dissemination: Dissemination,
    private readonly host: ProbingHost,
  ) {
    this.awareness = new Awareness(ctx.config.awarenessMaxMultiplier);
  }

  /** Lifeguard health score: 0 healthy, up to `awarenessMaxMultiplier - 1`. */
  get healthScore(): number {
    return this.awareness.healthScore;
  }

  /** Arm the probe ticker; the first probe comes one period in, as a Go ticker's first tick. */
  start(): void {
    const { config, timers, now } = this.ctx;
    if (config.probeIntervalMs > 0) timers.set(TimerKind.ProbeTick, now + config.probeIntervalMs);
  }

  /** The probe timer fired (scheduled for `atMs`): re-arm it and probe, unless a probe runs. */
  onProbeTick(atMs: number): void {
    const { config, timers, now } = this.ctx;
    timers.set(TimerKind.ProbeTick, nextTick(atMs, config.probeIntervalMs, now));
    if (this.probe) this.probeTickPending = true;
    else this.runProbe();
  }

  /** Lifeguard: move the health score, announcing a change as a `health-score` event. */
  applyAwareness(delta: number): void {
    if (delta !== 0 && this.awareness.applyDelta(delta)) {
      this.ctx.events.push({ type: 'health-score', score: this.awareness.healthScore });
    }
  }

  /**
   * Someone else suspects `s.Node`: with probability `suspicionProbeFanout / (n - 2)` check it
   * ourselves on the next probe tick, so independent confirmations (or none, when it answers)
   * come within a probe interval instead of whenever round-robin gets there.
   */
  maybePrioritise(s: Suspect): void {
    const fanout = this.ctx.config.suspicionProbeFanout;
    if (fanout === 0 || s.From === this.ctx.local.name || this.priorityProbe !== null) return;
    if (this.probe?.target === s.Node) return;
    const others = this.ctx.table.size - 2;
    if (others <= 0) return;
    if (others > fanout && this.ctx.rng.next() >= fanout / others) return;
    this.priorityProbe = s.Node;
  }

  /**
   * Ping `to` once outside the probe cycle (memberlist `Ping`); a `ping-result` event follows.
   * Returns the sequence number.
   */
  ping(to: SwimAddress): number {
    const { ctx } = this;
    const seqNo = ctx.nextSeqNo();
    this.ackHandlers.set(seqNo, { kind: 'ping', name: to.name, sentMs: ctx.now });
    ctx.timers.set(timerKey(TimerKind.AckHandler, seqNo), ctx.now + ctx.config.probeTimeoutMs);
    this.dissemination.sendMsg(to, { type: MessageType.Ping, body: ctx.makePing(seqNo, to.name) });
    return seqNo;
  }

  // ---------------------------------------------------------------- the probe

  /** memberlist `probe`: the next alive or suspect member of the round-robin list. */
  private runProbe(): void {
    const { table } = this.ctx;
    if (this.priorityProbe !== null) {
      const target = table.get(this.priorityProbe);
      this.priorityProbe = null;
      if (target && target.state === 'suspect') {
        this.probeNode(target);
        return;
      }
    }
    let numCheck = 0;
    for (;;) {
      if (numCheck >= table.size) return;
      if (this.probeIndex >= table.size) {
        this.resetNodes();
        this.probeIndex = 0;
        numCheck++;
        continue;
      }
      const node = table.nodes[this.probeIndex]!;
      this.probeIndex++;
      if (node.name === table.localName || node.state === 'dead' || node.state === 'left') {
        numCheck++;
        continue;
      }
      this.probeNode(node);
      return;
    }
  }

  /** memberlist `resetNodes`, at the end of a probe pass. */
  private resetNodes(): void {
    const { config, now, rng, table } = this.ctx;
    table.reapAndShuffle(now, config.gossipToTheDeadTimeMs, rng, (name) =>
      this.host.clearSuspicion(name),
    );
  }

  /** memberlist `probeNode`, phase one: the direct ping. */
  private probeNode(node: NodeState): void {
    const { ctx } = this;
    const probeInterval = this.awareness.scaleTimeout(ctx.config.probeIntervalMs);
    const seqNo = ctx.nextSeqNo();
    const ping = ctx.makePing(seqNo, node.name);
    this.probe = {
      seqNo,
      target: node.name,
      targetIncarnation: node.incarnation,
      sentMs: ctx.now,
      indirect: false,
      expectedNacks: 0,
      nacks: 0,
      fallbackId: null,
      fallbackContacted: false,
      fallbackRefused: false,
    };
    this.probeCount++;
    this.ackHandlers.set(seqNo, { kind: 'probe' });
    if (node.state === 'alive') {
      const to = { addr: addressOf(node.addr, node.port), name: node.name };
      this.dissemination.sendMsg(to, { type: MessageType.Ping, body: ping });
    } else {
      // A suspect target gets the suspicion along with the ping, so it can refute at once.
      const suspect: Suspect = {
        Incarnation: node.incarnation,
        Node: node.name,
        From: ctx.local.name,
      };
      ctx.transmitTo(node, [
        { type: MessageType.Ping, body: ping },
        { type: MessageType.Suspect, body: suspect },
      ]);
    }
    ctx.timers.set(TimerKind.ProbeTimeout, ctx.now + ctx.config.probeTimeoutMs);
    ctx.timers.set(TimerKind.ProbeDeadline, ctx.now + probeInterval);
  }

  /** Phase two: no direct ack within the probe timeout; ask others, and try TCP. */
  onProbeTimeout(): void {
    const { ctx } = this;
    const probe = this.probe;
    if (!probe) return;
    const node = ctx.table.get(probe.target);
    if (!node) return;
    probe.indirect = true;
    const peers = kRandom(
      ctx.rng,
      ctx.config.indirectChecks,
      ctx.table.nodes,
      (n) => n.name === ctx.local.name || n.name === node.name || n.state !== 'alive',
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
        SourceAddr: ctx.local.addr,
        SourcePort: ctx.local.port,
        SourceNode: ctx.local.name,
      };
      this.dissemination.sendMsg(
        { addr: addressOf(peer.addr, peer.port), name: peer.name },
        { type: MessageType.IndirectPing, body: ind },
      );
    }
    const disableTcp =
      ctx.config.disableTcpPings || (ctx.delegate.disableTcpPingsForNode?.(node.name) ?? false);
    if (!disableTcp && node.pMax >= 3) {
      probe.fallbackId = ctx.openStream({ kind: 'ping', probeSeqNo: probe.seqNo }, (id) => ({
        kind: 'ping',
        id,
        to: { addr: addressOf(node.addr, node.port), name: node.name },
        ping: ctx.makePing(probe.seqNo, node.name),
        deadlineMs: ctx.timers.get(TimerKind.ProbeDeadline) ?? ctx.now,
      }));
    }
  }

  /**
   * The outcome of the TCP fallback ping `requestId` (already taken out of the pending table):
   * memberlist only counts an ack carrying the probe's sequence number.
   */
  onFallbackResult(
    requestId: number,
    pending: Extract<PendingStream, { kind: 'ping' }>,
    ack: StreamPingResult,
    refused: boolean,
  ): void {
    const probe = this.probe;
    if (!probe || probe.seqNo !== pending.probeSeqNo || probe.fallbackId !== requestId) return;
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
    if (!probe || !this.ctx.config.suspectOnRefusedFallback) return;
    if (!probe.indirect || !probe.fallbackRefused) return;
    if (probe.expectedNacks === 0 || probe.nacks < probe.expectedNacks) return;
    this.onProbeDeadline();
  }

  /** End of the probe without an ack: suspect the target unless the TCP fallback reached it. */
  onProbeDeadline(): void {
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
      this.host.suspect({
        Incarnation: probe.targetIncarnation,
        Node: probe.target,
        From: this.ctx.local.name,
      }),
    );
  }

  private finishProbe(awarenessDelta: number, then?: () => void): void {
    const { ctx } = this;
    const probe = this.probe!;
    ctx.timers.cancel(TimerKind.ProbeTimeout);
    ctx.timers.cancel(TimerKind.ProbeDeadline);
    this.ackHandlers.delete(probe.seqNo);
    if (probe.fallbackId !== null) ctx.pendingStreams.delete(probe.fallbackId);
    this.probe = null;
    then?.();
    // memberlist applies the awareness delta when probeNode returns, after the suspicion.
    this.applyAwareness(awarenessDelta);
    if (this.probeTickPending) {
      this.probeTickPending = false;
      this.runProbe();
    }
  }

  // ---------------------------------------------------------------- packet handlers

  /** A ping: ack it to the source it names, with the delegate's payload. */
  onPing(from: string, p: Ping): void {
    if (p.Node !== '' && p.Node !== this.ctx.local.name) {
      this.ctx.drop('ping-wrong-node');
      return;
    }
    const ack: AckResp = {
      SeqNo: p.SeqNo,
      Payload: this.ctx.delegate.ackPayload?.() ?? new Uint8Array(0),
    };
    this.dissemination.sendMsg(replyAddress(from, p.SourceAddr, p.SourcePort, p.SourceNode), {
      type: MessageType.AckResp,
      body: ack,
    });
  }

  /** Someone asks us to ping a target for them; the ack (or nack) goes back to them. */
  onIndirectPing(from: string, ind: IndirectPingReq): void {
    const { ctx } = this;
    const port = ctx.config.protocolVersion < 2 || ind.Port === 0 ? ctx.config.bindPort : ind.Port;
    const localSeqNo = ctx.nextSeqNo();
    const replyTo = replyAddress(from, ind.SourceAddr, ind.SourcePort, ind.SourceNode);
    this.ackHandlers.set(localSeqNo, {
      kind: 'relay',
      origSeqNo: ind.SeqNo,
      replyTo,
      nack: ind.Nack,
    });
    ctx.timers.set(timerKey(TimerKind.AckHandler, localSeqNo), ctx.now + ctx.config.probeTimeoutMs);
    this.dissemination.sendMsg(
      { addr: addressOf(ind.Target, port), name: ind.Node },
      { type: MessageType.Ping, body: ctx.makePing(localSeqNo, ind.Node) },
    );
  }

  onAck(ack: AckResp): void {
    const { ctx } = this;
    const handler = this.ackHandlers.get(ack.SeqNo);
    if (!handler) {
      ctx.drop('stale-ack');
      return;
    }
    this.ackHandlers.delete(ack.SeqNo);
    switch (handler.kind) {
      case 'probe': {
        const probe = this.probe;
        if (!probe || probe.seqNo !== ack.SeqNo) return;
        if (!probe.indirect) {
          // Only a direct ack within the probe timeout measures the RTT.
          const node = ctx.table.get(probe.target);
          if (node) {
            ctx.events.push({
              type: 'ping-complete',
              member: toMember(node),
              rttMs: ctx.now - probe.sentMs,
              payload: ack.Payload,
            });
          }
        }
        this.finishProbe(-1);
        return;
      }
      case 'relay':
        ctx.timers.cancel(timerKey(TimerKind.AckHandler, ack.SeqNo));
        this.dissemination.sendMsg(handler.replyTo, {
          type: MessageType.AckResp,
          body: { SeqNo: handler.origSeqNo, Payload: new Uint8Array(0) },
        });
        return;
      case 'ping':
        ctx.timers.cancel(timerKey(TimerKind.AckHandler, ack.SeqNo));
        ctx.events.push({
          type: 'ping-result',
          name: handler.name,
          seqNo: ack.SeqNo,
          rttMs: ctx.now - handler.sentMs,
        });
        return;
    }
  }

  onNack(seqNo: number): void {
    const handler = this.ackHandlers.get(seqNo);
    if (!handler || handler.kind !== 'probe' || !this.probe || this.probe.seqNo !== seqNo) {
      this.ctx.drop('stale-ack');
      return;
    }
    this.probe.nacks++;
    this.maybeConcludeProbe();
  }

  /** An ack handler's timer ran out: nack a relayed ping when asked to, fail a `ping` command. */
  onAckHandlerExpired(seqNo: number): void {
    const handler = this.ackHandlers.get(seqNo);
    if (!handler) return;
    this.ackHandlers.delete(seqNo);
    if (handler.kind === 'relay' && handler.nack) {
      this.dissemination.sendMsg(handler.replyTo, {
        type: MessageType.NackResp,
        body: { SeqNo: handler.origSeqNo },
      });
    } else if (handler.kind === 'ping') {
      this.ctx.events.push({ type: 'ping-result', name: handler.name, seqNo, rttMs: null });
    }
  }
}

/** Where to answer: the source the message names (protocol 5, NAT), else the packet's sender. */
function replyAddress(
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
