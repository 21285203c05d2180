/**
 * A deterministic in-memory network of {@link SwimCore}s for the SWIM specs (test support, outside
 * src/ so it is not built into dist/): one virtual clock, packets and
 * stream exchanges delivered after a latency in (time, sequence) order, crashes, per-node outbound
 * delays and a drop filter. Modelled on memberlist's `mock_transport.go`, but the cores run sans-IO:
 * nothing sleeps, a seed replays a run.
 */
import { createRng, type Rng } from '@plumtree/common';
import type { SwimConfigInput } from '../src/config/swim-config.js';
import type { AckResp, Message, Ping } from '../src/wire/messages.js';
import { MessageType } from '../src/wire/message-types.js';
import { estimateEncodedSize } from '../src/protocol/message-size.js';
import {
  COMPOUND_HEADER_OVERHEAD,
  COMPOUND_OVERHEAD,
  SwimCore,
} from '../src/protocol/swim-core.js';
import type { PushPullState, SwimDelegate, SwimEvent } from '../src/protocol/types.js';

/** A node of the test cluster. */
export interface TestNode {
  readonly name: string;
  readonly address: string;
  readonly core: SwimCore;
  crashed: boolean;
  /** Extra delay on everything this node sends. */
  outboundDelayMs: number;
  readonly events: Array<{ readonly atMs: number; readonly event: SwimEvent }>;
}

type Delivery =
  | { kind: 'packet'; from: string; to: string; messages: readonly Message[] }
  | { kind: 'push-pull'; from: string; to: string; id: number; local: PushPullState }
  | { kind: 'push-pull-answer'; to: string; id: number; answer: PushPullState }
  | { kind: 'stream-ping'; from: string; to: string; id: number; ping: Ping }
  | { kind: 'stream-ping-answer'; to: string; id: number; ack: AckResp | null }
  | { kind: 'stream-failure'; to: string; id: number; error: string };

/** Options of {@link SwimTestCluster}. */
export interface SwimTestClusterOptions {
  /** One-way latency of every packet and stream leg. Default 1 ms. */
  readonly latencyMs?: number;
  /** Seed of the cluster RNG (node seeds and packet loss). Default 1. */
  readonly seed?: number;
  /** Config applied to every node (its name is added). Default the `local` preset. */
  readonly config?: SwimConfigInput;
  /** Clock at start. Default 0. */
  readonly startMs?: number;
}

/** The in-memory network. */
export class SwimTestCluster {
  /** The virtual clock. */
  now: number;
  readonly nodes = new Map<string, TestNode>();
  /** Return true to drop a packet (not streams) from `from` to `to` (node names). */
  dropPacket: (from: string, to: string, rng: Rng) => boolean = () => false;
  /** Called for every event as it is drained (e.g. to play the application above the core). */
  onEvent: (node: TestNode, event: SwimEvent) => void = () => {};
  /** Transmits whose estimated size exceeded the packet budget. */
  oversizedTransmits = 0;
  /** Packets delivered. */
  packetsDelivered = 0;

  private readonly byAddress = new Map<string, TestNode>();
  private queue: Array<{ at: number; seq: number; d: Delivery }> = [];
  private seq = 0;
  private readonly rng: Rng;
  private readonly latencyMs: number;
  private readonly config: SwimConfigInput;

  constructor(options: SwimTestClusterOptions = {}) {
    this.now = options.startMs ?? 0;
    this.latencyMs = options.latencyMs ?? 1;
    this.rng = createRng(options.seed ?? 1);
    this.config = options.config ?? { preset: 'local' };
  }

  /** Start a node at the current time (10.0.x.y:7946). */
  add(
    name: string,
    options: { config?: SwimConfigInput; meta?: Uint8Array; delegate?: SwimDelegate } = {},
  ): TestNode {
    const i = this.nodes.size + 1;
    const ip = `10.0.${i >> 8}.${i & 255}`;
    const core = new SwimCore({
      config: { ...this.config, ...options.config, name },
      addr: ip,
      port: 7946,
      nowMs: this.now,
      seed: Math.floor(this.rng.next() * 2 ** 31),
      ...(options.meta ? { meta: options.meta } : {}),
      ...(options.delegate ? { delegate: options.delegate } : {}),
    });
    const node: TestNode = {
      name,
      address: `${ip}:7946`,
      core,
      crashed: false,
      outboundDelayMs: 0,
      events: [],
    };
    this.nodes.set(name, node);
    this.byAddress.set(node.address, node);
    this.flush(node);
    return node;
  }

  /** The node of that name. */
  node(name: string): TestNode {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  }

  /** Join `name` through the seeds. */
  join(name: string, seeds: readonly string[]): void {
    const n = this.node(name);
    n.core.join(
      seeds.map((s) => this.node(s).address),
      this.now,
    );
    this.flush(n);
  }

  /** Crash a node: it stops processing anything, and everything sent to it is lost. */
  crash(name: string): void {
    this.node(name).crashed = true;
  }

  /** Run the network until the clock reaches `untilMs`. */
  runUntil(untilMs: number): void {
    for (;;) {
      let next = this.queue.length > 0 ? this.queue[0]!.at : Infinity;
      for (const n of this.nodes.values()) {
        if (n.crashed) continue;
        const t = n.core.pollTimeout();
        if (t !== undefined && t < next) next = t;
      }
      if (next > untilMs) break;
      this.now = Math.max(this.now, next);
      while (this.queue.length > 0 && this.queue[0]!.at <= this.now)
        this.deliver(this.queue.shift()!.d);
      for (const n of this.nodes.values()) {
        if (n.crashed) continue;
        const t = n.core.pollTimeout();
        if (t !== undefined && t <= this.now) {
          n.core.handleTimeout(this.now);
          this.flush(n);
        }
      }
    }
    this.now = untilMs;
  }

