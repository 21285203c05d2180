/**
 * What the replicator keeps per durable topic: the streams and their cursors, the records held
 * back after a gap, the records accepted and not yet appended, the peers and the catch-up in
 * flight. Shared by the pipeline (durable-pipeline.ts) and the catch-up requester
 * (catchup-requester.ts).
 */
import type { DurableLog, DurableRecord } from './durable-log.js';
import type { CatchupReason, DurableTopicStats } from './durable-replicator-types.js';

export interface Entry {
  readonly record: DurableRecord;
  readonly from: string;
  readonly caughtUp: boolean;
}

export interface StreamState {
  readonly key: string;
  /** Highest seq handed on to the append queue (held records are above it). */
  cursor: number;
  readonly held: Map<number, Entry>;
  /** When the oldest record still held was held. */
  firstHeldAtMs: number;
  /** When a record of the stream last arrived (0 for a stream read from the log at start). */
  lastSeenMs: number;
}

export interface Catchup {
  readonly reason: CatchupReason;
  peer: string;
  requestId: number;
  attempts: number;
  readonly tried: Set<string>;
  /** Request marks: the log's hwm at the start, raised past every record a page carried. */
  readonly marks: Map<string, { origin: string; epoch: number; hwm: number }>;
  timer: unknown;
  pages: number;
  records: number;
  readonly startedAtMs: number;
  lastRequestAtMs: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export interface TopicState {
  readonly topic: string;
  readonly log: DurableLog;
  peers: string[];
  peerSet: Set<string>;
  peersSeen: boolean;
  readonly notDurable: Set<string>;
  readonly streams: Map<string, StreamState>;
  readonly heldStreams: Set<StreamState>;
  heldCount: number;
  pending: Entry[];
  readonly inFlight: Set<string>;
  appending: boolean;
  idleWaiters: (() => void)[];
  catchup: Catchup | undefined;
  readonly wantPeers: { peer: string; reason: CatchupReason }[];
  wantAny: CatchupReason | undefined;
  gapTimer: unknown;
  gapDeadlineMs: number;
  /** When the last catch-up completed or failed (held gaps wait gapWaitMs from then). */
  lastCatchupEndMs: number;
  /** The next repair of holes in the log, and the delay before the one after it. */
  repairTimer: unknown;
  repairDelayMs: number;
  roundRobin: number;
  removed: boolean;
  readonly stats: Mutable<DurableTopicStats>;
}

export function streamKey(origin: string, epoch: number): string {
  return `${epoch}\u0000${origin}`;
}

/** Whether some stream of the topic's log lacks a record below its highest (a gap given up). */
export function hasHoles(ts: TopicState): boolean {
  return ts.log.marks().some((m) => m.hwm < m.lastSeq);
}

export function recordKey(r: DurableRecord): string {
  return `${r.seq}\u0000${r.epoch}\u0000${r.origin}`;
}

function emptyStats(): Mutable<DurableTopicStats> {
  return {
    catchupsStarted: 0,
    catchupsCompleted: 0,
    catchupsFailed: 0,
    requestTimeouts: 0,
    recordsPulled: 0,
    recordsDelivered: 0,
    requestsServed: 0,
    recordsServed: 0,
    held: 0,
    heldTotal: 0,
    gapsSeen: 0,
    duplicatesDropped: 0,
    liveRefused: 0,
    pending: 0,
    appendFailures: 0,
    deliveryErrors: 0,
    streamsForgotten: 0,
  };
}

/**
 * The state of a topic just made durable with `log`: its streams resume after the highest seq
 * the log holds (gaps below it were given up before).
 */
export function newTopicState(topic: string, log: DurableLog): TopicState {
  const ts: TopicState = {
    topic,
    log,
    peers: [],
    peerSet: new Set(),
    peersSeen: false,
    notDurable: new Set(),
    streams: new Map(),
    heldStreams: new Set(),
    heldCount: 0,
    pending: [],
    inFlight: new Set(),
    appending: false,
    idleWaiters: [],
    catchup: undefined,
    wantPeers: [],
    wantAny: undefined,
    gapTimer: undefined,
    gapDeadlineMs: Infinity,
    lastCatchupEndMs: -Infinity,
    repairTimer: undefined,
    repairDelayMs: 0,
    roundRobin: 0,
    removed: false,
    stats: emptyStats(),
  };
  for (const m of log.marks()) {
    const key = streamKey(m.origin, m.epoch);
    ts.streams.set(key, {
      key,
      cursor: m.lastSeq,
      held: new Map(),
      firstHeldAtMs: 0,
      lastSeenMs: 0,
    });
  }
  return ts;
}

/**
 * Make room for a new stream of `ts` (at `maxStreamsPerTopic`): forget the streams with nothing
 * held back that were idle past `retentionMs` (the log keeps nothing older), else the longest
 * idle tenth of them, so meeting new streams at the cap costs O(1) amortised. A forgotten stream
 * that comes back resumes after the record before its next one when the log holds it
 * (durable-pipeline.ts). Returns how many were forgotten.
 */
export function pruneStreams(ts: TopicState, nowMs: number, retentionMs: number): number {
  const idle: StreamState[] = [];
  let forgotten = 0;
  for (const st of ts.streams.values()) {
    if (st.held.size > 0) continue;
    if (st.lastSeenMs <= nowMs - retentionMs) {
      ts.streams.delete(st.key);
      forgotten++;
    } else idle.push(st);
  }
  if (forgotten > 0) return forgotten;
  idle.sort((a, b) => a.lastSeenMs - b.lastSeenMs);
  const count = Math.max(1, Math.ceil(idle.length / 10));
  for (const st of idle.slice(0, count)) ts.streams.delete(st.key);
  return Math.min(count, idle.length);
}
