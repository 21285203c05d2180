/**
 * The path every record of a durable topic takes, live or caught up: dedupe, order, append,
 * deliver (the steps are described in durable-replicator.ts).
 *
 * - dedupe: a record the log has, or one in flight (accepted, not yet appended) or held back, is
 *   dropped and counted;
 * - order: per stream (origin, epoch) a cursor holds the highest seq handed on; a record above
 *   cursor + 1 is held back and a catch-up is wanted (caught-up records too: a peer's log may
 *   lack a record still on its way through the tree to it); held records go on in seq order once
 *   the gap fills, `gapWaitMs` after the later of their hold and the last catch-up (never while
 *   one is in flight), or when the buffer is full; a log left with holes asks again (`repair`),
 *   backing off up to `repairMaxDelayMs`, until they fill;
 * - append: what went on in one turn is appended as one batch, batches of a topic one at a time;
 * - deliver: the records the append stored, in pipeline order, to `host.deliver`.
 */
import type { Subject } from 'rxjs';
import type { DurableRecord } from './durable-log.js';
import type { ResolvedDurableReplicatorOptions } from './durable-options.js';
import type {
  CatchupReason,
  DurableHost,
  DurableReplicatorEvent,
} from './durable-replicator-types.js';
import {
  hasHoles,
  recordKey,
  pruneStreams,
  streamKey,
  type Entry,
  type StreamState,
  type TopicState,
} from './durable-topic-state.js';

/** See the file comment. */
export class DurablePipeline {
  constructor(
    private readonly host: DurableHost,
    private readonly options: ResolvedDurableReplicatorOptions,
    private readonly events: Subject<DurableReplicatorEvent>,
    /** A gap or a refusal for backpressure: a catch-up should pull what is missing. */
    private readonly want: (ts: TopicState, reason: CatchupReason) => void,
  ) {}

  /**
   * A live record (see `DurableReplicator.onLive`): false when refused because
   * `maxPendingPerTopic` records are in flight.
   */
  accept(ts: TopicState, record: DurableRecord, from: string): boolean {
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

  /** Stop the topic's gap and repair timers and drop what waits (the topic was removed). */
  stop(ts: TopicState): void {
    if (ts.gapTimer !== undefined) this.host.clearTimer(ts.gapTimer);
    if (ts.repairTimer !== undefined) this.host.clearTimer(ts.repairTimer);
    ts.pending = [];
    for (const w of ts.idleWaiters.splice(0)) w();
  }

  /**
   * The state of `r`'s stream. A stream not seen yet starts at cursor 0, or after `r`'s
   * predecessor when the log holds it (a stream forgotten at `maxStreamsPerTopic` that resumes).
   */
  stream(ts: TopicState, r: DurableRecord): StreamState {
    const key = streamKey(r.origin, r.epoch);
    let st = ts.streams.get(key);
    const nowMs = this.host.now();
    if (st === undefined) {
      const o = this.options;
      if (ts.streams.size >= o.maxStreamsPerTopic) {
        ts.stats.streamsForgotten += pruneStreams(ts, nowMs, o.retentionMs);
      }
      const cursor = r.seq > 1 && ts.log.has(r.origin, r.epoch, r.seq - 1) ? r.seq - 1 : 0;
      st = { key, cursor, held: new Map(), firstHeldAtMs: 0, lastSeenMs: nowMs };
      ts.streams.set(key, st);
    }
    st.lastSeenMs = nowMs;
    return st;
  }

  /** Whether the log has `r`, or it is in flight or held back. */
  isDuplicate(ts: TopicState, st: StreamState, r: DurableRecord): boolean {
    return (
      st.held.has(r.seq) || ts.inFlight.has(recordKey(r)) || ts.log.has(r.origin, r.epoch, r.seq)
    );
  }

  /** Queue a record for the next append batch and move the stream's cursor. */
  handOn(ts: TopicState, st: StreamState, entry: Entry): void {
    if (entry.record.seq > st.cursor) st.cursor = entry.record.seq;
    ts.inFlight.add(recordKey(entry.record));
    ts.pending.push(entry);
    if (!ts.appending) {
      ts.appending = true;
      // A microtask: everything accepted in this turn joins the batch.
      queueMicrotask(() => void this.appendLoop(ts));
    }
  }

  /** Take the held record of `seq` out of the hold-back buffer. */
  takeHeld(ts: TopicState, st: StreamState, seq: number): Entry | undefined {
    const e = st.held.get(seq);
    if (e === undefined) return undefined;
    st.held.delete(seq);
    ts.heldCount--;
    if (st.held.size === 0) ts.heldStreams.delete(st);
    return e;
  }

  /** Hand on held records that follow the cursor without a gap. */
  drainHeld(ts: TopicState, st: StreamState): void {
    for (;;) {
      const e = this.takeHeld(ts, st, st.cursor + 1);
      if (e === undefined) return;
      this.handOn(ts, st, e);
    }
  }

  /** Hand on every held record of the stream, in order: its gap is given up. */
  flushStream(ts: TopicState, st: StreamState): void {
    const seqs = [...st.held.keys()].sort((a, b) => a - b);
    for (const s of seqs) this.handOn(ts, st, this.takeHeld(ts, st, s)!);
    // The log will have a hole: try again later to fill it.
    this.scheduleRepair(ts, false);
  }

  /**
   * While the log has holes (gaps given up: held records went on without them), ask a peer
   * again later, backing off from `gapWaitMs` to `repairMaxDelayMs` while nothing comes: a
   * record that some peer has is delivered eventually, late rather than never.
   */
  scheduleRepair(ts: TopicState, progress: boolean): void {
    if (ts.repairTimer !== undefined || ts.removed) return;
    const o = this.options;
    ts.repairDelayMs =
      progress || ts.repairDelayMs === 0
        ? Math.max(1, o.gapWaitMs)
        : Math.min(o.repairMaxDelayMs, ts.repairDelayMs * 2);
    ts.repairTimer = this.host.setTimer(() => {
      ts.repairTimer = undefined;
      if (ts.removed) return;
      if (hasHoles(ts)) this.want(ts, 'repair');
      else ts.repairDelayMs = 0;
    }, ts.repairDelayMs);
  }

  /** Hold `entry` back behind a gap in its stream and want a catch-up for a new gap. */
  hold(ts: TopicState, st: StreamState, entry: Entry): void {
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

  /** Arm the timer of the earliest held stream's {@link gapDeadline}, when it changed. */
  armGapTimer(ts: TopicState): void {
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

  /** Resolves once nothing of `ts` waits to be appended and delivered. */
  idle(ts: TopicState): Promise<void> {
    if (!ts.appending && ts.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => ts.idleWaiters.push(resolve));
  }

  /** Append what is pending, one batch at a time, and deliver what each append stored. */
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
}
