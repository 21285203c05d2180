/**
 * Catch-up, requesting side: at most one catch-up in flight per topic. It sends the log's
 * per-stream hwm marks to a peer, feeds the page into the pipeline (one append batch), waits
 * `paceMs`, and asks for the next page with the marks raised past what the page carried, until
 * the peer says no more. An unanswered request is retried with another peer after
 * `requestTimeoutMs` (at once when the peer leaves the peer list); a peer answering not-durable is
 * skipped for the topic until it leaves and rejoins its peer list; when no peer is left the
 * catch-up fails with an event. Triggers: the first non-empty peer list (start), each new peer in
 * later lists (it gets a catch-up of its own), a gap in a stream, a live record refused for
 * backpressure.
 */
import type { Subject } from 'rxjs';
import {
  catchupHeaderBytes,
  catchupMarkBytes,
  CatchupStatus,
  encodeCatchupRequest,
  type CatchupResponse,
} from './catchup-codec.js';
import type { DurableRecord, DurableRequestMark } from './durable-log.js';
import type { ResolvedDurableReplicatorOptions } from './durable-options.js';
import type { DurablePipeline } from './durable-pipeline.js';
import type {
  CatchupFailure,
  CatchupReason,
  DurableHost,
  DurableReplicatorEvent,
} from './durable-replicator-types.js';
import { hasHoles, streamKey, type Catchup, type TopicState } from './durable-topic-state.js';

/** See the file comment. */
export class CatchupRequester {
  /** Request id in flight -> its topic. */
  private readonly requests = new Map<number, string>();
  private nextRequestId = 1;
  /** Responses to no request in flight (late after a timeout, or from the wrong peer). */
  unexpectedResponses = 0;

  constructor(
    private readonly host: DurableHost,
    private readonly options: ResolvedDurableReplicatorOptions,
    private readonly events: Subject<DurableReplicatorEvent>,
    private readonly pipeline: DurablePipeline,
    /** The durable topics, by name. */
    private readonly topics: ReadonlyMap<string, TopicState>,
  ) {}

  /**
   * The peers of `ts` changed (see `DurableReplicator.onPeersChanged`): the first non-empty list
   * starts a catch-up, each later new peer gets one of its own.
   */
  peersChanged(ts: TopicState, peers: readonly string[]): void {
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

  /** Drop the catch-up of `ts` in flight (the topic was removed). */
  cancel(ts: TopicState): void {
    const c = ts.catchup;
    if (c === undefined) return;
    if (c.timer !== undefined) this.host.clearTimer(c.timer);
    this.requests.delete(c.requestId);
    ts.catchup = undefined;
  }

  /** Start a catch-up of `ts` for `reason` as soon as one can start (with any eligible peer). */
  want(ts: TopicState, reason: CatchupReason): void {
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

  /** A catch-up response from `from`. */
  onResponse(from: string, r: CatchupResponse): void {
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
    void this.pipeline.idle(ts).then(() => {
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
      const st = this.pipeline.stream(ts, first);
      let last = 0;
      for (const r of list) {
        if (r.seq === last) continue;
        last = r.seq;
        if (this.pipeline.isDuplicate(ts, st, r)) {
          // A held copy goes on as soon as the records before it are in.
          if (st.held.has(r.seq)) this.pipeline.drainHeld(ts, st);
          else ts.stats.duplicatesDropped++;
          continue;
        }
        // The peer's log may have a gap of its own (a record still on its way through the tree
        // to it): a caught-up record after a gap waits like a live one.
        const entry = { record: r, from, caughtUp: true };
        if (r.seq <= st.cursor + 1) {
          this.pipeline.handOn(ts, st, entry);
          this.pipeline.drainHeld(ts, st);
        } else {
          this.pipeline.hold(ts, st, entry);
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
    this.pipeline.armGapTimer(ts);
    if (hasHoles(ts)) this.pipeline.scheduleRepair(ts, c.records > 0);
    else ts.repairDelayMs = 0;
  }
}
