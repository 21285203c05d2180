/**
 * Durable topics on a running node: which topics are durable, their logs, and the path of a
 * delivered message through the {@link DurableReplicator} to the observers.
 *
 * - Which: a topic is durable when a durable topic or pattern covers it (`options.durable.topics`
 *   or `subscribe(t, { durable: true })`) and the node is in its tree. Its log is opened (the
 *   store's, or an in-memory one without persistence) when the node joins the tree, and kept when
 *   the node leaves it: the topic may be joined again.
 * - Opening: live records that arrive while the log opens wait and go through the log once it is
 *   open; when it cannot be opened they are delivered without it (counted `durable-open`, and a
 *   `durable-failed` event) rather than lost.
 * - Delivery: a durable topic's message is logged first, in per-origin order, and handed to the
 *   observers by the replicator; the hop count of a live record travels with it, caught-up
 *   records carry -1. The log marks it handled once every observer has returned from it; when
 *   the log opens, what the last life logged and never handed over goes to the observers again,
 *   flagged `redelivered` (at least once across a crash, docs/persistence.md). A message that
 *   finds no observer yet is parked for the first one (parked-deliveries.ts).
 * - Trim: every log is trimmed to its retention at most every minute (a tenth of the retention
 *   when shorter, at least every second).
 *
 * The glue owns no tree and no store: the node gives it both through {@link DurableTopicsHost}.
 */
import type { Observable } from 'rxjs';
import type { MessageId } from '@plumtree/plumtree';
import { isPattern, topicMatches } from '../directory/index.js';
import type { PlumtreeNodeEvent } from '../delivery/delivery.js';
import type { DurableDelivery } from '../delivery/subscriptions.js';
import type { NodeLife } from '../node/node-lifecycle.js';
import type { NodeLimits } from '../node/limits-options.js';
import type { DeliveredEvent } from '../tree/topic-trees.js';
import type { DurableLog, DurableRecord } from './durable-log.js';
import { DurableReplicator } from './durable-replicator.js';
import { ParkedDeliveries } from './parked-deliveries.js';
import type { DurableReplicatorEvent, DurableReplicatorStats } from './durable-replicator-types.js';

/** How often durable logs are trimmed to their retention, at most. */
const TRIM_INTERVAL_MS = 60_000;

/** What the glue needs from its node. */
export interface DurableTopicsHost {
  readonly name: string;
  readonly life: NodeLife;
  /** Whether the node is in `topic`'s tree. */
  isSubscribed(topic: string): boolean;
  /** Alive subscribers of `topic`, this node excluded. */
  subscribersOf(topic: string): string[];
  /** The log of a durable topic. */
  openLog(topic: string): Promise<DurableLog>;
  /** Queue a catch-up frame; `'queued'` when the transport took it. */
  send(peer: string, frame: Uint8Array): string;
  /** Hand a message to the topic's observers; false when it has none. */
  deliver(
    topic: string,
    id: MessageId,
    hops: number,
    from: string,
    headers: Readonly<Record<string, string>> | undefined,
    publishedAtMs: number,
    payload: Uint8Array,
    durable: DurableDelivery,
  ): boolean;
  emit(e: PlumtreeNodeEvent): void;
  /** Count a failure by reason (`durable-open`, `durable-trim`). */
  countDrop(reason: string): void;
}

/** Settings of the glue. */
export interface DurableTopicsOptions {
  /** Durable topics and patterns from the node's options. */
  readonly topics: readonly string[];
  /** Retention of the logs: sets how often they are trimmed. */
  readonly retentionMs: number;
  /** Largest frame: catch-up pages are sized to it. */
  readonly maxFrameBytes: number;
  /** Most messages kept for a first observer (the node's `maxPendingDeliveries`). */
  readonly maxParked: number;
  /** The node's caps on catch-up serving and stream tracking (limits-options.ts). */
  readonly limits: Pick<
    NodeLimits,
    'maxCatchupServesPerPeer' | 'maxCatchupServes' | 'maxDurableStreamsPerTopic'
  >;
}

/** A durable record that found no observer. */
interface ParkedRecord {
  readonly record: DurableRecord;
  readonly from: string;
  readonly redelivered: boolean;
}