  /** Run for `ms` more. */
  runFor(ms: number): void {
    this.runUntil(this.now + ms);
  }

  /**
   * Run until `done()` holds, checking every `stepMs`; returns the time it first held, or null if
   * it did not within `maxMs`.
   */
  runUntilTrue(done: () => boolean, maxMs: number, stepMs = 10): number | null {
    const end = this.now + maxMs;
    while (this.now < end) {
      if (done()) return this.now;
      this.runUntil(Math.min(end, this.now + stepMs));
    }
    return done() ? this.now : null;
  }

  /** Live (not crashed) nodes. */
  live(): TestNode[] {
    return [...this.nodes.values()].filter((n) => !n.crashed);
  }

  private schedule(delayMs: number, d: Delivery): void {
    const at = this.now + delayMs;
    const item = { at, seq: ++this.seq, d };
    let lo = 0;
    let hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const q = this.queue[mid]!;
      if (q.at < at || (q.at === at && q.seq < item.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.queue.splice(lo, 0, item);
  }

  /**
   * Drain a node's outputs in the documented polling order; again while an event handler
   * produced more.
   */
  private flush(n: TestNode): void {
    while (this.drainOnce(n) > 0);
  }

  private drainOnce(n: TestNode): number {
    let drained = 0;
    const budget = n.core.config.udpBufferSize;
    const delay = this.latencyMs + n.outboundDelayMs;
    for (let t = n.core.pollTransmit(); t; t = n.core.pollTransmit()) {
      drained++;
      // memberlist's accounting: compound header plus a length per part, on top of the parts.
      const size =
        t.messages.length === 1
          ? estimateEncodedSize(t.messages[0]!)
          : COMPOUND_HEADER_OVERHEAD +
            t.messages.reduce((s, m) => s + COMPOUND_OVERHEAD + estimateEncodedSize(m), 0);
      // memberlist budgets the first part of a compound without its 2-byte length.
      if (size > budget + COMPOUND_OVERHEAD) this.oversizedTransmits++;
      this.schedule(delay, {
        kind: 'packet',
        from: n.address,
        to: t.to.addr,
        messages: t.messages,
      });
    }
    for (let r = n.core.pollStreamRequest(); r; r = n.core.pollStreamRequest()) {
      drained++;
      const target = this.byAddress.get(r.to.addr);
      if (!target || target.crashed) {
        this.schedule(2 * this.latencyMs, {
          kind: 'stream-failure',
          to: n.name,
          id: r.id,
          error: 'connection refused',
        });
        continue;
      }
      switch (r.kind) {
        case 'push-pull':
          this.schedule(delay, {
            kind: 'push-pull',
            from: n.address,
            to: r.to.addr,
            id: r.id,
            local: r.local,
          });
          break;
        case 'ping':
          this.schedule(delay, {
            kind: 'stream-ping',
            from: n.address,
            to: r.to.addr,
            id: r.id,
            ping: r.ping,
          });
          break;
        case 'user':
          this.schedule(delay, {
            kind: 'packet',
            from: n.address,
            to: r.to.addr,
            messages: [{ type: MessageType.User, body: r.payload }],
          });
          // Written: report it, so the core drops its pending entry (as SwimNode does).
          n.core.handleStreamDone(r.id, this.now);
          break;
      }
    }
    for (let e = n.core.pollEvent(); e; e = n.core.pollEvent()) {
      drained++;
      n.events.push({ atMs: this.now, event: e });
      this.onEvent(n, e);
    }
    return drained;
  }

  private deliver(d: Delivery): void {
    switch (d.kind) {
      case 'packet': {
        const target = this.byAddress.get(d.to);
        const source = this.byAddress.get(d.from);
        if (!target || target.crashed) return;
        if (source && this.dropPacket(source.name, target.name, this.rng)) return;
        this.packetsDelivered++;
        for (const m of d.messages) target.core.handlePacket(d.from, m, this.now);
        this.flush(target);
        return;
      }
      case 'push-pull': {
        const target = this.byAddress.get(d.to);
        const source = this.byAddress.get(d.from);
        if (!target || target.crashed || !source) return;
        const answer = target.core.handlePushPull(
          d.from,
          d.local.nodes,
          d.local.userState,
          d.local.join,
          this.now,
        );
        this.flush(target);
        this.schedule(this.latencyMs + target.outboundDelayMs, {
          kind: 'push-pull-answer',
          to: source.name,
          id: d.id,
          answer,
        });
        return;
      }
      case 'push-pull-answer':
        this.atLiveNode(d.to, (core) =>
          core.handlePushPullResponse(d.id, d.answer.nodes, d.answer.userState, this.now),
        );
        return;
      case 'stream-ping': {
        const target = this.byAddress.get(d.to);
        const source = this.byAddress.get(d.from);
        if (!target || !source) return;
        const ack = target.crashed ? null : target.core.handleStreamPing(d.from, d.ping, this.now);
        if (!target.crashed) this.flush(target);
        this.schedule(this.latencyMs + target.outboundDelayMs, {
          kind: 'stream-ping-answer',
          to: source.name,
          id: d.id,
          ack,
        });
        return;
      }
      case 'stream-ping-answer':
        this.atLiveNode(d.to, (core) => core.handleStreamPingResult(d.id, d.ack, this.now));
        return;
      case 'stream-failure':
        this.atLiveNode(d.to, (core) => core.handleStreamFailure(d.id, d.error, this.now));
        return;
    }
  }

  /** Give an input to the core of `name` unless it crashed, then drain its outputs. */
  private atLiveNode(name: string, input: (core: SwimCore) => void): void {
    const n = this.node(name);
    if (n.crashed) return;
    input(n.core);
    this.flush(n);
  }
}
