/**
 * Durable topics: persist every delivered message before handlers see it, and catch up on what
 * this node missed by pulling it from a peer of the topic.
 *
 * One replicator per node. The node feeds it:
 * - `addTopic` / `removeTopic` as durable topics are joined and left;
 * - `onLive` for every message Plumtree delivers on a durable topic (instead of handing it to
 *   the handlers itself);
 * - `onPeersChanged` with the topic's peers (this node excluded) whenever they change;
 * - `onFrame` for frames whose first byte is {@link CATCHUP_REQUEST_KIND} (0x83) or
 *   {@link CATCHUP_RESPONSE_KIND} (0x84).
 * It calls back `host.deliver` (after the record is in the log) and `host.send`, and uses the
 * host's clock and timers only, so tests drive it with a fake clock.
 *
 * Per topic, records pass one pipeline, whether live or caught up:
 * 1. dedupe: dropped when the log has it (delivered before, also before a restart), when it is
 *    in flight (accepted, not yet appended) or held back;
 * 2. order: per stream (origin, epoch) a cursor holds the highest seq handed on. A record at
 *    or below cursor + 1 goes on (at or below: a late gap fill); one above is held back and a
 *    catch-up starts. Caught-up records pass the same rule: a peer's log may lack a record
 *    still on its way through the tree. Held records go on in seq order once the gap fills,
 *    `gapWaitMs` after the later of their hold and the last catch-up (none in flight), or when
 *    the buffer is full: a stream is never blocked for good, and out of order only when a gap
 *    was given up. A log left with holes asks peers again, backing off (`repair`), until they
 *    fill;
 * 3. append: what went on in the same turn is appended as one batch; batches of a topic are
 *    serialized (one append at a time, the next takes everything that queued meanwhile);
 * 4. deliver: the records the append stored, in pipeline order.
 * So every record reaches `deliver` exactly once per log and, whenever the records are
 * available, in per-stream seq order.
 *
 * Catch-up (at most one in flight per topic): send the log's per-stream hwm marks to a peer,
 * process the page (one append batch), wait `paceMs`, ask for the next page with the marks
 * raised past what the page carried, until the peer says no more. An unanswered request is
 * retried with another peer after `requestTimeoutMs`; a peer answering not-durable is skipped
 * for the topic until it leaves and rejoins its peer list; when no peer is left the catch-up
 * fails with an event. Triggers: the first non-empty peer list after `addTopic` (start), each
 * new peer in later lists (partition healed, node restarted: the catch-up goes to THAT peer),
 * a gap in a stream, and a live record refused for backpressure.
 *
 * Memory is bounded per topic by `maxHeldPerTopic` held records, `maxPendingPerTopic`
 * accepted-but-not-delivered records (beyond it `onLive` returns false: the record is refused,
 * the cursor does not move, and a catch-up pulls it later, so refusal loses nothing while a peer
 * has it) and one page of a catch-up.
 */
import { Subject, type Observable } from 'rxjs';
import {
  CATCHUP_REQUEST_KIND,
  CATCHUP_RESPONSE_KIND,
  catchupHeaderBytes,
  catchupMarkBytes,
  catchupRecordBytes,
  CatchupStatus,
  decodeCatchupFrame,
  encodeCatchupRequest,
  encodeCatchupResponse,
  type CatchupRequest,
  type CatchupResponse,
} from './catchup-codec.js';
import type { DurableLog, DurableRecord, DurableRequestMark } from './durable-log.js';
import {
  resolveDurableReplicatorOptions,
  type DurableReplicatorOptions,
  type ResolvedDurableReplicatorOptions,
} from './durable-options.js';

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
}

/** What `stats()` returns. */
export interface DurableReplicatorStats {
  /** Per durable topic. */
  readonly topics: Readonly<Record<string, DurableTopicStats>>;
  /** Catch-up frames that did not decode. */
  readonly malformedFrames: number;
  /** Responses to no request in flight (late after a timeout, or from the wrong peer). */
  readonly unexpectedResponses: number;
}

interface Entry {
  readonly record: DurableRecord;
  readonly from: string;
  readonly caughtUp: boolean;
}

interface StreamState {
  readonly key: string;
  /** Highest seq handed on to the append queue (held records are above it). */
  cursor: number;
  readonly held: Map<number, Entry>;
  /** When the oldest record still held was held. */
  firstHeldAtMs: number;
}

