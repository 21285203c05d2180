/**
 * `PlumtreeService`: the injectable face of the node for application code: publish, per-topic
 * hot Observables, membership and tree events, invalid payloads, statistics.
 */
import { Inject, Injectable, Logger } from '@nestjs/common';
import { concatMap, defer, EMPTY, from, Observable, of, share, Subject, switchMap } from 'rxjs';
import type {
  Delivery,
  PlumtreeNode,
  PlumtreeNodeEvent,
  PlumtreeNodeStats,
  PublishOptions,
  ReadyOptions,
  RequestOptions,
  RpcReply,
} from '@plumtree/cluster';
import type { SwimMember } from '@plumtree/swim';
import { checkDto } from './dto-validation.js';
import { PlumtreeNodeRef } from './node-ref.js';
import { PLUMTREE_NODE_REF } from './plumtree.constants.js';
import { loadTracing, withTraceContext } from './delivery/trace-context.js';
import { joinHeaders } from './plumtree.context.js';
import { requestOptionsOf } from './plumtree-module-options.js';

/** A payload a DTO rejected (see `@PlumtreeSubscribe` and `topic$` with `dto`). */
export interface InvalidPayload {
  readonly topic: string;
  /** Message id. */
  readonly id: string;
  readonly origin: string;
  /** The payload as received. */
  readonly payload: unknown;
  /** The DTO class name. */
  readonly dto: string;
  /** One line per invalid property: `field: constraint messages`. */
  readonly errors: readonly string[];
  /** `Class.method` of the `@PlumtreeSubscribe` handler, or `topic$` for a stream. */
  readonly handler: string;
}

/** Counters of the Nest layer (`stats().nest`). */
export interface PlumtreeNestCounters {
  /** `@PlumtreeSubscribe` handlers registered. */
  handlers: number;
  /** Deliveries handed to `@PlumtreeSubscribe` handlers (per handler). */
  handled: number;
  /** Payloads rejected by a DTO (handlers and streams). */
  invalid: number;
  /**
   * Attempts of `@PlumtreeSubscribe` handlers that failed: threw, rejected, nacked, timed out
   * (guards refusing included).
   */
  handlerErrors: number;
  /** Attempts run again after a failure (the handler's `retry` policy). */
  retries: number;
  /** Messages published on a dead-letter topic after their last attempt failed. */
  deadLetters: number;
  /** Messages whose last attempt failed and that reached no dead-letter topic (logged). */
  deadLettersLost: number;
}

/** Options of `topic$`. */
export interface TopicStreamOptions<T> {
  /** Validate (and transform) each payload; invalid ones go to `invalid$` and are left out. */
  readonly dto?: new (...args: never[]) => T & object;
  /** Make the topic durable on this node (logged, caught up after restarts and partitions). */
  readonly durable?: boolean;
}

/** Options of `publish`: headers, and Nest-style metadata carried beside them. */
export interface PlumtreePublishOptions extends PublishOptions {
  /** Out-of-band values, read by handlers through `PlumtreeContext.getMetadata()`. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** See the file comment. Provided (globally) by `PlumtreeModule`. */
@Injectable()
export class PlumtreeService {
  private readonly logger = new Logger('PlumtreeService');
  private readonly invalidSubject = new Subject<InvalidPayload>();
  /** `topic$` streams by topic, then by every option (a DTO class, durability). */
  private readonly streams = new Map<
    string,
    { dto: unknown; durable: boolean; stream: Observable<Delivery> }[]
  >();
  /** Counters of the Nest layer, updated by the subscriber explorer too. */
  readonly counters: PlumtreeNestCounters = {
    handlers: 0,
    handled: 0,
    invalid: 0,
    handlerErrors: 0,
    retries: 0,
    deadLetters: 0,
    deadLettersLost: 0,
  };

  /** Payloads rejected by a DTO, whichever handler or stream rejected them (hot). */
  readonly invalid$: Observable<InvalidPayload> = this.invalidSubject.asObservable();
  /** Members (alive and suspect, this node included): the current list, then every change. */
  readonly members$: Observable<SwimMember[]>;
  /** Tree and connection events of the node (hot). */
  readonly events$: Observable<PlumtreeNodeEvent>;

  constructor(@Inject(PLUMTREE_NODE_REF) private readonly ref: PlumtreeNodeRef) {
    this.members$ = this.fromNode((n) => n.members$);
    this.events$ = this.fromNode((n) => n.events$);
  }

  /** The node (throws while a shared server has not listened yet). */
  get node(): PlumtreeNode {
    return this.ref.node;
  }

  /** The node, once it runs. */
  whenReady(): Promise<PlumtreeNode> {
    return this.ref.ready;
  }

  /**
   * Publish on `topic`; resolves to the message id. The active trace context (with
   * `@opentelemetry/api`) rides along in the headers. Rejects like `PlumtreeNode.publish`
   * (`InvalidTopicError`, `PayloadTooLargeError`, `NoSubscribersError`, ...).
   */
  async publish(
    topic: string,
    payload: unknown,
    options: PlumtreePublishOptions = {},
  ): Promise<string> {
    const node = await this.ref.ready;
    await loadTracing();
    const headers = joinHeaders(withTraceContext(options.headers), options.metadata);
    return node.publish(topic, payload, headers !== undefined ? { headers } : {});
  }

