/**
 * Finds `@PlumtreeSubscribe` methods at bootstrap (DiscoveryService + MetadataScanner, as Nest's
 * `@OnEvent` and golevelup's `@RabbitSubscribe` do) and subscribes each to its topic, invoking it
 * through ExternalContextCreator so pipes, guards, interceptors, exception filters and the
 * `@Payload()` / `@Ctx()` parameter decorators apply (context type `rpc`, arguments
 * `(payload, PlumtreeContext)`). Each delivery runs through delivery-runner.ts: acknowledgement,
 * retries, the dead-letter topic, the concurrency limit and the trace context. A handler that
 * throws (or is refused by a guard) is logged and counted; other handlers of the same message
 * still run.
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
import {
  runDelivery,
  type DeliveryRunnerHost,
  type RunnableHandler,
} from './delivery/delivery-runner.js';
import { HandlerSlots } from './delivery/handler-slots.js';
import { handlerOptionProblems, resolveHandlerPolicy } from './delivery/handler-policy.js';
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

interface DiscoveredHandler extends RunnableHandler {
  readonly meta: PlumtreeSubscribeMetadata;
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
  private readonly runnerHost: DeliveryRunnerHost;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly contextCreator: ExternalContextCreator,
    private readonly service: PlumtreeService,
    @Inject(PLUMTREE_NODE_REF) private readonly ref: PlumtreeNodeRef,
  ) {
    this.runnerHost = {
      counters: service.counters,
      onAttemptFailed: (h, d, e, willRetry) =>
        this.logger.error(
          `${h.name} failed on ${d.topic} (${d.id}): ${e instanceof Error ? e.message : String(e)}` +
            (willRetry ? '; retrying' : ''),
          e instanceof Error ? e.stack : undefined,
        ),
      onLost: (h, d, reason) =>
        this.logger.error(
          `${h.name} gave up on ${d.topic} (${d.id}), not dead-lettered: ${reason}`,
        ),
      publish: (topic, payload, headers) => service.publish(topic, payload, { headers }),
    };
  }

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
          const bad = handlerOptionProblems(meta, name);
          if (reason !== null) {
            problems.push({ field: name, message: `${decoratorOf(meta)}: ${reason}` });
          } else if (bad.length > 0) {
            problems.push(
              ...bad.map((p) => ({ ...p, message: `${decoratorOf(meta)}: ${p.message}` })),
            );
          } else {
            const policy = resolveHandlerPolicy(meta, this.ref.handlerDefaults);
            const slots =
              policy.concurrency === undefined ? undefined : new HandlerSlots(policy.concurrency);
            out.push({ name, meta, invoke, policy, slots });
          }
        }
      }
    }
    return out;
  }

  private subscribeAll(node: PlumtreeNode, handlers: DiscoveredHandler[]): void {
    if (this.stopped || node.isClosed) return;
    for (const h of handlers) {
      this.subscriptions.push(
        node
          .subscribe(h.meta.topicOrPattern, {
            ...subscribeOptions(h.meta),
            ...(h.slots !== undefined ? { gate: h.slots } : {}),
          })
          .subscribe({
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

  private run(h: DiscoveredHandler, d: Delivery): Promise<void> {
    const dto = h.meta.dto;
    return (
      runDelivery(h, d, this.runnerHost, async () => {
        let payload = d.payload;
        if (dto !== undefined) {
          payload = await this.service.validate(dto, d, h.name);
          if (payload === undefined) return undefined;
        }
        this.service.counters.handled++;
        return { payload };
      })
        // A grouped delivery is acknowledged to its group once the final outcome is in: handled,
        // refused by validation, or dead-lettered after the retries.
        .finally(() => d.ack?.())
    );
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
