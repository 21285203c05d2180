/**
 * The IPC messages between `bench:cluster`'s parent (main.ts) and its forked workers
 * (bench-worker.ts), and the layout of a benchmark payload.
 */
import { PAYLOAD_HEADER_BYTES } from './bench-options.js';

/** How a worker is started: JSON in its first argument. */
export interface WorkerConfig {
  readonly name: string;
  readonly role: 'publisher' | 'subscriber';
  readonly topic: string;
  readonly payload: number;
  /** `host:port` to join; empty for the publisher (the seed). */
  readonly seeds: readonly string[];
  /** Plumtree core flooding baseline. */
  readonly flood: boolean;
  /** The node's keyring (`keys`), empty for plain. */
  readonly keys: readonly string[];
}

/** Phases a payload is tagged with, so subscribers count each separately. */
export const Phase = {
  /** Closed-loop saturation (and its warm-up). */
  Saturate: 1,
  /** Fixed rate at half the saturating throughput: latencies recorded. */
  Latency: 2,
  /** The fixed rate whose latencies docs/performance.md compares with Nest's NATS transport (200 msg/s). */
  Target: 3,
  /** Open-loop burst (`--burst`): latencies recorded. */
  Burst: 4,
} as const;
/** One of {@link Phase}'s values. */
export type Phase = (typeof Phase)[keyof typeof Phase];

/** Parent -> worker. */
export type ToWorker =
  | { readonly type: 'peers' }
  | { readonly type: 'snapshot' }
  /** Publisher: keep `window` messages of `phase` in flight (acknowledged by `acked`). */
  | { readonly type: 'loop'; readonly phase: Phase; readonly window: number }
  /** Publisher: messages of the current loop delivered at every subscriber. */
  | { readonly type: 'acked'; readonly upTo: number }
  | { readonly type: 'stop-loop' }
  /** Publisher: publish `count` messages of `phase` as fast as the node accepts them. */
  | { readonly type: 'burst'; readonly phase: Phase; readonly count: number }
  /** Publisher: publish `count` messages of `phase` at `rate` per second. */
  | { readonly type: 'rate'; readonly phase: Phase; readonly rate: number; readonly count: number }
  /** Subscriber: the latencies recorded in `phase`. */
  | { readonly type: 'latencies'; readonly phase: Phase }
  | { readonly type: 'close' };

/** Counters of one worker at one moment. */
export interface WorkerSnapshot {
  readonly type: 'snapshot';
  /** process.cpuUsage() user + system, microseconds. */
  readonly cpuUs: number;
  /** Deliveries of remote messages (all phases). */
  readonly delivered: number;
  /** GOSSIP frames received (a GOSSIP_RUN frame carries many messages). */
  readonly gossipReceived: number;
  /** Payload messages received for ids already delivered, on the bench topic. */
  readonly duplicates: number;
  /** Bytes the frame transport wrote to sockets. */
  readonly bytesSent: number;
  /** GOSSIP frames sent. */
  readonly gossipSent: number;
  /** IHAVE + GRAFT + PRUNE frames sent. */
  readonly controlSent: number;
  /** Eager and lazy peers of the topic. */
  readonly eager: number;
  readonly lazy: number;
  /** Payloads dropped for a full queue, and eager peers demoted for it. */
  readonly overflows: number;
  readonly demotions: number;
}

/** Worker -> parent. */
export type FromWorker =
  | { readonly type: 'ready'; readonly addr: string }
  | { readonly type: 'error'; readonly message: string }
  | { readonly type: 'peers'; readonly view: number }
  | WorkerSnapshot
  /** Subscriber: distinct messages of `phase` delivered so far. */
  | { readonly type: 'progress'; readonly phase: Phase; readonly count: number }
  /** Publisher: messages published in the current loop or rate run. */
  | {
      readonly type: 'published';
      readonly phase: Phase;
      readonly count: number;
      readonly done: boolean;
    }
  /** Subscriber: sequence numbers and their publish-to-delivery latency (ms). */
  | { readonly type: 'latencies'; readonly seqs: number[]; readonly latMs: number[] };

/** A fresh payload: seq (u32 BE), phase (u8), 3 bytes padding, publish time (f64 BE), filler. */
export function makePayload(size: number, seq: number, phase: Phase, atMs: number): Uint8Array {
  const b = new Uint8Array(Math.max(size, PAYLOAD_HEADER_BYTES));
  const v = new DataView(b.buffer);
  v.setUint32(0, seq);
  v.setUint8(4, phase);
  v.setFloat64(8, atMs);
  return b;
}

/** The header of a payload, or undefined when it is too short. */
export function readPayload(
  b: Uint8Array,
): { seq: number; phase: number; atMs: number } | undefined {
  if (b.length < PAYLOAD_HEADER_BYTES) return undefined;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { seq: v.getUint32(0), phase: v.getUint8(4), atMs: v.getFloat64(8) };
}
