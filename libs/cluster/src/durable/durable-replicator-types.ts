/**
 * The contract of the {@link DurableReplicator}: what it needs from its node (the host) and
 * what it reports (events and statistics).
 */
import type { DurableRecord } from './durable-log.js';

/** What the replicator needs from its node. */
export interface DurableHost {
  /** Queue a frame to a peer; false when it could not be queued (peer unknown, queue full). */
  send(peer: string, frame: Uint8Array): boolean;
  /** Hand a record to the topic's handlers; called after the record is in the log. */
  deliver(topic: string, record: DurableRecord, from: string): void;
  /** Wall clock, ms. */
  now(): number;
  /** Run `fn` once after `ms`; returns a handle for `clearTimer`. */
  setTimer(fn: () => void, ms: number): unknown;
  /** Cancel a timer set by `setTimer`. */
  clearTimer(handle: unknown): void;
}

/** Why a catch-up started (`repair`: the log still has holes, gaps given up before). */
export type CatchupReason = 'start' | 'peer-joined' | 'gap' | 'backpressure' | 'repair';

/** Why a catch-up failed: the last peer's answer (or silence) when no peer was left to try. */
export type CatchupFailure = 'timeout' | 'unreachable' | 'not-durable' | 'error' | 'no-peer';

/** What `events$` emits. */
export type DurableReplicatorEvent =
  /** A catch-up request went to `peer` (`attempt` 1 for the first peer, 2 for a retry, ...). */
  | {
      readonly type: 'catchup-started';
      readonly topic: string;
      readonly peer: string;
      readonly reason: CatchupReason;
      readonly attempt: number;
    }
  /** `peer` had nothing more: `records` were pulled (appended and delivered) in `pages`. */
  | {
      readonly type: 'catchup-completed';
      readonly topic: string;
      readonly peer: string;
      readonly reason: CatchupReason;
      readonly pages: number;
      readonly records: number;
      readonly durationMs: number;
    }
  /** No peer was left to ask; `records` were pulled before it gave up. */
  | {
      readonly type: 'catchup-failed';
      readonly topic: string;
      readonly peer: string | undefined;
      readonly reason: CatchupReason;
      readonly failure: CatchupFailure;
      readonly attempts: number;
      readonly records: number;
    }
  /** The log rejected a batch: its records were neither stored nor delivered. */
  | {
      readonly type: 'append-failed';
      readonly topic: string;
      readonly records: number;
      readonly error: string;
    };

/** Counters of one durable topic. */
export interface DurableTopicStats {
  readonly catchupsStarted: number;
  readonly catchupsCompleted: number;
  readonly catchupsFailed: number;
  /** Catch-up requests that timed out (each is retried with another peer when there is one). */
  readonly requestTimeouts: number;
  /** Records pulled by catch-up (appended and delivered). */
  readonly recordsPulled: number;
  /** Records delivered, live and caught up. */
  readonly recordsDelivered: number;
  /** Catch-up requests of peers answered, and the records sent in them. */
  readonly requestsServed: number;
  readonly recordsServed: number;
  /** Records held back now, and in total since addTopic. */
  readonly held: number;
  readonly heldTotal: number;
  /** Gaps seen: a stream's first held record. */
  readonly gapsSeen: number;
  /** Copies dropped because the record was delivered, in flight or held already. */
  readonly duplicatesDropped: number;
  /** Live records refused because `maxPendingPerTopic` records were in flight. */
  readonly liveRefused: number;
  /** Records accepted and not yet appended and delivered. */
  readonly pending: number;
  /** Records in batches the log rejected. */
  readonly appendFailures: number;
  /** `host.deliver` calls that threw. */
  readonly deliveryErrors: number;
  /** Streams forgotten to stay under `maxStreamsPerTopic` (idle past retention first). */
  readonly streamsForgotten: number;
}

/** What `stats()` returns. */
export interface DurableReplicatorStats {
  /** Per durable topic. */
  readonly topics: Readonly<Record<string, DurableTopicStats>>;
  /** Catch-up frames that did not decode. */
  readonly malformedFrames: number;
  /** Catch-up requests dropped: `maxServesPerPeer` of the peer's, or `maxServes` in all, in progress. */
  readonly servesDropped: number;
  /** Responses to no request in flight (late after a timeout, or from the wrong peer). */
  readonly unexpectedResponses: number;
}