interface Catchup {
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

interface TopicState {
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

function streamKey(origin: string, epoch: number): string {
  return `${epoch}\u0000${origin}`;
}

/** Whether some stream of the log lacks a record below its highest (a gap given up). */
function hasHoles(log: DurableLog): boolean {
  return log.marks().some((m) => m.hwm < m.lastSeq);
}

function recordKey(r: DurableRecord): string {
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
  };
}

/** Thrown by `addTopic` for a topic already added (a programmer error). */
export class DurableTopicExistsError extends Error {
  override readonly name = 'DurableTopicExistsError';
  constructor(readonly topic: string) {
    super(`durable topic ${topic} is already added`);
  }
}

/** Persists and orders durable topics' deliveries and runs their catch-up; see the file header. */
export class DurableReplicator {
  /** Catch-up progress and failures, and log append failures. */
  readonly events$: Observable<DurableReplicatorEvent>;
  private readonly events = new Subject<DurableReplicatorEvent>();
  private readonly options: ResolvedDurableReplicatorOptions;
  private readonly topics = new Map<string, TopicState>();
  /** Request id in flight -> its topic. */
  private readonly requests = new Map<number, string>();
  private nextRequestId = 1;
  private malformedFrames = 0;
  private unexpectedResponses = 0;

  /** Throws `DurableOptionsError` listing every invalid option. */
  constructor(
    private readonly host: DurableHost,
    options: DurableReplicatorOptions = {},
  ) {
    this.options = resolveDurableReplicatorOptions(options);
    this.events$ = this.events.asObservable();
  }

  /** The options in force. */
  get resolvedOptions(): ResolvedDurableReplicatorOptions {
    return this.options;
  }

  /** Make `topic` durable with `log`. Throws {@link DurableTopicExistsError} when it already is. */
  addTopic(topic: string, log: DurableLog): void {
    if (this.topics.has(topic)) throw new DurableTopicExistsError(topic);
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
    // Streams resume after the highest seq the log holds: gaps below it were given up before.
    for (const m of log.marks()) {
      const key = streamKey(m.origin, m.epoch);
      ts.streams.set(key, { key, cursor: m.lastSeq, held: new Map(), firstHeldAtMs: 0 });
    }
    this.topics.set(topic, ts);
  }

  /**
   * Stop handling `topic`: timers stop, held and queued records are dropped (they were not
   * delivered, so the log does not have them and a later catch-up pulls them again).
   */
  removeTopic(topic: string): void {
    const ts = this.topics.get(topic);
    if (ts === undefined) return;
    ts.removed = true;
    this.topics.delete(topic);
    if (ts.gapTimer !== undefined) this.host.clearTimer(ts.gapTimer);
    if (ts.repairTimer !== undefined) this.host.clearTimer(ts.repairTimer);
    const c = ts.catchup;
    if (c !== undefined) {
      if (c.timer !== undefined) this.host.clearTimer(c.timer);
      this.requests.delete(c.requestId);
      ts.catchup = undefined;
    }
    ts.pending = [];
    for (const w of ts.idleWaiters.splice(0)) w();
  }

  /** Whether `topic` is durable here. */
  hasTopic(topic: string): boolean {
    return this.topics.has(topic);
  }

  /** Remove every topic and complete `events$`. */
  close(): void {
    for (const topic of [...this.topics.keys()]) this.removeTopic(topic);
    this.events.complete();
  }

  /**
   * A message Plumtree delivered on a durable topic. Returns false only when it was refused:
   * the topic is not durable here, or `maxPendingPerTopic` records are in flight (backpressure;
   * a catch-up pulls the record later). Duplicates are dropped and counted, returning true.
   */
  onLive(topic: string, record: DurableRecord, from: string): boolean {
    const ts = this.topics.get(topic);
    if (ts === undefined) return false;
    const st = this.stream(ts, record);
    if (this.isDuplicate(ts, st, record)) {
      ts.stats.duplicatesDropped++;
      return true;
    }
    if (ts.inFlight.size >= this.options.maxPendingPerTopic) {
      ts.stats.liveRefused++;
      this.want(ts, 'backpressure');
      return false;
    }
    const entry: Entry = { record, from, caughtUp: false };
    if (record.seq <= st.cursor + 1) {
      this.handOn(ts, st, entry);
      this.drainHeld(ts, st);
    } else {
      this.hold(ts, st, entry);
    }
    return true;
  }

