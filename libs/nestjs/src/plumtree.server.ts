/**
 * `PlumtreeServer`: the Nest custom transport strategy. `@EventPattern(pattern)` handlers
 * subscribe to their topic (patterns `*` and `#` too; several handlers of one pattern all run,
 * each once per message); `@MessagePattern(pattern)` handlers answer `PlumtreeClient.send`
 * requests (the node's request/reply): a value, a promise or every value of an Observable goes
 * back, and an error as Nest's transports carry it. Any Nest pattern works, object patterns
 * included (see pattern-topic.ts). Follows Nest's transport contract (server-redis.ts,
 * server-nats.ts): `status` from a ReplaySubject, `on()` listeners buffered before `listen`,
 * `unwrap()` throwing before `listen`, startup errors through the `listen` callback, processing
 * hooks around each request.
 *
 * `@EventPattern` handlers take their delivery options from the decorator's extras
 * (`@EventPattern('orders.created', { retry: { attempts: 3 }, concurrency: 2 })`, over the options'
 * `handlers` defaults) and run through delivery-runner.ts (acknowledgement, retries, dead letters,
 * concurrency, trace context), as `@PlumtreeSubscribe` handlers do; each handler of a pattern on its
 * own (handler-bindings.ts). Requests run in the trace context they carry, and the reply carries
 * the handler's span back in its headers (`traceparent`), beside the reply headers the handler set
 * with `ctx.setReplyHeaders` or by returning (or emitting) a `PlumtreeRecord`, whose `data` is the
 * reply value.
 *
 * `listen` subscribes every handler before it joins the cluster, and resolves once the join is
 * done, when the members joined through hold those subscriptions (see start-node.ts): a client
 * call made right after `app.listen()` / `startAllMicroservices()` reaches this server. A failed
 * `listen` leaves nothing running: the node it started is closed.
 */
