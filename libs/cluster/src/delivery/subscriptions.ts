/**
 * The observers of `subscribe()` and the way a message reaches them.
 *
 * A subscription string (a topic or a pattern) holds its observers. The first observer of a
 * string subscribes it in the directory and joins its tree (every known matching topic, for a
 * pattern); the last one leaving unsubscribes it and leaves every tree no local subscription
 * matches any more. Topics of `options.topics` are pinned: subscribed for the node's life, with
 * or without observers.
 *
 * A delivered message is decoded once (the codec, with the content type of its header or the
 * codec's default) and queued once on the {@link DeliveryQueue} for every observer whose string
 * matches its topic; the routes (topic -> matching strings) are cached until a subscription
 * changes. A durable message's `handled` runs once every observer has returned from it (at
 * least once across a crash, docs/persistence.md); one that finds no observer is not delivered
 * and `deliver` says so (the durable glue keeps it for the first observer, `observerAdded`).
 *
 * Observers of a queue group (`subscribe(topic, { group })`) share one decision per message and
 * group: the queue groups engine (groups/queue-groups.ts) says whether this node owns it; if it
 * does, one queue entry goes to the group's observers and, once each has returned (or called
 * `ack()` with `ack: 'manual'`), the engine acknowledges it to the group.
 *
 * The engine owns no tree and no directory: the node gives it both through
 * {@link SubscriptionsHost}.
 */
import type { MessageId } from '@plumtree/plumtree';
import { Observable, type Subscriber } from 'rxjs';
import { isPattern, topicMatches, type TopicDirectory } from '../directory/index.js';
import { NodeClosedError } from '../node/errors.js';
import type { NodeLife } from '../node/node-lifecycle.js';
import type { GroupMessage, QueueGroups } from '../groups/queue-groups.js';
import type { Delivery, SubscribeOptions } from './delivery.js';
import {
  DeliveryQueue,
  type DeliveryQueueOptions,
  type DeliveryQueueStats,
  type QueueObserver,
} from './delivery-queue.js';
import { formatMessageId } from './message-id.js';
import { CONTENT_TYPE_HEADER, type PayloadCodec } from './payload-codec.js';

/** What the engine needs from its node. */
export interface SubscriptionsHost {
  readonly name: string;
  readonly codec: PayloadCodec;
  readonly life: NodeLife;
  readonly directory: Pick<
    TopicDirectory,
    'subscribe' | 'unsubscribe' | 'knownTopics' | 'localMatches' | 'addGroup' | 'removeGroup'
  >;
  /** Who owns a grouped message, and its acknowledgement. */
  readonly groups: Pick<QueueGroups, 'route' | 'handled'>;
  /** Concrete topics whose tree the node is in. */
  joinedTopics(): string[];
  joinTopic(topic: string): void;
  leaveTopic(topic: string, nowMs: number): void;
  /** Run the Plumtree core after a change. */
  drive(): void;
  /** Too many deliveries wait: stop reading frames until {@link resumeInbound}. */
  pauseInbound(): void;
  resumeInbound(): void;
  /** An observer subscribed `topicOrPattern` (its deliveries start now). */
  observerAdded(matches: (topic: string) => boolean): void;
}

/** A durable message's part in its delivery (durable-topics.ts). */
export interface DurableDelivery {
  /** Handed again after a crash (`Delivery.redelivered`). */
  readonly redelivered: boolean;
  /** Every observer has returned from it (or it can never be delivered): mark it handled. */
  readonly handled: () => void;
}

/** Delivery counters (`stats().node`). */
export interface DeliveryCounters {
  /** Deliveries handed to observers (one per message, however many observers). */
  readonly deliveries: number;
  /** Deliveries dropped because the codec could not decode the payload. */
  readonly decodeErrors: number;
  /** Deliveries waiting for handlers, and how often reading paused because too many waited. */
  readonly deliveryQueue: DeliveryQueueStats;
}

/** A group's observers of one subscription string: each with whether it acknowledges manually. */
type GroupObservers = Map<Subscriber<Delivery>, boolean>;