/** See the file comment. */
export class DurableTopics {
  private readonly replicator: DurableReplicator;
  /** Topics and patterns made durable by `subscribe(t, { durable: true })` or the options. */
  private readonly patterns: Set<string>;
  /** Durable topics whose log is opening, with the live records that arrived meanwhile. */
  private readonly opening = new Map<string, { record: DurableRecord; from: string }[]>();
  /** Hop counts of live durable records, for their deliveries. */
  private readonly recordHops = new WeakMap<DurableRecord, number>();
  /** The open log of each durable topic (kept when the topic is left: it may be joined again). */
  private readonly logs = new Map<string, DurableLog>();
  /** Records that found no observer, for the first one. */
  private readonly parked: ParkedDeliveries<ParkedRecord>;
  private trimTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly host: DurableTopicsHost,
    private readonly options: DurableTopicsOptions,
  ) {
    this.patterns = new Set(options.topics);
    this.parked = new ParkedDeliveries(options.maxParked);
    this.replicator = new DurableReplicator(
      {
        send: (peer, frame) => !host.life.closed && host.send(peer, frame) === 'queued',
        deliver: (topic, record, from) => this.deliverRecord(topic, record, from),
        now: () => Date.now(),
        setTimer: (fn, ms) => {
          const t = setTimeout(fn, ms);
          t.unref();
          return t;
        },
        clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
      },
      {
        maxFrameBytes: options.maxFrameBytes,
        retentionMs: options.retentionMs,
        maxServesPerPeer: options.limits.maxCatchupServesPerPeer,
        maxServes: options.limits.maxCatchupServes,
        maxStreamsPerTopic: options.limits.maxDurableStreamsPerTopic,
      },
    );
  }

  /** Catch-up progress and failures, and log append failures. */
  get events$(): Observable<DurableReplicatorEvent> {
    return this.replicator.events$;
  }

  /** Whether `topic` is durable now (its log is open). */
  isDurable(topic: string): boolean {
    return this.replicator.hasTopic(topic);
  }

  /** Resolves once every record accepted on `topic` is logged and handed on. */
  whenIdle(topic: string): Promise<void> {
    return this.replicator.whenIdle(topic);
  }

  /** Like {@link whenIdle} for every topic of `topics`, waiting `maxMs` at most. */
  async whenAllIdle(topics: readonly string[], maxMs: number): Promise<void> {
    await Promise.race([
      Promise.all(topics.map((t) => this.replicator.whenIdle(t))),
      new Promise((resolve) => setTimeout(resolve, maxMs).unref()),
    ]);
  }

  stats(): DurableReplicatorStats {
    return this.replicator.stats();
  }

  /** Messages kept for a first observer now, and those refused over the cap. */
  parkedStats(): { readonly records: number; readonly dropped: number } {
    return { records: this.parked.size, dropped: this.parked.dropped };
  }

  /** An observer subscribed: the parked messages of the topics it matches go to it now. */
  observerAdded(matches: (topic: string) => boolean): void {
    for (const [topic, items] of this.parked.take(matches)) {
      for (const p of items) this.deliverRecord(topic, p.record, p.from, p.redelivered);
    }
  }

  /** Make `topicOrPattern` durable; topics of `joined` it covers become durable now. */
  add(topicOrPattern: string, joined: readonly string[]): void {
    if (this.patterns.has(topicOrPattern)) return;
    this.patterns.add(topicOrPattern);
    for (const t of joined) this.ensure(t);
  }

  /**
   * Opens the log of `topic` when it should be durable and is not yet; live records arriving
   * while it opens wait and go through the log once it is open.
   */
  ensure(topic: string): void {
    const host = this.host;
    if (host.life.closed || this.replicator.hasTopic(topic) || this.opening.has(topic)) return;
    if (!host.isSubscribed(topic) || !this.covers(topic)) return;
    this.opening.set(topic, []);
    const known = this.logs.get(topic);
    void (known !== undefined ? Promise.resolve(known) : host.openLog(topic)).then(
      (log) => {
        this.logs.set(topic, log);
        const waiting = this.opening.get(topic) ?? [];
        this.opening.delete(topic);
        if (host.life.closed || !host.isSubscribed(topic)) return;
        this.replicator.addTopic(topic, log);
        // At least once across a crash: what the last life logged but did not hand over.
        for (const r of log.takeUnhandled?.() ?? []) this.deliverRecord(topic, r, host.name, true);
        this.replicator.onPeersChanged(topic, host.subscribersOf(topic));
        for (const w of waiting) this.replicator.onLive(topic, w.record, w.from);
      },
      (e: unknown) => {
        const waiting = this.opening.get(topic) ?? [];
        this.opening.delete(topic);
        host.countDrop('durable-open');
        // Delivered without the log rather than lost.
        for (const w of waiting) this.deliverRecord(topic, w.record, w.from);
        host.emit({ type: 'durable-failed', topic, error: (e as Error).message });
      },
    );
  }

  /**
   * A message the core delivered: true when its topic is durable (it is logged first, then
   * delivered by the replicator); false when the caller delivers it.
   */
  take(e: DeliveredEvent): boolean {
    const opening = this.opening.get(e.topic);
    if (opening === undefined && !this.replicator.hasTopic(e.topic)) return false;
    const record: DurableRecord = {
      origin: e.id.origin,
      epoch: e.id.epoch,
      seq: e.id.seq,
      publishedAtMs: e.publishedAtMs,
      headers: e.headers,
      payload: e.payload,
    };
    this.recordHops.set(record, e.hops);
    if (opening !== undefined) opening.push({ record, from: e.from });
    else this.replicator.onLive(e.topic, record, e.from);
    return true;
  }

  /** Whether `topic` is durable here and its log holds `id` (see `PlumtreeOptions.holds`). */
  holds(topic: string, id: MessageId): boolean {
    return this.replicator.holds(topic, id.origin, id.epoch, id.seq);
  }

  /** `topic`'s view changed: a durable topic catches up from its new peers. */
  peersChanged(topic: string): void {
    if (this.replicator.hasTopic(topic)) {
      this.replicator.onPeersChanged(topic, this.host.subscribersOf(topic));
    }
  }

  /** The node left `topic`'s tree. */
  leave(topic: string): void {
    this.replicator.removeTopic(topic);
    this.opening.delete(topic);
  }

  /** A catch-up frame arrived (`FrameKind.CatchupRequest` or `CatchupResponse`). */
  onFrame(from: string, frame: Uint8Array): void {
    this.replicator.onFrame(from, frame);
  }

  /** Start trimming the logs to their retention. */
  startTrimming(): void {
    const every = Math.min(TRIM_INTERVAL_MS, Math.max(1_000, this.options.retentionMs / 10));
    this.trimTimer = setInterval(() => this.trimLogs(), every);
    this.trimTimer.unref();
  }

  /**
   * Stop trimming and drop records not yet logged: they were not delivered, and catch-up pulls
   * them later.
   */
  close(): void {
    if (this.trimTimer !== undefined) clearInterval(this.trimTimer);
    this.trimTimer = undefined;
    this.replicator.close();
  }

  /** Whether a durable topic or pattern covers `topic`. */
  private covers(topic: string): boolean {
    for (const p of this.patterns) {
      if (p === topic || (isPattern(p) && topicMatches(p, topic))) return true;
    }
    return false;
  }

  /**
   * A durable record, logged: to the observers (caught-up and redelivered records carry hops
   * -1), marked handled in the log once they all returned; parked when none is subscribed yet.
   */
  private deliverRecord(topic: string, r: DurableRecord, from: string, redelivered = false): void {
    if (this.host.life.closed) return;
    const log = this.logs.get(topic);
    const handed = this.host.deliver(
      topic,
      { origin: r.origin, epoch: r.epoch, seq: r.seq },
      this.recordHops.get(r) ?? -1,
      from,
      r.headers,
      r.publishedAtMs,
      r.payload,
      { redelivered, handled: () => log?.markHandled?.(r.origin, r.epoch, r.seq) },
    );
    if (!handed) this.parked.park(topic, { record: r, from, redelivered });
  }

  private trimLogs(): void {
    for (const log of this.logs.values()) {
      const trim = (log as { trim?: () => Promise<number> }).trim;
      if (trim === undefined) continue;
      trim.call(log).catch(() => this.host.countDrop('durable-trim'));
    }
  }
}
