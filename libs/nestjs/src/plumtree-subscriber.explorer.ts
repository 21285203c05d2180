/**
 * Finds `@PlumtreeSubscribe` methods at bootstrap (DiscoveryService + MetadataScanner, as Nest's
 * `@OnEvent` and golevelup's `@RabbitSubscribe` do) and subscribes each to its topic, invoking it
 * through ExternalContextCreator so pipes, guards, interceptors, exception filters and the
 * `@Payload()` / `@Ctx()` parameter decorators apply (context type `rpc`, arguments
 * `(payload, PlumtreeContext)`). A handler that throws (or is refused by a guard) is logged and
 * counted; other handlers of the same message still run.
 *
 * Declarations are checked at `onModuleInit` (so `app.init()` / `app.listen()` rejects): an
 * invalid topic pattern, or a handler on a request-scoped provider (a message is not a request,
 * so there is no scope to resolve it in), fails startup with one {@link PlumtreeHandlerError}
 * naming every `Class.method` and pattern, after the node the module started left the cluster.
 */
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { DiscoveryService, ExternalContextCreator, MetadataScanner } from '@nestjs/core';
import type { ParamsFactory } from '@nestjs/core/helpers/external-context-creator.js';
import type { Subscription } from 'rxjs';
import {
  validatePattern,
  type Delivery,
  type NodeOptionProblem,
  type PlumtreeNode,
  type SubscribeOptions,
} from '@plumtree/cluster';
import { PlumtreeNodeRef } from './node-ref.js';
import { PLUMTREE_NODE_REF, PLUMTREE_SUBSCRIBE_METADATA } from './plumtree.constants.js';
import { PlumtreeContext } from './plumtree.context.js';
import type { PlumtreeSubscribeMetadata } from './plumtree-subscribe.decorator.js';
import { PlumtreeHandlerError } from './plumtree.errors.js';
import { PlumtreeService } from './plumtree.service.js';

/** Nest's RpcParamtype values (`@Payload()` = 3, `@Ctx()` = 6). */
const PAYLOAD_PARAM = 3;
const CONTEXT_PARAM = 6;

/** Resolves `@Payload(property?)` and `@Ctx()` from the handler's `(payload, context)` arguments. */
class PlumtreeParamsFactory implements ParamsFactory {
  exchangeKeyForValue(type: number, data: unknown, args: unknown[]): unknown {
    if (type === PAYLOAD_PARAM) {
      const payload = args[0] as Record<string, unknown> | undefined;
      return typeof data === 'string' && data.length > 0 && payload != null
        ? payload[data]
        : payload;
    }
    if (type === CONTEXT_PARAM) return args[1];
    return null;
  }
}

interface DiscoveredHandler {
  readonly name: string;
  readonly meta: PlumtreeSubscribeMetadata;
  readonly invoke: (payload: unknown, ctx: PlumtreeContext) => Promise<unknown>;
}