/** Observers of one subscription string (topic or pattern). */
interface SubscriptionEntry {
  readonly topicOrPattern: string;
  readonly pattern: boolean;
  /** Observers without a group. */
  readonly observers: Set<Subscriber<Delivery>>;
  /** Observers of each queue group. */
  readonly groups: Map<string, GroupObservers>;
  /** Subscribed through `options.topics`: kept without observers for the node's life. */
  readonly pinned: boolean;
}

const EMPTY_HEADERS: Readonly<Record<string, string>> = Object.freeze({});
const NO_ACK = (): void => undefined;

/** Observers of an entry, grouped or not. */
function observerTotal(e: SubscriptionEntry): number {
  let n = e.observers.size;
  for (const g of e.groups.values()) n += g.size;
  return n;
}

function newEntry(topicOrPattern: string, pinned: boolean): SubscriptionEntry {
  return {
    topicOrPattern,
    pattern: isPattern(topicOrPattern),
    observers: new Set(),
    groups: new Map(),
    pinned,
  };
}

/** See the file comment. */
export class Subscriptions {
  private readonly entries = new Map<string, SubscriptionEntry>();
  /** Concrete topic -> subscription entries delivering it; rebuilt lazily after changes. */
  private readonly routes = new Map<string, SubscriptionEntry[]>();
  /** Deliveries on their way to observers, off the protocol's turn (see delivery-queue.ts). */
  private readonly queue: DeliveryQueue<Delivery>;
  private deliveries = 0;
  private decodeErrors = 0;
  /** Observers subscribed with a gate (`SubscribeOptions.gate`), as the queue hands to them. */
  private readonly gated = new WeakMap<Subscriber<Delivery>, QueueObserver<Delivery>>();

  constructor(
    private readonly host: SubscriptionsHost,
    queue: Pick<DeliveryQueueOptions, 'highWater' | 'highWaterBytes' | 'sliceMs'>,
  ) {
    this.queue = new DeliveryQueue<Delivery>({
      ...queue,
      onFull: () => host.pauseInbound(),
      onDrained: () => host.resumeInbound(),
    });
  }

  /** Subscribe `topics` in the directory for the node's life (`options.topics`). */
  pin(topics: readonly string[], nowMs: number): void {
    for (const t of topics) {
      this.host.directory.subscribe(t, nowMs);
      this.entries.set(t, newEntry(t, true));
    }
  }

  /** Deliveries of `topicOrPattern` (validated by the caller); see `PlumtreeNode.subscribe`. */
  observe(
    topicOrPattern: string,
    options: Pick<SubscribeOptions, 'group' | 'ack' | 'gate'> = {},
  ): Observable<Delivery> {
    const { group, gate } = options;
    const manual = options.ack === 'manual';
    return new Observable<Delivery>((subscriber) => {
      if (this.host.life.stopping) {
        subscriber.error(new NodeClosedError(this.host.name));
        return undefined;
      }
      if (gate !== undefined) this.gated.set(subscriber, { next: (d) => subscriber.next(d), gate });
      this.add(topicOrPattern, subscriber, group, manual);
      return () => this.remove(topicOrPattern, subscriber, group);
    });
  }

  /** The local patterns, whose matching topics the node joins as the directory names them. */
  *patterns(): Iterable<string> {
    for (const e of this.entries.values()) if (e.pattern) yield e.topicOrPattern;
  }

  /** Observers that receive `topic`'s deliveries (patterns included). */
  observerCount(topic: string): number {
    return this.route(topic).reduce((n, e) => n + observerTotal(e), 0);
  }

  /** The node left `topic`'s tree. */
  forgetRoute(topic: string): void {
    this.routes.delete(topic);
  }