  /**
   * The peers of `topic` (alive members subscribed to it, this node excluded). The first
   * non-empty list after `addTopic` starts a catch-up; later, each peer new to the list gets
   * one of its own.
   */
  onPeersChanged(topic: string, peers: readonly string[]): void {
    const ts = this.topics.get(topic);
    if (ts === undefined) return;
    const next = new Set(peers);
    const fresh = [...next].filter((p) => !ts.peerSet.has(p));
    // A peer that left may come back with a durable log: forget its not-durable answer.
    for (const p of ts.peerSet) if (!next.has(p)) ts.notDurable.delete(p);
    ts.peers = [...next];
    ts.peerSet = next;
    // A request in flight to a peer that just went away (failed, left, cut off) will not be
    // answered: move on now instead of waiting out requestTimeoutMs, which would also hold up
    // the catch-ups queued behind it (one per topic at a time).
    const c = ts.catchup;
    if (c !== undefined && c.timer !== undefined && !next.has(c.peer)) {
      this.host.clearTimer(c.timer);
      c.timer = undefined;
      this.requests.delete(c.requestId);
      this.retry(ts, c, 'unreachable');
    }
    if (!ts.peersSeen) {
      if (next.size === 0) return;
      ts.peersSeen = true;
      this.want(ts, 'start');
      return;
    }
    for (const peer of fresh) {
      if (!ts.wantPeers.some((w) => w.peer === peer)) {
        ts.wantPeers.push({ peer, reason: 'peer-joined' });
      }
    }
    this.maybeStartCatchup(ts);
  }

  /**
   * A frame from `peer` on the frame transport. Returns false when it is not a catch-up frame
   * (first byte neither 0x83 nor 0x84); malformed ones are counted and dropped.
   */
  onFrame(peer: string, frame: Uint8Array): boolean {
    const kind = frame[0];
    if (kind !== CATCHUP_REQUEST_KIND && kind !== CATCHUP_RESPONSE_KIND) return false;
    const decoded = decodeCatchupFrame(frame);
    if (decoded === null) {
      this.malformedFrames++;
    } else if (decoded.kind === CATCHUP_REQUEST_KIND) {
      void this.serve(peer, decoded);
    } else {
      this.onResponse(peer, decoded);
    }
    return true;
  }

  /** Counters per topic and for the frames. */
  stats(): DurableReplicatorStats {
    const topics: Record<string, DurableTopicStats> = {};
    for (const ts of this.topics.values()) {
      topics[ts.topic] = { ...ts.stats, held: ts.heldCount, pending: ts.inFlight.size };
    }
    return {
      topics,
      malformedFrames: this.malformedFrames,
      unexpectedResponses: this.unexpectedResponses,
    };
  }

  /**
   * Resolves once every record accepted so far on `topic` is appended and delivered (at once
   * for an unknown topic). For shutdown and tests.
   */
  whenIdle(topic: string): Promise<void> {
    const ts = this.topics.get(topic);
    return ts === undefined ? Promise.resolve() : this.idle(ts);
  }

  // ---- pipeline ---------------------------------------------------------------------------

  private stream(ts: TopicState, r: DurableRecord): StreamState {
    const key = streamKey(r.origin, r.epoch);
    let st = ts.streams.get(key);
    if (st === undefined) {
      st = { key, cursor: 0, held: new Map(), firstHeldAtMs: 0 };
      ts.streams.set(key, st);
    }
    return st;
  }

  private isDuplicate(ts: TopicState, st: StreamState, r: DurableRecord): boolean {
    return (
      st.held.has(r.seq) || ts.inFlight.has(recordKey(r)) || ts.log.has(r.origin, r.epoch, r.seq)
    );
  }

  /** Queue a record for the next append batch and move the stream's cursor. */
  private handOn(ts: TopicState, st: StreamState, entry: Entry): void {
    if (entry.record.seq > st.cursor) st.cursor = entry.record.seq;
    ts.inFlight.add(recordKey(entry.record));
    ts.pending.push(entry);
    if (!ts.appending) {
      ts.appending = true;
      // A microtask: everything accepted in this turn joins the batch.
      queueMicrotask(() => void this.appendLoop(ts));
    }
  }

