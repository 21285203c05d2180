/**
 * Binds a server's Nest handlers to a node: each `@EventPattern` handler becomes a subscription of
 * its topic, each `@MessagePattern` route a request handler of its topic (see pattern-topic.ts
 * for the topic of a route). All or nothing: when one binding throws, the ones made are undone
 * and the error is raised.
 *
 * Nest chains the `@EventPattern` handlers of one pattern (`handler.next`, all run and joined by
 * the head). Here the chain is cut and each link subscribes on its own, with its own delivery
 * options (its decorator's extras: retry, concurrency, ack), so a retry runs again only the
 * handler that failed.
 */
import type { Observable, Subscription } from 'rxjs';
import type { MessageHandler } from '@nestjs/microservices';
import type { Delivery, DeliveryGate, PlumtreeNode, RpcRequest } from '@plumtree/cluster';
import { topicOfRoute } from './pattern-topic.js';

/** What the bindings call back into: the server's own event and request handling. */
export interface HandlerBindingHost {
  /** The gate of `route`'s event handler (its concurrency slots), or undefined for none. */
  gateOf(route: string, handler: MessageHandler): DeliveryGate | undefined;
  /** A delivery of `route`'s topic arrived for `handler`. */
  onEvent(route: string, handler: MessageHandler, delivery: Delivery): void;
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
        for (const link of chainOf(handler)) {
          // A subscription that cannot be made (a directory limit) errors the Observable while
          // `subscribe` runs: caught here, so binding fails instead of an unhandled error later.
          let failed: { error: unknown } | undefined;
          let binding = true;
          const gate = host.gateOf(key, link);
          const group = (link.extras as { group?: string } | undefined)?.group;
          const s = node
            .subscribe(topic, {
              ...(gate !== undefined ? { gate } : {}),
              ...(group !== undefined ? { group, ack: 'manual' as const } : {}),
            })
            .subscribe({
              next: (d) => host.onEvent(key, link, d),
              error: (error: unknown) => {
                if (binding) failed = { error };
                else host.onSubscriptionError(key, error);
              },
            });
          binding = false;
          if (failed !== undefined) throw failed.error;
          subscriptions.push(s);
        }
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

/** Chains already cut, by head (a server that listens again binds the same links). */
const chains = new WeakMap<MessageHandler, MessageHandler[]>();

/** The handlers of Nest's chain from `head`, each unlinked (called alone, it runs alone). */
function chainOf(head: MessageHandler): MessageHandler[] {
  let out = chains.get(head);
  if (out !== undefined) return out;
  out = [];
  for (let h: MessageHandler | undefined = head; h !== undefined;) {
    const next = h.next as MessageHandler | undefined;
    delete h.next;
    out.push(h);
    h = next;
  }
  chains.set(head, out);
  return out;
}