  /**
   * Decode a message and queue it for the observers of its topic; false when it has none (a
   * durable message is then not counted: the caller keeps it for the first observer).
   */
  deliver(
    topic: string,
    id: MessageId,
    hops: number,
    from: string,
    wireHeaders: Readonly<Record<string, string>> | undefined,
    publishedAtMs: number,
    raw: Uint8Array,
    durable?: DurableDelivery,
  ): boolean {
    const route = this.route(topic);
    if (route.length === 0) return false;
    const observers: QueueObserver<Delivery>[] = [];
    let groups: Map<string, GroupObservers> | undefined;
    for (const entry of route) {
      for (const o of entry.observers) observers.push(this.gated.get(o) ?? o);
      for (const [g, members] of entry.groups) {
        groups ??= new Map();
        const merged = groups.get(g);
        if (merged === undefined) groups.set(g, members);
        else groups.set(g, new Map([...merged, ...members]));
      }
    }
    if (observers.length === 0 && groups === undefined) {
      // Pinned with nobody observing (a publisher's `topics`): no decode for nobody. A durable
      // message waits for an observer (and is counted once handed); others are gone.
      if (durable === undefined) this.deliveries++;
      return false;
    }
    const message: GroupMessage = {
      topic,
      id,
      hops,
      from,
      headers: wireHeaders,
      publishedAtMs,
      raw,
    };
    const delivery = this.decode(message, durable?.redelivered ?? false);
    if (delivery === undefined) {
      // Handing it again after a restart would fail again.
      durable?.handled();
      return true;
    }
    this.deliveries++;
    if (observers.length > 0) this.queue.push(delivery, observers, raw.byteLength);
    if (groups !== undefined) {
      const nowMs = Date.now();
      for (const [g, members] of groups) {
        if (this.host.groups.route(g, message, nowMs)) this.pushGroup(g, delivery, id, members);
      }
    }
    // Last in the queue: runs once every observer has returned from this delivery.
    if (durable !== undefined) this.queue.push(delivery, [{ next: durable.handled }], 0);
    return true;
  }

  /**
   * A message this node took over for `group` (its owner died, left the group, or never
   * acknowledged it): to the group's observers, flagged redelivered. Gone when none is left.
   */
  redeliver(group: string, m: GroupMessage): void {
    let members: GroupObservers | undefined;
    for (const entry of this.route(m.topic)) {
      const g = entry.groups.get(group);
      if (g !== undefined) members = new Map([...(members ?? []), ...g]);
    }
    if (members === undefined) return;
    const delivery = this.decode(m, true);
    if (delivery !== undefined) this.pushGroup(group, delivery, m.id, members);
  }

  /**
   * Queue `delivery` for a group's observers; the engine hears of it once each has returned
   * (`ack: 'auto'`) or acknowledged (`ack: 'manual'`).
   */
  private pushGroup(
    group: string,
    delivery: Delivery,
    id: MessageId,
    members: GroupObservers,
  ): void {
    let remaining = members.size;
    const done = (): void => {
      if (--remaining === 0) this.host.groups.handled(group, delivery.topic, id);
    };
    const grouped: Delivery = { ...delivery, group, ack: NO_ACK };
    const observers: QueueObserver<Delivery>[] = [];
    for (const [s, manual] of members) {
      // A member's handler at its concurrency limit holds the queue as for any observer.
      const gate = this.gated.get(s)?.gate;
      if (manual) {
        let acked = false;
        const own: Delivery = {
          ...grouped,
          ack: () => {
            if (acked) return;
            acked = true;
            done();
          },
        };
        observers.push({ next: () => s.next(own), ...(gate !== undefined ? { gate } : {}) });
      } else {
        observers.push({
          next: (d) => {
            s.next(d);
            done();
          },
          ...(gate !== undefined ? { gate } : {}),
        });
      }
    }
    this.queue.push(grouped, observers, delivery.raw.byteLength);
  }

  /** The delivery of `m` for observers; undefined (counted) when the codec cannot decode it. */
  private decode(m: GroupMessage, redelivered: boolean): Delivery | undefined {
    const codec = this.host.codec;
    const wireHeaders = m.headers;
    let contentType = codec.contentType;
    let headers = wireHeaders ?? EMPTY_HEADERS;
    const ct = wireHeaders?.[CONTENT_TYPE_HEADER];
    if (ct !== undefined) {
      contentType = ct;
      const rest: Record<string, string> = { ...wireHeaders };
      delete rest[CONTENT_TYPE_HEADER];
      headers = rest;
    }
    let payload: unknown;
    try {
      payload = codec.decode(m.raw, contentType);
    } catch {
      this.decodeErrors++;
      return undefined;
    }
    const { id } = m;
    return {
      payload,
      topic: m.topic,
      id: formatMessageId(id),
      origin: id.origin,
      epoch: id.epoch,
      seq: id.seq,
      hops: m.hops,
      receivedFrom: m.from,
      headers,
      contentType,
      publishedAtMs: m.publishedAtMs,
      raw: m.raw,
      redelivered,
    };
  }