  /**
   * Resolves once a publish on `topic` reaches every subscriber: the directory lists at least
   * `subscribers` of it and this node's tree links for it are up (`PlumtreeNode.ready`; waits for
   * the node first). Rejects with `ReadyTimeoutError` after `timeoutMs` (default 10 s), naming
   * what was missing. Await it before the first publish of a service that must not miss a
   * subscriber started with it.
   */
  async ready(topic: string, options: ReadyOptions = {}): Promise<void> {
    const node = await this.ref.ready;
    await node.ready(topic, options);
  }

  /**
   * Request/reply: ask one live responder of `topic` (see `PlumtreeNode.request`). The module's
   * `requestTimeoutMs`, `requestMaxAttempts` and `requestRetryOnTimeout` apply unless `options`
   * says otherwise.
   */
  async request<T = unknown>(
    topic: string,
    payload: unknown,
    options: RequestOptions = {},
  ): Promise<T> {
    const node = await this.ref.ready;
    return node.request<T>(topic, payload, await this.requestOptions(options));
  }

  /**
   * Like {@link request}, resolving with the reply's data and the reply headers its handler set
   * (`PlumtreeContext.setReplyHeaders`, or a returned `PlumtreeRecord`; `traceparent` of the
   * handler's span with `@opentelemetry/api`). The way to read reply headers from Nest code:
   * `ClientProxy.send` gives the data alone.
   */
  async requestWithHeaders<T = unknown>(
    topic: string,
    payload: unknown,
    options: RequestOptions = {},
  ): Promise<RpcReply<T>> {
    const node = await this.ref.ready;
    return node.requestWithHeaders<T>(topic, payload, await this.requestOptions(options));
  }

  /** `options` over the module's request options, with the active trace context. */
  private async requestOptions(options: RequestOptions): Promise<RequestOptions> {
    await loadTracing();
    const headers = withTraceContext(options.headers);
    return requestOptionsOf(
      this.ref.options,
      headers !== undefined ? { ...options, headers } : options,
    );
  }

  /**
   * Deliveries of a topic or pattern, as a hot Observable shared by every observer of the same
   * topic and options (the same DTO class and durability): the node joins the topic at the first
   * subscription and leaves it when the last observer unsubscribes. With `dto`, payloads are
   * transformed into DTO instances and validated (asynchronous rules included, in order);
   * invalid ones are left out and emitted on `invalid$`.
   */
  topic$<T = unknown>(
    topicOrPattern: string,
    options: TopicStreamOptions<T> = {},
  ): Observable<Delivery<T>> {
    const dto = options.dto;
    const durable = options.durable === true;
    let list = this.streams.get(topicOrPattern);
    if (list === undefined) {
      list = [];
      this.streams.set(topicOrPattern, list);
    }
    const cached = list.find((e) => e.dto === dto && e.durable === durable);
    if (cached !== undefined) return cached.stream as Observable<Delivery<T>>;
    const base = this.fromNode((n) => n.subscribe(topicOrPattern, { durable }));
    const checked: Observable<Delivery> =
      dto === undefined
        ? base
        : base.pipe(
            concatMap((d) =>
              from(this.validate(dto, d, 'topic$')).pipe(
                concatMap((r) => (r === undefined ? EMPTY : of({ ...d, payload: r }))),
              ),
            ),
          );
    const stream = checked.pipe(share());
    list.push({ dto, durable, stream });
    return stream as Observable<Delivery<T>>;
  }

  /** `project(node)`, subscribed at once when the node runs, else once it does. */
  private fromNode<R>(project: (n: PlumtreeNode) => Observable<R>): Observable<R> {
    return defer(() => {
      const n = this.ref.nodeOrUndefined;
      return n !== undefined ? project(n) : from(this.ref.ready).pipe(switchMap(project));
    });
  }

  /** Every counter of the node, plus the Nest layer's under `nest`. */
  stats(): PlumtreeNodeStats & { readonly nest: PlumtreeNestCounters } {
    return { ...this.ref.node.stats(), nest: { ...this.counters } };
  }

  /**
   * Check a delivery against a DTO: the transformed payload, or undefined after logging,
   * counting and emitting the rejection on `invalid$`.
   * @internal used by the subscriber explorer
   */
  async validate(
    dto: new (...args: never[]) => object,
    d: Delivery,
    handler: string,
  ): Promise<unknown> {
    const r = await checkDto(dto, d.payload);
    if (r.ok) return r.value;
    this.counters.invalid++;
    this.logger.warn(
      `invalid payload on ${d.topic} (${d.id}) for ${handler}, ${dto.name}: ${r.errors.join('; ')}`,
    );
    this.invalidSubject.next({
      topic: d.topic,
      id: d.id,
      origin: d.origin,
      payload: d.payload,
      dto: dto.name,
      errors: r.errors,
      handler,
    });
    return undefined;
  }
}
