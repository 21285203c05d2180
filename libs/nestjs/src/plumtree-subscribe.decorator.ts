/**
 * `@PlumtreeSubscribe(topicOrPattern, { dto?, durable? })`: marks a provider (or controller)
 * method as a handler of a topic or pattern. The decorator only writes metadata; the module's
 * explorer finds the methods at bootstrap and subscribes them (see plumtree-subscriber.explorer.ts).
 */
import type { PlumtreeHandlerOptions } from './delivery/handler-policy.js';
import { PLUMTREE_SUBSCRIBE_METADATA } from './plumtree.constants.js';

/**
 * Options of {@link PlumtreeSubscribe}: a DTO, durability, and the delivery options (`retry`,
 * `deadLetter`, `ack`, `ackTimeoutMs`, `concurrency`; the module's `handlers` are the defaults).
 */
export interface PlumtreeSubscribeOptions extends PlumtreeHandlerOptions {
  /**
   * A class-validator DTO: each payload is transformed with class-transformer
   * (`plainToInstance`) and validated; an invalid one is logged, counted
   * (`PlumtreeService.stats().nest.invalid`) and emitted on `PlumtreeService.invalid$`, and the
   * handler is not called.
   */
  readonly dto?: new (...args: never[]) => object;
  /**
   * Make the topic durable on this node: every message is logged before the handler sees it,
   * the handler sees each message once also across restarts, and what the node missed while
   * down or cut off is pulled from a peer (docs/persistence.md).
   */
  readonly durable?: boolean;
  /**
   * A queue group: one alive member of the group in the cluster handles each message, spread
   * evenly; a member that dies before its handler settled has its messages handled by another,
   * `PlumtreeContext.isRedelivered()` true (docs/queue-groups.md). Without a group every instance
   * handles every message.
   */
  readonly group?: string;
}

/** What the decorator stores for one handler. */
export interface PlumtreeSubscribeMetadata extends PlumtreeSubscribeOptions {
  readonly topicOrPattern: string;
}

/**
 * Subscribe the decorated method to `topicOrPattern` (`orders.created`, `orders.*`, `orders.#`).
 * It is invoked through Nest's ExternalContextCreator, so pipes, guards, interceptors and the
 * `@Payload()` / `@Ctx()` parameter decorators work (the context is a `PlumtreeContext`). Several
 * decorators may sit on one method.
 */
export function PlumtreeSubscribe(
  topicOrPattern: string,
  options: PlumtreeSubscribeOptions = {},
): MethodDecorator {
  return (_target, _key, descriptor: PropertyDescriptor) => {
    const fn = descriptor.value as object;
    const list =
      (Reflect.getMetadata(PLUMTREE_SUBSCRIBE_METADATA, fn) as
        PlumtreeSubscribeMetadata[] | undefined) ?? [];
    Reflect.defineMetadata(
      PLUMTREE_SUBSCRIBE_METADATA,
      [...list, { ...options, topicOrPattern }],
      fn,
    );
    return descriptor;
  };
}