  /** Hand over what waits in the queue now, and queue nothing more (the node is closing). */
  closeQueue(): void {
    this.queue.close();
  }

  /** Complete every observer and forget every subscription (the node closed). */
  completeAll(): void {
    for (const entry of this.entries.values()) {
      for (const o of [...entry.observers]) o.complete();
      for (const g of entry.groups.values()) for (const o of [...g.keys()]) o.complete();
    }
    this.entries.clear();
    this.routes.clear();
  }

  counters(): DeliveryCounters {
    return {
      deliveries: this.deliveries,
      decodeErrors: this.decodeErrors,
      deliveryQueue: this.queue.stats(),
    };
  }

  private add(
    topicOrPattern: string,
    s: Subscriber<Delivery>,
    group: string | undefined,
    manual: boolean,
  ): void {
    let entry = this.entries.get(topicOrPattern);
    const created = entry === undefined;
    entry ??= newEntry(topicOrPattern, false);
    this.entries.set(topicOrPattern, entry);
    const host = this.host;
    const first = observerTotal(entry) === 0 && !entry.pinned;
    try {
      if (first) host.directory.subscribe(topicOrPattern, Date.now());
      if (group !== undefined && !entry.groups.has(group)) {
        host.directory.addGroup(topicOrPattern, group, Date.now());
      }
    } catch (e) {
      // A directory limit or a bad group name: leave no entry behind for an observer that errors
      // at once, or a later subscribe of the same string would find it and never enter the
      // directory.
      if (first) host.directory.unsubscribe(topicOrPattern, Date.now());
      if (created) this.entries.delete(topicOrPattern);
      throw e;
    }
    if (group === undefined) {
      entry.observers.add(s);
    } else {
      let g = entry.groups.get(group);
      if (g === undefined) {
        g = new Map();
        entry.groups.set(group, g);
      }
      g.set(s, manual);
    }
    this.routes.clear();
    const pattern = entry.pattern;
    host.observerAdded((t) => (pattern ? topicMatches(topicOrPattern, t) : t === topicOrPattern));
    if (first) {
      if (entry.pattern) {
        for (const t of host.directory.knownTopics()) {
          if (topicMatches(topicOrPattern, t)) host.joinTopic(t);
        }
      } else {
        host.joinTopic(topicOrPattern);
      }
      host.drive();
    }
  }

  private remove(topicOrPattern: string, s: Subscriber<Delivery>, group: string | undefined): void {
    const entry = this.entries.get(topicOrPattern);
    if (entry === undefined) return;
    const host = this.host;
    if (group === undefined) {
      if (!entry.observers.delete(s)) return;
    } else {
      const g = entry.groups.get(group);
      if (g === undefined || !g.delete(s)) return;
      if (g.size === 0) {
        entry.groups.delete(group);
        if (!host.life.closed) host.directory.removeGroup(topicOrPattern, group, Date.now());
      }
    }
    this.routes.clear();
    if (observerTotal(entry) > 0 || entry.pinned || host.life.closed) return;
    this.entries.delete(topicOrPattern);
    const now = Date.now();
    host.directory.unsubscribe(topicOrPattern, now);
    for (const topic of host.joinedTopics()) {
      if (!host.directory.localMatches(topic)) host.leaveTopic(topic, now);
    }
    host.drive();
  }

  /** The subscription entries whose observers receive `topic`'s deliveries. */
  private route(topic: string): SubscriptionEntry[] {
    let r = this.routes.get(topic);
    if (r === undefined) {
      r = [];
      for (const e of this.entries.values()) {
        if (e.pattern ? topicMatches(e.topicOrPattern, topic) : e.topicOrPattern === topic) {
          r.push(e);
        }
      }
      this.routes.set(topic, r);
    }
    return r;
  }
}
