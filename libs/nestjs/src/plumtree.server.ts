/**
 * `PlumtreeServer`: the Nest custom transport strategy. `@EventPattern(topicOrPattern)` handlers
 * subscribe to their topic (patterns `*` and `#` too; several handlers of one pattern all run,
 * each once per message); `@MessagePattern(topic)` handlers answer `PlumtreeClient.send`
 * requests (see the node's request/reply). Follows Nest's transport contract (server-redis.ts,
 * server-nats.ts): `status` from a ReplaySubject, `on()` listeners buffered before `listen`,
 * `unwrap()` throwing before `listen`, startup errors through the `listen` callback.
 */
import { isObservable, lastValueFrom, type Subscription } from 'rxjs';
import { Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import type { PlumtreeNode, PlumtreeNodeEvent } from '@plumtree/cluster';
import { PLUMTREE_TRANSPORT } from './plumtree.constants.js';
import { PlumtreeContext } from './plumtree.context.js';
import type { PlumtreeModuleOptions } from './plumtree-module-options.js';
import { registerServerNode, unregisterServerNode } from './server-registry.js';
import { PlumtreeNotStartedError } from './plumtree.errors.js';
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

  private node: PlumtreeNode | undefined;
  private readonly ownsNode: boolean;
  private readonly listeners: { event: string; callback: (e: unknown) => void }[] = [];
  private readonly subscriptions: Subscription[] = [];
  private readonly removals: (() => void)[] = [];
  private listening: Promise<PlumtreeNode>;
  private resolveListening!: (n: PlumtreeNode) => void;
  private closed = false;
  /** Event handler failures (thrown or rejected), counted; each is logged too. */
  handlerErrors = 0;

  /**
   * @param options node options (validated at `listen`), or a started `PlumtreeNode` to serve
   * on (the server then neither starts nor leaves it).
   */
  constructor(private readonly options: PlumtreeModuleOptions | PlumtreeNode) {
    super();
    this.ownsNode = !isNode(options);
    this.listening = new Promise((r) => (this.resolveListening = r));
    this.listening.catch(() => undefined);
  }

  /** The node once `listen` succeeded (for modules sharing it). */
  whenListening(): Promise<PlumtreeNode> {
    return this.listening;
  }

  /** Start (or adopt) the node, subscribe the handlers; errors go to `callback`. */
  async listen(callback: (err?: unknown, ...info: unknown[]) => void): Promise<void> {
    this._status$.next('connecting');
    try {
      const node = isNode(this.options) ? this.options : await startPlumtreeNode(this.options);
      this.node = node;
      this.bind(node);
      registerServerNode(node.name, node);
      this.resolveListening(node);
    } catch (e) {
      this._status$.next('disconnected');
      callback(e);
      return;
    }
    callback();
  }

  /** Leave the cluster gracefully (others see this member as left) when the server owns its node. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.subscriptions.splice(0)) s.unsubscribe();
    for (const r of this.removals.splice(0)) r();
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

  private bind(node: PlumtreeNode): void {
    for (const l of this.listeners) this.attach(node, l);
    const hasSeeds = isNode(this.options) ? true : (this.options.seeds?.length ?? 0) > 0;
    this.subscriptions.push(
      node.members$.subscribe((members) => {
        if (this.closed) return;
        const alone = members.filter((m) => m.state === 'alive').length <= 1;
        this._status$.next(alone && hasSeeds ? 'degraded' : 'connected');
      }),
    );
    for (const [pattern, handler] of this.messageHandlers) {
      if (handler.isEventHandler) this.bindEvent(node, pattern);
      else this.removals.push(node.handleRequests(pattern, (req) => this.answer(handler, req)));
    }
  }

  private bindEvent(node: PlumtreeNode, pattern: string): void {
    this.subscriptions.push(
      node.subscribe(pattern).subscribe((delivery) => {
        const ctx = PlumtreeContext.fromDelivery(delivery);
        this.handleEvent(pattern, { pattern, data: delivery.payload }, ctx).catch((e: unknown) =>
          this.onHandlerError(pattern, e),
        );
      }),
    );
  }

  private async answer(
    handler: MessageHandler,
    req: import('@plumtree/cluster').RpcRequest,
  ): Promise<unknown> {
    const ctx = PlumtreeContext.fromRequest(req);
    try {
      const result: unknown = await handler(req.payload, ctx);
      return isObservable(result)
        ? await lastValueFrom(result, { defaultValue: undefined })
        : result;
    } catch (e) {
      // Nest's RPC exception filter errors the stream with a plain `{ status, message }`.
      if (e instanceof Error) throw e;
      const message =
        typeof e === 'object' && e !== null && 'message' in e ? String(e.message) : String(e);
      throw new Error(message, { cause: e });
    }
  }

  private onHandlerError(pattern: string, e: unknown): void {
    this.handlerErrors++;
    this.logger.error(
      `handler of ${JSON.stringify(pattern)} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
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