  private takeHeld(ts: TopicState, st: StreamState, seq: number): Entry | undefined {
    const e = st.held.get(seq);
    if (e === undefined) return undefined;
    st.held.delete(seq);
    ts.heldCount--;
    if (st.held.size === 0) ts.heldStreams.delete(st);
    return e;
  }

  /** Hand on held records that follow the cursor without a gap. */
  private drainHeld(ts: TopicState, st: StreamState): void {
    for (;;) {
      const e = this.takeHeld(ts, st, st.cursor + 1);
      if (e === undefined) return;
      this.handOn(ts, st, e);
    }
  }

  /** Hand on every held record of `st` in seq order: the gap before them is given up. */
  private flushStream(ts: TopicState, st: StreamState): void {
    const seqs = [...st.held.keys()].sort((a, b) => a - b);
    for (const s of seqs) this.handOn(ts, st, this.takeHeld(ts, st, s)!);
    // The log will have a hole: try again later to fill it.
    this.scheduleRepair(ts, false);
  }

  private hold(ts: TopicState, st: StreamState, entry: Entry): void {
    const newGap = st.held.size === 0;
    if (newGap) {
      ts.stats.gapsSeen++;
      st.firstHeldAtMs = this.host.now();
      ts.heldStreams.add(st);
    }
    st.held.set(entry.record.seq, entry);
    ts.heldCount++;
    ts.stats.heldTotal++;
    // More records behind a gap already asked for need no catch-up of their own.
    if (newGap) this.want(ts, 'gap');
    if (ts.heldCount >= this.options.maxHeldPerTopic) {
      // Full: give up waiting rather than drop anything.
      for (const s of [...ts.heldStreams]) this.flushStream(ts, s);
      return;
    }
    this.armGapTimer(ts);
  }

  /**
   * When `st`'s held records are given up: never while a catch-up is in flight (it may fill the
   * gap; an unanswered request moves on after `requestTimeoutMs`), else `gapWaitMs` after the
   * first was held or after the last catch-up ended, whichever is later.
   */
  private gapDeadline(ts: TopicState, st: StreamState): number {
    if (ts.catchup !== undefined) return Infinity;
    return Math.max(st.firstHeldAtMs, ts.lastCatchupEndMs) + this.options.gapWaitMs;
  }

  private armGapTimer(ts: TopicState): void {
    let deadline = Infinity;
    for (const st of ts.heldStreams) deadline = Math.min(deadline, this.gapDeadline(ts, st));
    if (deadline === ts.gapDeadlineMs) return;
    if (ts.gapTimer !== undefined) this.host.clearTimer(ts.gapTimer);
    ts.gapTimer = undefined;
    ts.gapDeadlineMs = deadline;
    if (deadline === Infinity) return;
    ts.gapTimer = this.host.setTimer(
      () => {
        ts.gapTimer = undefined;
        ts.gapDeadlineMs = Infinity;
        if (ts.removed) return;
        const now = this.host.now();
        for (const st of [...ts.heldStreams]) {
          if (this.gapDeadline(ts, st) <= now) this.flushStream(ts, st);
        }
        this.armGapTimer(ts);
      },
      Math.max(0, deadline - this.host.now()),
    );
  }

  private idle(ts: TopicState): Promise<void> {
    if (!ts.appending && ts.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => ts.idleWaiters.push(resolve));
  }

  private async appendLoop(ts: TopicState): Promise<void> {
    while (ts.pending.length > 0 && !ts.removed) {
      const batch = ts.pending;
      ts.pending = [];
      let stored: Set<string> | undefined;
      try {
        const appended = await ts.log.append(batch.map((e) => e.record));
        stored = new Set(appended.map(recordKey));
      } catch (err) {
        ts.stats.appendFailures += batch.length;
        this.events.next({
          type: 'append-failed',
          topic: ts.topic,
          records: batch.length,
          error: err instanceof Error ? err.message : String(err),
        });
      }
      for (const e of batch) {
        const key = recordKey(e.record);
        ts.inFlight.delete(key);
        if (stored === undefined || !stored.has(key) || ts.removed) continue;
        stored.delete(key);
        ts.stats.recordsDelivered++;
        if (e.caughtUp) {
          ts.stats.recordsPulled++;
          if (ts.catchup !== undefined) ts.catchup.records++;
        }
        try {
          this.host.deliver(ts.topic, e.record, e.from);
        } catch {
          ts.stats.deliveryErrors++;
        }
      }
    }
    ts.appending = false;
    for (const w of ts.idleWaiters.splice(0)) w();
  }

