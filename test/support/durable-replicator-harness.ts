/**
 * A harness for the durable replicator's specs (libs/cluster/src/durable): nodes on an in-memory
 * network with a fake clock. Frames travel as microtasks and timers fire only when a test
 * advances the clock, so every run is the same. Kept out of src/ so it does not ship.
 */
import { expect } from '@jest/globals';
import type { DurableRecord } from '@plumtree/store';
import {
  DurableReplicator,
  MemoryDurableLog,
  type DurableLog,
  type DurableReplicatorEvent,
  type DurableReplicatorOptions,
} from '../../libs/cluster/src/durable/index.js';

export const TOPIC = 'orders';

/** A clock whose timers fire only in `run`. */
export class FakeClock {
  nowMs = 1_000_000;
  private nextId = 1;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();
  setTimer = (fn: () => void, ms: number): unknown => {
    const id = this.nextId++;
    this.timers.set(id, { at: this.nowMs + ms, fn });
    return id;
  };
  clearTimer = (h: unknown): void => {
    this.timers.delete(h as number);
  };
  get pendingTimers(): number {
    return this.timers.size;
  }
  /** Let every microtask chain finish, then fire due timers in order up to `forMs` from now. */
  async run(forMs = 60_000): Promise<void> {
    const until = this.nowMs + forMs;
    for (;;) {
      await settle();
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const t of this.timers) if (next === undefined || t[1].at < next[1].at) next = t;
      if (next === undefined || next[1].at > until) break;
      this.timers.delete(next[0]);
      this.nowMs = Math.max(this.nowMs, next[1].at);
      next[1].fn();
    }
    this.nowMs = Math.max(this.nowMs, until);
  }
}

/** setImmediate runs after every queued microtask: the pipeline and the network are quiet. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
}

export interface Delivered {
  readonly id: string;
  readonly from: string;
}

/** A node: a replicator, its log, what it delivered, and what it sent. */
export class TestNode {
  readonly replicator: DurableReplicator;
  readonly delivered: Delivered[] = [];
  readonly events: DurableReplicatorEvent[] = [];
  readonly sentTo = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly net: TestNetwork,
    readonly log: DurableLog | undefined,
    options: DurableReplicatorOptions,
  ) {
    this.replicator = new DurableReplicator(
      {
        send: (peer, frame) => {
          this.sentTo.set(peer, (this.sentTo.get(peer) ?? 0) + 1);
          return net.send(name, peer, frame);
        },
        deliver: (topic, r, from) => {
          expect(topic).toBe(TOPIC);
          // Persisted before delivered.
          expect(this.log?.has(r.origin, r.epoch, r.seq)).toBe(true);
          this.delivered.push({ id: idOf(r), from });
        },
        now: () => net.clock.nowMs,
        setTimer: net.clock.setTimer,
        clearTimer: net.clock.clearTimer,
      },
      options,
    );
    this.replicator.events$.subscribe((e) => this.events.push(e));
    if (log !== undefined) this.replicator.addTopic(TOPIC, log);
  }
  ids(): string[] {
    return this.delivered.map((d) => d.id);
  }
  live(r: DurableRecord, from = 'plumtree'): boolean {
    return this.replicator.onLive(TOPIC, r, from);
  }
  peers(...names: string[]): void {
    this.replicator.onPeersChanged(TOPIC, names);
  }
  stats() {
    return this.replicator.stats().topics[TOPIC]!;
  }
}

/** Routes frames by node name as microtasks; silent nodes swallow them, cut links drop them. */
export class TestNetwork {
  readonly clock = new FakeClock();
  readonly nodes = new Map<string, TestNode>();
  readonly silent = new Set<string>();
  frames = 0;
  add(name: string, options: DurableReplicatorOptions = {}, durable = true): TestNode {
    const node = new TestNode(name, this, durable ? new MemoryDurableLog(TOPIC) : undefined, {
      paceMs: 10,
      requestTimeoutMs: 1_000,
      gapWaitMs: 60_000,
      ...options,
    });
    this.nodes.set(name, node);
    return node;
  }
  send(from: string, to: string, frame: Uint8Array): boolean {
    const target = this.nodes.get(to);
    if (target === undefined) return false;
    this.frames++;
    if (this.silent.has(to)) return true;
    queueMicrotask(() => target.replicator.onFrame(from, frame));
    return true;
  }
}

export function rec(origin: string, seq: number, epoch = 7): DurableRecord {
  return {
    origin,
    epoch,
    seq,
    publishedAtMs: 1_764_000_000_000 + seq,
    headers: seq % 2 === 0 ? { k: String(seq) } : undefined,
    payload: new Uint8Array(100).fill(seq & 0xff),
  };
}

export function idOf(r: { origin: string; epoch: number; seq: number }): string {
  return `${r.origin}/${r.epoch}/${r.seq}`;
}

/** Every delivered id once, and per stream in ascending seq order. */
export function expectOncePerStreamOrder(ids: readonly string[]): void {
  expect(new Set(ids).size).toBe(ids.length);
  const last = new Map<string, number>();
  for (const id of ids) {
    const at = id.lastIndexOf('/');
    const stream = id.slice(0, at);
    const seq = Number(id.slice(at + 1));
    expect(seq).toBeGreaterThan(last.get(stream) ?? 0);
    last.set(stream, seq);
  }
}

/** 500 records from three origins, interleaved as a live stream would be. */
export function fiveHundred(): DurableRecord[] {
  const out: DurableRecord[] = [];
  const counts = { p1: 0, p2: 0, p3: 0 };
  for (let i = 0; i < 500; i++) {
    const origin = (['p1', 'p2', 'p3'] as const)[i % 3]!;
    out.push(rec(origin, ++counts[origin]));
  }
  return out;
}