import {
  finalize,
  isObservable,
  lastValueFrom,
  map,
  type Observable,
  type Subscription,
} from 'rxjs';
import { Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import type { PlumtreeNode, PlumtreeNodeEvent, RpcRequest } from '@plumtree/cluster';
import {
  runDelivery,
  type DeliveryRunnerHost,
  type RunnableHandler,
} from './delivery/delivery-runner.js';
import {
  DEFAULT_HANDLER_POLICY,
  handlerOptionProblems,
  resolveHandlerPolicy,
  type ResolvedHandlerPolicy,
} from './delivery/handler-policy.js';
import { HandlerSlots } from './delivery/handler-slots.js';
import { loadTracing, runTraced, withTraceContext } from './delivery/trace-context.js';
import { bindHandlers } from './handler-bindings.js';
import { replyStream } from './reply-stream.js';
import { PLUMTREE_TRANSPORT } from './plumtree.constants.js';
import { PlumtreeContext } from './plumtree.context.js';
import { PlumtreeRecord } from './plumtree-record.builder.js';
import {
  resolvePlumtreeModuleOptions,
  type PlumtreeModuleOptions,
} from './plumtree-module-options.js';
import {
  declareServer,
  failServerNode,
  registerServerNode,
  unregisterServerNode,
} from './server-registry.js';
import { PlumtreeHandlerError, PlumtreeNotStartedError } from './plumtree.errors.js';
import { startPlumtreeNode } from './start-node.js';

/**
 * Status of the transport: `connecting` while the node starts, `connected` while it has at
 * least one other member (or was given no seeds), `degraded` while it is alone although it
 * has seeds, `disconnected` once closed.
 */
export type PlumtreeStatus = 'connecting' | 'connected' | 'degraded' | 'disconnected';

/**
 * What `on(event, callback)` accepts: a node event type (`promotion`, `demotion`, `graft`,
 * `prune`, `graft-failed`, `peer-up`, `peer-down`, `topic-joined`, `topic-left`), a membership
 * event (`member-join`, `member-left`, `member-failed`, `member-update`; the callback receives
 * the SWIM event) or `error` (a handler failure).
 */
export type PlumtreeServerEvents = Record<string, (event: unknown) => void>;

/** The Nest custom transport of this project; see the file comment. */
export class PlumtreeServer
  extends Server<PlumtreeServerEvents, PlumtreeStatus>
  implements CustomTransportStrategy
{
  override readonly transportId = PLUMTREE_TRANSPORT;
  /** Event handler failures are awaited and handled here (retries, dead letters), as Kafka's are. */
  override propagatesEventHandlerErrors = true;

  private node: PlumtreeNode | undefined;
  private readonly ownsNode: boolean;
  private readonly listeners: { event: string; callback: (e: unknown) => void }[] = [];
  private readonly subscriptions: Subscription[] = [];
  private unbind: (() => void) | undefined;
  private readonly listening: Promise<PlumtreeNode>;
  private resolveListening!: (n: PlumtreeNode) => void;
  private rejectListening!: (e: unknown) => void;
  private closed = false;
  /** Event handler attempts that failed (thrown, rejected, nacked), counted; each is logged too. */
  handlerErrors = 0;
  /** Event handler attempts run again after a failure (the handler's `retry` policy). */
  retries = 0;
  /** Messages published on a dead-letter topic after their last attempt failed. */
  deadLetters = 0;
  /** Messages whose last attempt failed and that reached no dead-letter topic (logged). */
  deadLettersLost = 0;
  /** Each event handler with its resolved delivery options, made when it is bound. */
  private readonly runnables = new WeakMap<MessageHandler, RunnableHandler>();
  private readonly runnerHost: DeliveryRunnerHost;

  /**
   * @param options node options (validated at `listen`), or a started `PlumtreeNode` to serve
   * on (the server then neither starts nor leaves it).
   */
  constructor(private readonly options: PlumtreeModuleOptions | PlumtreeNode) {
    super();
    this.ownsNode = !isNode(options);
    this.listening = new Promise((resolve, reject) => {
      this.resolveListening = resolve;
      this.rejectListening = reject;
    });
    this.listening.catch(() => undefined);
    const name = this.serverName;
    if (name !== undefined) declareServer(name);
    this.runnerHost = {
      counters: this,
      // The runner counts the failed attempt.
      onAttemptFailed: (h, _d, e) => this.reportHandlerError(h.name, e),
      onLost: (h, d, reason) =>
        this.logger.error(`handler of ${h.name} gave up on ${d.id}, not dead-lettered: ${reason}`),
      publish: (topic, payload, headers) => this.unwrap().publish(topic, payload, { headers }),
    };
  }

  /** The node once `listen` succeeded (for modules sharing it); rejects when `listen` failed. */
  whenListening(): Promise<PlumtreeNode> {
    return this.listening;
  }

  /**
   * Start (or adopt) the node, subscribe the handlers, then join the seeds; errors go to
   * `callback`, and whatever was started is closed again.
   */
  async listen(callback: (err?: unknown, ...info: unknown[]) => void): Promise<void> {
    this._status$.next('connecting');
    await loadTracing();
    let node: PlumtreeNode;
    try {
      if (isNode(this.options)) {
        node = this.options;
        this.bind(node, DEFAULT_HANDLER_POLICY);
      } else {
        const resolved = resolvePlumtreeModuleOptions(this.options);
        node = await startPlumtreeNode(resolved, {
          beforeJoin: (n) => this.bind(n, resolved.handlers),
        });
      }
    } catch (e) {
      this.teardown();
      this.node = undefined;
      this._status$.next('disconnected');
      const name = this.serverName;
      if (name !== undefined) failServerNode(name, e);
      this.rejectListening(e);
      callback(e);
      return;
    }
    registerServerNode(node.name, node);
    this.resolveListening(node);
    callback();
  }

  /** Leave the cluster gracefully (others see this member as left) when the server owns its node. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.teardown();
    const node = this.node;
    if (node !== undefined) {
      unregisterServerNode(node.name, node);
      if (this.ownsNode) await node.leave();
    }
    this._status$.next('disconnected');
  }

  /** Register a listener for a node or membership event; kept until `listen` when added before. */
  on<K extends keyof PlumtreeServerEvents = keyof PlumtreeServerEvents>(
    event: K,
    callback: PlumtreeServerEvents[K],
  ): void {
    const entry = { event: String(event), callback: callback as (e: unknown) => void };
    this.listeners.push(entry);
    if (this.node !== undefined) this.attach(this.node, entry);
  }

  /** The `PlumtreeNode`; throws before `listen`. */
  unwrap<T = PlumtreeNode>(): T {
    if (this.node === undefined) throw new PlumtreeNotStartedError('PlumtreeServer');
    return this.node as T;
  }

  /**
   * The handler of a route. Deliveries reach `handleEvent` with the route they were bound under, a
   * key of `messageHandlers` already, so the map is asked first: Nest's lookup normalises the
   * pattern on every call (a `JSON.parse` that throws for a plain string), 11 % of a subscriber's
   * CPU in a burst (docs/performance.md).
   */
  override getHandlerByPattern(pattern: string): MessageHandler | null {
    return this.messageHandlers.get(pattern) ?? super.getHandlerByPattern(pattern);
  }

  private get serverName(): string | undefined {
    return (this.options as { readonly name?: string } | undefined)?.name;
  }

  /** Listeners, status and every handler on `node`, before it joins. */
  private bind(node: PlumtreeNode, defaults: ResolvedHandlerPolicy): void {
    this.node = node;
    for (const l of this.listeners) this.attach(node, l);
    const hasSeeds = isNode(this.options) ? true : (this.options.seeds?.length ?? 0) > 0;
    this.subscriptions.push(
      node.members$.subscribe((members) => {
        if (this.closed) return;
        const alone = members.filter((m) => m.state === 'alive').length <= 1;
        this._status$.next(alone && hasSeeds ? 'degraded' : 'connected');
      }),
    );
    this.unbind = bindHandlers(node, this.messageHandlers, {
      gateOf: (route, handler) => this.runnableOf(route, handler, defaults).slots,
      onEvent: (_route, handler, d) =>
        // A grouped delivery (subscribed with `ack: 'manual'`) is acknowledged to its group
        // once the final outcome is in: handled, or dead-lettered after the retries.
        void runDelivery(this.runnables.get(handler)!, d, this.runnerHost).finally(() => d.ack?.()),
      onRequest: (handler, req) => this.answer(handler, req),
      onSubscriptionError: (route, e) => this.onHandlerError(route, e),
    });
  }

  private teardown(): void {
    for (const s of this.subscriptions.splice(0)) s.unsubscribe();
    this.unbind?.();
    this.unbind = undefined;
  }

  /**
   * The handler with its delivery options (the decorator's extras over `defaults`); throws
   * {@link PlumtreeHandlerError} for invalid extras, which fails `listen`.
   */
  private runnableOf(
    route: string,
    handler: MessageHandler,
    defaults: ResolvedHandlerPolicy,
  ): RunnableHandler {
    const known = this.runnables.get(handler);
    if (known !== undefined) return known;
    const extras = handler.extras as Record<string, unknown> | undefined;
    const name = `@EventPattern(${route})`;
    const problems = handlerOptionProblems(extras ?? {}, name);
    if (problems.length > 0) throw new PlumtreeHandlerError(problems);
    const policy = resolveHandlerPolicy(extras ?? {}, defaults);
    const runnable: RunnableHandler = {
      name,
      policy,
      slots: policy.concurrency === undefined ? undefined : new HandlerSlots(policy.concurrency),
      invoke: (payload, ctx) => this.runEvent(handler, payload, ctx as PlumtreeContext),
    };
    this.runnables.set(handler, runnable);
    return runnable;
  }

  /**
   * One run of an event handler, as Nest's `Server#handleEvent` runs it (processing hooks, the
   * handler's stream connected) but awaited: resolves when it ends, rejects with its failure.
   */
  private runEvent(handler: MessageHandler, payload: unknown, ctx: PlumtreeContext): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const started = this.runWithProcessingHooks(ctx, async (runEndHook) => {
        try {
          const result: unknown = await handler(payload, ctx);
          if (isObservable(result)) {
            await lastValueFrom(result.pipe(finalize(runEndHook)), { defaultValue: undefined });
          } else {
            runEndHook();
          }
          resolve();
        } catch (e) {
          runEndHook();
          reject(e);
        }
      });
      Promise.resolve(started).catch(reject);
    });
  }

  /**
   * The reply stream of a request (see reply-stream.ts), in the trace context it carries; a
   * `PlumtreeRecord` value is its data with its headers as reply headers.
   */
  private answer(handler: MessageHandler, req: RpcRequest): Observable<unknown> {
    const info = { name: `${req.topic} process`, topic: req.topic, attempt: 1 };
    return replyStream(handler, req.payload, PlumtreeContext.fromRequest(req), {
      runWithProcessingHooks: (ctx, fn) =>
        this.runWithProcessingHooks(ctx, (end) =>
          runTraced(req.headers, { ...info, messageId: ctx.getArgByIndex(0).id }, () => {
            const trace = withTraceContext(undefined);
            if (trace !== undefined) req.setReplyHeaders(trace);
            return fn(end);
          }),
        ),
      transformToObservable: (result) => this.transformToObservable(result),
    }).pipe(
      map((value) => {
        if (!(value instanceof PlumtreeRecord)) return value;
        req.setReplyHeaders(value.headers);
        return value.data as unknown;
      }),
    );
  }

  private onHandlerError(route: string, e: unknown): void {
    this.handlerErrors++;
    this.reportHandlerError(route, e);
  }

  /** Log a handler failure and hand it to the `error` listeners. */
  private reportHandlerError(route: string, e: unknown): void {
    this.logger.error(
      `handler of ${JSON.stringify(route)} failed: ${e instanceof Error ? (e.stack ?? e.message) : typeof e === 'object' ? JSON.stringify(e) : String(e)}`,
    );
    for (const l of this.listeners) if (l.event === 'error') l.callback(e);
  }

  private attach(node: PlumtreeNode, l: { event: string; callback: (e: unknown) => void }): void {
    if (l.event === 'error') return;
    if (l.event.startsWith('member-')) {
      this.subscriptions.push(
        node.swimNode.events$.subscribe((e) => {
          if (e.type === l.event) l.callback(e);
        }),
      );
      return;
    }
    this.subscriptions.push(
      node.events$.subscribe((e: PlumtreeNodeEvent) => {
        if (e.type === l.event) l.callback(e);
      }),
    );
  }
}

function isNode(o: unknown): o is PlumtreeNode {
  return (
    typeof o === 'object' &&
    o !== null &&
    typeof (o as PlumtreeNode).subscribe === 'function' &&
    typeof (o as PlumtreeNode).handleRequests === 'function'
  );
}
