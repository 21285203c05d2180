/**
 * The IPC messages between `bench:compare`'s parent (main.ts) and its forked subscriber and
 * publisher processes, and the message the publisher emits. IPC is kept off the measured path:
 * children report counters at most every {@link REPORT_INTERVAL_MS}, and the bulky figures
 * (latencies) only after the run.
 */
import type { TransportName } from './compare-options.js';

/** The Nest pattern (our topic, NATS subject, Redis channel) of every run. */
export const PATTERN = 'bench';

/** How often a child reports its counters while they change, ms. */
export const REPORT_INTERVAL_MS = 100;

/**
 * What the publisher emits: `t` the publish time (ms since the epoch, sub-millisecond, see
 * {@link wallClockMs}), `i` the message index (negative: a readiness probe, not counted),
 * `pad` a string of `--payload` bytes.
 */
export interface BenchMessage {
  readonly t: number;
  readonly i: number;
  readonly pad: string;
}

/** Where a Nest broker transport connects. */
export interface BrokerAddress {
  readonly host: string;
  readonly port: number;
}

/** How a child is started: JSON in its first argument. */
export interface ChildConfig {
  readonly role: 'subscriber' | 'publisher';
  readonly name: string;
  readonly transport: TransportName;
  readonly messages: number;
  readonly payload: number;
  /** Publisher: msg/s; undefined = burst. */
  readonly rate: number | undefined;
  /** nats and redis: the broker. */
  readonly broker: BrokerAddress | undefined;
  /** Ours: `host:port` of members to join (empty for the first subscriber). */
  readonly seeds: readonly string[];
  /** Ours: the keyring (`keys`), empty for plain. */
  readonly keys: readonly string[];
}

/** Parent -> child. */
export type ToChild =
  /** Ours: report the view (see {@link FromChild} `view`). */
  | { readonly type: 'view' }
  /** Publisher: emit one readiness probe (`i` = -1). */
  | { readonly type: 'probe' }
  /** Publisher: start emitting. */
  | { readonly type: 'go' }
  /** Ours: report what is still in flight (see {@link InFlight}). */
  | { readonly type: 'in-flight' }
  /** Subscriber: send the final report. */
  | { readonly type: 'report' }
  | { readonly type: 'close' };

/** A subscriber's counters, pushed while they change. */
export interface SubscriberProgress {
  readonly type: 'progress';
  /** Distinct messages delivered (probes excluded). */
  readonly count: number;
  /** Deliveries of a message index already delivered. */
  readonly dups: number;
  /** Whether a readiness probe arrived. */
  readonly probed: boolean;
}

/** The publisher's counters, pushed while they change. */
export interface PublisherProgress {
  readonly type: 'pub-progress';
  /** `emit` calls made. */
  readonly emitted: number;
  /** Of those, Observables that completed or errored. */
  readonly settled: number;
  /** Of those, Observables that errored. */
  readonly errors: number;
  /** The first error's message, for the report. */
  readonly firstError: string | undefined;
  /** Wall-clock ms of the first and of the last `emit` call. */
  readonly firstEmitAt: number;
  readonly lastEmitAt: number;
}

/** A subscriber's final report. */
export interface SubscriberReport {
  readonly type: 'report';
  readonly count: number;
  readonly dups: number;
  /** Deliveries whose payload was not a {@link BenchMessage} of this run. */
  readonly invalid: number;
  /** Wall-clock ms of the last delivery (NaN if none). */
  readonly lastAt: number;
  /** Latency (ms) of each distinct delivery, in arrival order. */
  readonly latMs: Float64Array;
}

/**
 * Ours: what a node still holds that can become a delivery: ids announced (IHAVE) but not
 * received, whose GRAFTs are still being retried; deliveries queued for the handlers; frame bytes
 * queued to peers. All zero: nothing more will arrive. Always zero for the broker transports.
 */
export interface InFlight {
  readonly type: 'in-flight';
  readonly missing: number;
  readonly queuedDeliveries: number;
  readonly queuedBytes: number;
  /** The core's counters of ids given up, which explain a lost delivery (run.ts prints them). */
  readonly givenUp: GivenUp;
}

/** Ours: why a node may have given an id up (the Plumtree core's counters, docs/limits.md). */
export interface GivenUp {
  /** Missing ids whose GRAFTs all went unanswered. */
  readonly graftsFailed: number;
  /** GRAFTs this node could not answer: the id was no longer cached. */
  readonly graftsMissed: number;
  /** Missing ids given up at the `maxMissingIds` cap. */
  readonly missingEvicted: number;
  /** Announced ids not tracked: their announcer's budget of new missing ids was spent. */
  readonly missingOverBudget: number;
}

/** Child -> parent. */
export type FromChild =
  /** Started; ours: `addr` is the node's `host:port`. */
  | { readonly type: 'ready'; readonly addr: string | undefined }
  | { readonly type: 'error'; readonly message: string }
  /**
   * Ours: a subscriber's or in-tree publisher's peers in the topic's tree, or a hand-off
   * publisher's known subscribers of the topic.
   */
  | { readonly type: 'view'; readonly peers: number }
  | InFlight
  | SubscriberProgress
  | PublisherProgress
  | SubscriberReport;

/**
 * Wall-clock ms with sub-millisecond resolution: the process's time origin (read from the
 * system clock at start, microseconds) plus the monotonic clock since then. Every process of a
 * run is on this host, so publish and delivery times of different processes compare.
 */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}