  // ---- catch-up: requesting ----------------------------------------------------------------

  private want(ts: TopicState, reason: CatchupReason): void {
    ts.wantAny ??= reason;
    this.maybeStartCatchup(ts);
  }

  private eligible(ts: TopicState, peer: string, exclude?: ReadonlySet<string>): boolean {
    return ts.peerSet.has(peer) && !ts.notDurable.has(peer) && !(exclude?.has(peer) ?? false);
  }

  private pickPeer(ts: TopicState, exclude: ReadonlySet<string>): string | undefined {
    const candidates = ts.peers.filter((p) => this.eligible(ts, p, exclude));
    if (candidates.length === 0) return undefined;
    return candidates[ts.roundRobin++ % candidates.length];
  }

  private maybeStartCatchup(ts: TopicState): void {
    if (ts.catchup !== undefined || ts.removed) return;
    while (ts.wantPeers.length > 0) {
      const w = ts.wantPeers.shift()!;
      if (this.eligible(ts, w.peer)) {
        // The specific peer covers whatever else was wanted too.
        ts.wantAny = undefined;
        this.startCatchup(ts, w.reason, w.peer);
        return;
      }
    }
    if (ts.wantAny === undefined) return;
    const peer = this.pickPeer(ts, new Set());
    // No peer yet: the wish stays until a peer list brings one.
    if (peer === undefined) return;
    const reason = ts.wantAny;
    ts.wantAny = undefined;
    this.startCatchup(ts, reason, peer);
  }

  private startCatchup(ts: TopicState, reason: CatchupReason, peer: string): void {
    const marks = new Map<string, { origin: string; epoch: number; hwm: number }>();
    for (const m of ts.log.marks()) {
      marks.set(streamKey(m.origin, m.epoch), { origin: m.origin, epoch: m.epoch, hwm: m.hwm });
    }
    const now = this.host.now();
    const c: Catchup = {
      reason,
      peer,
      requestId: 0,
      attempts: 0,
      tried: new Set(),
      marks,
      timer: undefined,
      pages: 0,
      records: 0,
      startedAtMs: now,
      lastRequestAtMs: now,
    };
    ts.catchup = c;
    ts.stats.catchupsStarted++;
    this.sendRequest(ts, c, peer);
  }

  /** The request's marks: newest epochs first, as many as the frame and the cap allow. */
  private requestMarks(ts: TopicState, c: Catchup): DurableRequestMark[] {
    const all = [...c.marks.values()];
    let budget = this.options.maxFrameBytes - catchupHeaderBytes(ts.topic);
    if (all.length <= this.options.maxMarksPerRequest) {
      let bytes = 0;
      for (const m of all) bytes += catchupMarkBytes(m);
      if (bytes <= budget) return all;
    }
    // Streams left out are served from seq 1 and dropped as duplicates: wasteful, not wrong.
    all.sort((a, b) => b.epoch - a.epoch);
    const out: DurableRequestMark[] = [];
    for (const m of all) {
      const size = catchupMarkBytes(m);
      if (out.length >= this.options.maxMarksPerRequest || size > budget) break;
      budget -= size;
      out.push(m);
    }
    return out;
  }

