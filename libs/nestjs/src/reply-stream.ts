/**
 * The reply stream of one request to a `@MessagePattern` handler, as Nest's own transports build
 * it (`Server#handleRequest`): the handler runs between the processing start and end hooks, and
 * its value, its promise's value or every value of its Observable is the reply. A failure is the
 * value Nest's exception filter made of it (`{ status: 'error', message }`, an `RpcException`'s
 * object), which the node carries back to the client as it is. Unsubscribing (the client
 * cancelled, or the request's timeout passed) unsubscribes the handler's stream.
 */
import { finalize, Observable, type Subscription } from 'rxjs';
import type { BaseRpcContext, MessageHandler } from '@nestjs/microservices';

/** What the reply needs from the server: its processing hooks and Nest's value-to-stream rule. */
export interface ReplyRuntime {
  /** `Server#runWithProcessingHooks`. */
  runWithProcessingHooks(ctx: BaseRpcContext, fn: (runEndHook: () => void) => Promise<void>): void;
  /** `Server#transformToObservable`. */
  transformToObservable(result: unknown): Observable<unknown>;
}

/** See the file comment. */
export function replyStream(
  handler: MessageHandler,
  payload: unknown,
  ctx: BaseRpcContext,
  runtime: ReplyRuntime,
): Observable<unknown> {
  return new Observable<unknown>((subscriber) => {
    let inner: Subscription | undefined;
    let stopped = false;
    runtime.runWithProcessingHooks(ctx, async (runEndHook) => {
      try {
        const result: unknown = await handler(payload, ctx);
        if (stopped) {
          runEndHook();
          return;
        }
        inner = runtime
          .transformToObservable(result)
          .pipe(finalize(runEndHook))
          .subscribe(subscriber);
      } catch (e) {
        // Nest's proxy turns failures into an erroring stream; this is a safety net.
        runEndHook();
        subscriber.error(e);
      }
    });
    return () => {
      stopped = true;
      inner?.unsubscribe();
    };
  });
}