/** See the file comment. Provided by `PlumtreeModule`. */
@Injectable()
export class PlumtreeSubscriberExplorer
  implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown
{
  private readonly logger = new Logger('PlumtreeSubscribe');
  private readonly subscriptions: Subscription[] = [];
  private handlers: DiscoveredHandler[] = [];
  private stopped = false;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly contextCreator: ExternalContextCreator,
    private readonly service: PlumtreeService,
    @Inject(PLUMTREE_NODE_REF) private readonly ref: PlumtreeNodeRef,
  ) {}

  /** Find and check every handler; a bad declaration fails startup (see the file comment). */
  async onModuleInit(): Promise<void> {
    const problems: NodeOptionProblem[] = [];
    this.handlers = this.discover(problems);
    if (problems.length === 0) return;
    await this.ref.release();
    throw new PlumtreeHandlerError(problems);
  }

  onApplicationBootstrap(): void {
    const handlers = this.handlers;
    this.service.counters.handlers = handlers.length;
    if (handlers.length === 0) return;
    // A shared server may listen after bootstrap: subscribe once its node runs.
    this.ref.ready.then(
      (node) => this.subscribeAll(node, handlers),
      (e: unknown) => this.logger.error(`node did not start: ${String(e)}`),
    );
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    for (const s of this.subscriptions.splice(0)) s.unsubscribe();
  }

  private discover(problems: NodeOptionProblem[]): DiscoveredHandler[] {
    const out: DiscoveredHandler[] = [];
    const factory = new PlumtreeParamsFactory();
    const wrappers = [...this.discovery.getProviders(), ...this.discovery.getControllers()];
    for (const wrapper of wrappers) {
      if (!wrapper.isDependencyTreeStatic()) {
        checkNotScoped(wrapper.metatype, this.scanner, problems);
        continue;
      }
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (instance == null || typeof instance !== 'object') continue;
      const proto = Object.getPrototypeOf(instance) as object;
      for (const methodName of this.scanner.getAllMethodNames(proto)) {
        const method = instance[methodName] as ((...a: unknown[]) => unknown) | undefined;
        if (typeof method !== 'function') continue;
        const metas = Reflect.getMetadata(PLUMTREE_SUBSCRIBE_METADATA, method) as
          PlumtreeSubscribeMetadata[] | undefined;
        if (metas === undefined) continue;
        const invoke = this.contextCreator.create(
          instance,
          method,
          methodName,
          ROUTE_ARGS_METADATA,
          factory,
          undefined,
          undefined,
          undefined,
          'rpc',
        ) as (payload: unknown, ctx: PlumtreeContext) => Promise<unknown>;
        const name = `${instance.constructor.name}.${methodName}`;
        for (const meta of metas) {
          const reason = validatePattern(meta.topicOrPattern);
          if (reason === null) out.push({ name, meta, invoke });
          else problems.push({ field: name, message: `${decoratorOf(meta)}: ${reason}` });
        }
      }
    }
    return out;
  }

  private subscribeAll(node: PlumtreeNode, handlers: DiscoveredHandler[]): void {
    if (this.stopped || node.isClosed) return;
    for (const h of handlers) {
      this.subscriptions.push(
        node.subscribe(h.meta.topicOrPattern, subscribeOptions(h.meta)).subscribe({
          next: (d) => void this.run(h, d),
          // A directory limit refuses the subscription: logged, not an unhandled error.
          error: (e: unknown) =>
            this.logger.error(
              `${h.name} could not subscribe to ${h.meta.topicOrPattern}: ${e instanceof Error ? e.message : String(e)}`,
            ),
        }),
      );
      this.logger.log(`${h.name} subscribed to ${h.meta.topicOrPattern}`);
    }
  }

  private async run(h: DiscoveredHandler, d: Delivery): Promise<void> {
    try {
      await this.invoke(h, d);
    } finally {
      // A grouped delivery is acknowledged to its group once the handler settled.
      d.ack?.();
    }
  }

  private async invoke(h: DiscoveredHandler, d: Delivery): Promise<void> {
    let payload = d.payload;
    if (h.meta.dto !== undefined) {
      payload = await this.service.validate(h.meta.dto, d, h.name);
      if (payload === undefined) return;
    }
    this.service.counters.handled++;
    try {
      await h.invoke(payload, PlumtreeContext.fromDelivery(d));
    } catch (e) {
      this.service.counters.handlerErrors++;
      this.logger.error(
        `${h.name} failed on ${d.topic} (${d.id}): ${e instanceof Error ? e.message : String(e)}`,
        e instanceof Error ? e.stack : undefined,
      );
    }
  }
}

/** The node's subscribe options of a handler: a group acknowledges when the handler settles. */
function subscribeOptions(meta: PlumtreeSubscribeMetadata): SubscribeOptions {
  const durable = meta.durable === true;
  return meta.group === undefined ? { durable } : { durable, group: meta.group, ack: 'manual' };
}

/** `@PlumtreeSubscribe('topic')` as written, for error messages. */
function decoratorOf(meta: PlumtreeSubscribeMetadata): string {
  return `@PlumtreeSubscribe(${JSON.stringify(meta.topicOrPattern)})`;
}

/** A request-scoped class with `@PlumtreeSubscribe` methods is a startup problem. */
function checkNotScoped(
  metatype: unknown,
  scanner: MetadataScanner,
  problems: NodeOptionProblem[],
): void {
  if (typeof metatype !== 'function' || metatype.prototype == null) return;
  const proto = metatype.prototype as Record<string, unknown>;
  for (const methodName of scanner.getAllMethodNames(proto)) {
    const method = proto[methodName];
    if (typeof method !== 'function') continue;
    const metas = Reflect.getMetadata(PLUMTREE_SUBSCRIBE_METADATA, method) as
      PlumtreeSubscribeMetadata[] | undefined;
    for (const meta of metas ?? []) {
      problems.push({
        field: `${metatype.name}.${methodName}`,
        message:
          `${decoratorOf(meta)}: the provider is request-scoped (Scope.REQUEST, or it depends ` +
          'on such a provider); a message arrives outside any request, so make it a singleton',
      });
    }
  }
}