  private sendRequest(ts: TopicState, c: Catchup, peer: string): void {
    if (c.peer !== peer || c.attempts === 0) {
      c.peer = peer;
      c.attempts++;
      c.tried.add(peer);
      this.events.next({
        type: 'catchup-started',
        topic: ts.topic,
        peer,
        reason: c.reason,
        attempt: c.attempts,
      });
    }
    const requestId = this.nextRequestId;
    this.nextRequestId = this.nextRequestId >= 0xffffffff ? 1 : this.nextRequestId + 1;
    c.requestId = requestId;
    c.lastRequestAtMs = this.host.now();
    this.requests.set(requestId, ts.topic);
    const frame = encodeCatchupRequest({
      requestId,
      topic: ts.topic,
      marks: this.requestMarks(ts, c),
      maxMessages: this.options.pageMessages,
      maxBytes: this.options.pageBytes,
    });
    c.timer = this.host.setTimer(() => {
      if (ts.catchup !== c || c.requestId !== requestId) return;
      c.timer = undefined;
      this.requests.delete(requestId);
      ts.stats.requestTimeouts++;
      this.retry(ts, c, 'timeout');
    }, this.options.requestTimeoutMs);
    if (!this.host.send(peer, frame)) {
      this.host.clearTimer(c.timer);
      c.timer = undefined;
      this.requests.delete(requestId);
      this.retry(ts, c, 'unreachable');
    }
  }

  /** Ask the next peer not tried yet, keeping the pages pulled so far; fail when none is left. */
  private retry(ts: TopicState, c: Catchup, failure: CatchupFailure): void {
    const peer = this.pickPeer(ts, c.tried);
    if (peer === undefined) {
      this.finish(ts, c, failure);
      return;
    }
    this.sendRequest(ts, c, peer);
  }

  private onResponse(from: string, r: CatchupResponse): void {
    const topic = this.requests.get(r.requestId);
    const ts = topic === undefined ? undefined : this.topics.get(topic);
    const c = ts?.catchup;
    if (
      ts === undefined ||
      c === undefined ||
      topic !== r.topic ||
      c.requestId !== r.requestId ||
      c.peer !== from
    ) {
      this.unexpectedResponses++;
      return;
    }
    this.requests.delete(r.requestId);
    if (c.timer !== undefined) this.host.clearTimer(c.timer);
    c.timer = undefined;
    if (r.status === CatchupStatus.NotDurable) {
      ts.notDurable.add(from);
      this.retry(ts, c, 'not-durable');
      return;
    }
    if (r.status === CatchupStatus.Error) {
      this.retry(ts, c, 'error');
      return;
    }
    c.pages++;
    this.acceptPage(ts, c, r.records, from);
    const more = r.more && r.records.length > 0;
    void this.idle(ts).then(() => {
      if (ts.catchup !== c || ts.removed) return;
      if (!more) {
        this.finish(ts, c, undefined);
        return;
      }
      // The pause is what lets live traffic through between pages.
      c.timer = this.host.setTimer(() => {
        c.timer = undefined;
        if (ts.catchup === c) this.sendRequest(ts, c, c.peer);
      }, this.options.paceMs);
    });
  }

  /** Feed a page into the pipeline, per stream in seq order, and raise the request marks. */
  private acceptPage(
    ts: TopicState,
    c: Catchup,
    records: readonly DurableRecord[],
    from: string,
  ): void {
    const byStream = new Map<string, DurableRecord[]>();
    for (const r of records) {
      const key = streamKey(r.origin, r.epoch);
      const list = byStream.get(key);
      if (list === undefined) byStream.set(key, [r]);
      else list.push(r);
    }
    for (const [key, list] of byStream) {
      list.sort((a, b) => a.seq - b.seq);
      const first = list[0]!;
      const top = list[list.length - 1]!.seq;
      const mark = c.marks.get(key);
      // The peer sent everything it has above the mark up to `top`: never ask for it again.
      if (mark === undefined) {
        c.marks.set(key, { origin: first.origin, epoch: first.epoch, hwm: top });
      } else if (top > mark.hwm) {
        mark.hwm = top;
      }
      const st = this.stream(ts, first);
      let last = 0;
      for (const r of list) {
        if (r.seq === last) continue;
        last = r.seq;
        if (this.isDuplicate(ts, st, r)) {
          // A held copy goes on as soon as the records before it are in.
          if (st.held.has(r.seq)) this.drainHeld(ts, st);
          else ts.stats.duplicatesDropped++;
          continue;
        }
        // The peer's log may have a gap of its own (a record still on its way through the tree
        // to it): a caught-up record after a gap waits like a live one.
        const entry: Entry = { record: r, from, caughtUp: true };
        if (r.seq <= st.cursor + 1) {
          this.handOn(ts, st, entry);
          this.drainHeld(ts, st);
        } else {
          this.hold(ts, st, entry);
        }
      }
    }
  }

