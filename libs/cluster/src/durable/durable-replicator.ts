/**
 * Durable topics: persist every delivered message before handlers see it, and catch up on what
 * this node missed by pulling it from a peer of the topic.
 *
 * One replicator per node. The node feeds it:
 * - `addTopic` / `removeTopic` as durable topics are joined and left;
 * - `onLive` for every message Plumtree delivers on a durable topic (instead of handing it to
 *   the handlers itself);
 * - `onPeersChanged` with the topic's peers (this node excluded) whenever they change;
 * - `onFrame` for frames whose first byte is `FrameKind.CatchupRequest` (0x83) or
 *   `FrameKind.CatchupResponse` (0x84).
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
 * a gap in a stream, a live record refused for backpressure, and holes left in the log (repair).
 *
 * The parts: durable-pipeline.ts (steps 1-4), catchup-requester.ts (catch-up), catchup-server.ts
 * (answering peers' requests), durable-topic-state.ts (what is kept per topic).
 *
 * Serving: at most `maxServesPerPeer` requests of one peer and `maxServes` in all are read and
 * answered at once; a request beyond is dropped and counted (`servesDropped`): the requester's
 * timeout moves it to another peer or asks again. Stream tracking is bounded per topic by
 * `maxStreamsPerTopic` (durable-topic-state.ts `pruneStreams`).
 *
 * Memory is bounded per topic by `maxHeldPerTopic` held records, `maxPendingPerTopic`
 * accepted-but-not-delivered records (beyond it `onLive` returns false: the record is refused,
 * the cursor does not move, and a catch-up pulls it later, so refusal loses nothing while a peer
 * has it) and one page of a catch-up.
 */
import { Subject, type Observable } from 'rxjs';
import { FrameKind } from '../frame-kinds.js';
import { PlumtreeNodeError } from '../plumtree-node-error.js';
import { decodeCatchupFrame, type CatchupRequest } from './catchup-codec.js';
import { CatchupRequester } from './catchup-requester.js';
import { serveCatchup } from './catchup-server.js';
import type { DurableLog, DurableRecord } from './durable-log.js';
import {
  resolveDurableReplicatorOptions,
  type DurableReplicatorOptions,
  type ResolvedDurableReplicatorOptions,
} from './durable-options.js';
import { DurablePipeline } from './durable-pipeline.js';
import type {
  DurableHost,
  DurableReplicatorEvent,
  DurableReplicatorStats,
  DurableTopicStats,
} from './durable-replicator-types.js';
import { newTopicState, type TopicState } from './durable-topic-state.js';

/** Thrown by `addTopic` for a topic already added (a programmer error). */
export class DurableTopicExistsError extends PlumtreeNodeError {
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
  private readonly pipeline: DurablePipeline;
  private readonly catchups: CatchupRequester;
  private malformedFrames = 0;
  /** Catch-up requests being served, per requesting peer, and in all. */
  private readonly serving = new Map<string, number>();
  private servingTotal = 0;
  private servesDropped = 0;

  /** Throws `DurableOptionsError` listing every invalid option. */
  constructor(
    private readonly host: DurableHost,
    options: DurableReplicatorOptions = {},
  ) {
    this.options = resolveDurableReplicatorOptions(options);
    this.events$ = this.events.asObservable();
    this.pipeline = new DurablePipeline(host, this.options, this.events, (ts, reason) =>
      this.catchups.want(ts, reason),
    );
    this.catchups = new CatchupRequester(
      host,
      this.options,
      this.events,
      this.pipeline,
      this.topics,
    );
  }

  /** The options in force. */
  get resolvedOptions(): ResolvedDurableReplicatorOptions {
    return this.options;
  }

  /** Make `topic` durable with `log`. Throws {@link DurableTopicExistsError} when it already is. */
  addTopic(topic: string, log: DurableLog): void {
    if (this.topics.has(topic)) throw new DurableTopicExistsError(topic);
    this.topics.set(topic, newTopicState(topic, log));
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
    this.catchups.cancel(ts);
    this.pipeline.stop(ts);
  }

  /** Whether `topic` is durable here. */
  hasTopic(topic: string): boolean {
    return this.topics.has(topic);
  }

  /** Whether `topic`'s log holds the record (origin, epoch, seq): delivered, now or before. */
  holds(topic: string, origin: string, epoch: number, seq: number): boolean {
    return this.topics.get(topic)?.log.has(origin, epoch, seq) === true;
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
    return ts !== undefined && this.pipeline.accept(ts, record, from);
  }

  /**
   * The peers of `topic` (alive members subscribed to it, this node excluded). The first
   * non-empty list after `addTopic` starts a catch-up; later, each peer new to the list gets
   * one of its own.
   */
  onPeersChanged(topic: string, peers: readonly string[]): void {
    const ts = this.topics.get(topic);
    if (ts !== undefined) this.catchups.peersChanged(ts, peers);
  }

  /**
   * A frame from `peer` on the frame transport. Returns false when it is not a catch-up frame
   * (first byte neither 0x83 nor 0x84); malformed ones are counted and dropped.
   */
  onFrame(peer: string, frame: Uint8Array): boolean {
    const kind = frame[0];
    if (kind !== FrameKind.CatchupRequest && kind !== FrameKind.CatchupResponse) return false;
    const decoded = decodeCatchupFrame(frame);
    if (decoded === null) {
      this.malformedFrames++;
    } else if (decoded.kind === FrameKind.CatchupRequest) {
      this.serve(peer, decoded);
    } else {
      this.catchups.onResponse(peer, decoded);
    }
    return true;
  }

  /** Answer a catch-up request within the serving caps (see the file comment). */
  private serve(peer: string, req: CatchupRequest): void {
    const o = this.options;
    const mine = this.serving.get(peer) ?? 0;
    if (mine >= o.maxServesPerPeer || this.servingTotal >= o.maxServes) {
      this.servesDropped++;
      return;
    }
    this.serving.set(peer, mine + 1);
    this.servingTotal++;
    const send = (f: Uint8Array): void => void this.host.send(peer, f);
    void serveCatchup(this.topics.get(req.topic), req, o, send).finally(() => {
      this.servingTotal--;
      const n = (this.serving.get(peer) ?? 1) - 1;
      if (n > 0) this.serving.set(peer, n);
      else this.serving.delete(peer);
    });
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
      servesDropped: this.servesDropped,
      unexpectedResponses: this.catchups.unexpectedResponses,
    };
  }

  /**
   * Resolves once every record accepted so far on `topic` is appended and delivered (at once
   * for an unknown topic). For shutdown and tests.
   */
  whenIdle(topic: string): Promise<void> {
    const ts = this.topics.get(topic);
    return ts === undefined ? Promise.resolve() : this.pipeline.idle(ts);
  }
}
