/**
 * Binds a server's Nest handlers to a node: each `@EventPattern` route becomes a subscription of
 * its topic, each `@MessagePattern` route a request handler of its topic (see pattern-topic.ts
 * for the topic of a route). All or nothing: when one binding throws, the ones made are undone
 * and the error is raised.
 */
import type { Observable, Subscription } from 'rxjs';
import type { MessageHandler } from '@nestjs/microservices';
import type { Delivery, PlumtreeNode, RpcRequest } from '@plumtree/cluster';
import { topicOfRoute } from './pattern-topic.js';

/** What the bindings call back into: the server's own event and request handling. */
export interface HandlerBindingHost {
  /** A delivery of `route`'s topic arrived. */
  onEvent(route: string, delivery: Delivery): void;
  /** A request for `route`'s topic: the reply stream of `handler`. */
  onRequest(handler: MessageHandler, request: RpcRequest): Observable<unknown>;
  /** A subscription of `route`'s topic failed after it was bound. */
  onSubscriptionError(route: string, error: unknown): void;
}

/** Bind every route of `handlers` on `node`; returns the unbinding. */
export function bindHandlers(
  node: PlumtreeNode,
  handlers: ReadonlyMap<unknown, MessageHandler>,
  host: HandlerBindingHost,
): () => void {
  const subscriptions: Subscription[] = [];
  const removals: (() => void)[] = [];
  const unbind = (): void => {
    for (const s of subscriptions.splice(0)) s.unsubscribe();
    for (const r of removals.splice(0)) r();
  };
  try {
    for (const [route, handler] of handlers) {
      const topic = topicOfRoute(route);
      const key = typeof route === 'string' ? route : String(route);
      if (handler.isEventHandler) {
        // A subscription that cannot be made (a directory limit) errors the Observable while
        // `subscribe` runs: caught here, so binding fails instead of an unhandled error later.
        let failed: { error: unknown } | undefined;
        let binding = true;
        const group = (handler.extras as { group?: string } | undefined)?.group;
        const s = node
          .subscribe(topic, group === undefined ? {} : { group, ack: 'manual' })
          .subscribe({
            next: (d) => host.onEvent(key, d),
            error: (error: unknown) => {
              if (binding) failed = { error };
              else host.onSubscriptionError(key, error);
            },
          });
        binding = false;
        if (failed !== undefined) throw failed.error;
        subscriptions.push(s);
      } else {
        removals.push(node.handleRequests(topic, (req) => host.onRequest(handler, req)));
      }
    }
  } catch (e) {
    unbind();
    throw e;
  }
  return unbind;
}