  private finish(ts: TopicState, c: Catchup, failure: CatchupFailure | undefined): void {
    ts.catchup = undefined;
    ts.lastCatchupEndMs = this.host.now();
    if (c.timer !== undefined) this.host.clearTimer(c.timer);
    c.timer = undefined;
    if (failure === undefined) {
      ts.stats.catchupsCompleted++;
      this.events.next({
        type: 'catchup-completed',
        topic: ts.topic,
        peer: c.peer,
        reason: c.reason,
        pages: c.pages,
        records: c.records,
        durationMs: this.host.now() - c.startedAtMs,
      });
    } else {
      ts.stats.catchupsFailed++;
      this.events.next({
        type: 'catchup-failed',
        topic: ts.topic,
        peer: c.attempts > 0 ? c.peer : undefined,
        reason: c.reason,
        failure,
        attempts: c.attempts,
        records: c.records,
      });
    }
    this.maybeStartCatchup(ts);
    // Still held: no peer asked had the gap; it may still arrive live (gapWaitMs from now).
    this.armGapTimer(ts);
    if (hasHoles(ts.log)) this.scheduleRepair(ts, c.records > 0);
    else ts.repairDelayMs = 0;
  }

  /**
   * While the log has holes (gaps given up: held records went on without them), ask a peer
   * again later, backing off from `gapWaitMs` to `repairMaxDelayMs` while nothing comes: a
   * record that some peer has is delivered eventually, late rather than never.
   */
  private scheduleRepair(ts: TopicState, progress: boolean): void {
    if (ts.repairTimer !== undefined || ts.removed) return;
    const o = this.options;
    ts.repairDelayMs =
      progress || ts.repairDelayMs === 0
        ? Math.max(1, o.gapWaitMs)
        : Math.min(o.repairMaxDelayMs, ts.repairDelayMs * 2);
    ts.repairTimer = this.host.setTimer(() => {
      ts.repairTimer = undefined;
      if (ts.removed) return;
      if (hasHoles(ts.log)) this.want(ts, 'repair');
      else ts.repairDelayMs = 0;
    }, ts.repairDelayMs);
  }

  // ---- catch-up: serving -------------------------------------------------------------------

  private async serve(peer: string, req: CatchupRequest): Promise<void> {
    const reply = (status: CatchupStatus, records: DurableRecord[] = [], more = false): void => {
      this.host.send(
        peer,
        encodeCatchupResponse({
          requestId: req.requestId,
          topic: req.topic,
          status,
          more,
          records,
        }),
      );
    };
    const ts = this.topics.get(req.topic);
    if (ts === undefined) {
      reply(CatchupStatus.NotDurable);
      return;
    }
    ts.stats.requestsServed++;
    const o = this.options;
    const frameBudget = o.maxFrameBytes - (catchupHeaderBytes(req.topic) - 6);
    const maxMessages = Math.max(1, Math.min(req.maxMessages, o.serveMaxMessages));
    const maxBytes = Math.max(1, Math.min(req.maxBytes, o.serveMaxBytes, frameBudget));
    let page;
    try {
      page = await ts.log.readMissing(req.marks, { maxMessages, maxBytes });
    } catch {
      reply(CatchupStatus.Error);
      return;
    }
    // Enforce the limits whatever the log returned: the frame must fit the transport.
    const records: DurableRecord[] = [];
    let bytes = 0;
    let more = page.more;
    for (const r of page.records) {
      const size = catchupRecordBytes(r);
      if (
        records.length >= maxMessages ||
        bytes + size > frameBudget ||
        (records.length > 0 && bytes + size > maxBytes)
      ) {
        more = true;
        break;
      }
      records.push(r);
      bytes += size;
    }
    if (records.length === 0 && page.records.length > 0) {
      // A record bigger than a frame can never be served: say so rather than loop.
      reply(CatchupStatus.Error);
      return;
    }
    try {
      const frame = encodeCatchupResponse({
        requestId: req.requestId,
        topic: req.topic,
        status: CatchupStatus.Ok,
        more,
        records,
      });
      ts.stats.recordsServed += records.length;
      this.host.send(peer, frame);
    } catch {
      reply(CatchupStatus.Error);
    }
  }
}
