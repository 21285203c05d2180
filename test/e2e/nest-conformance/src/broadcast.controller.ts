/**
 * The controllers of Nest's broadcast specs (`integration/microservices/src/nats/` and
 * `src/redis/`, `*-broadcast.controller.ts`): one pattern answered by every server the app
 * connects, a reply stream that never completes, and a handler that replies with the concrete
 * topic a wildcard pattern matched.
 */
import { Controller, Get, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, type ClientProxy } from '@nestjs/microservices';
import { lastValueFrom, Observable, scan, take } from 'rxjs';
import type { PlumtreeContext } from '@plumtree/nestjs';

/** Injection token of the client. */
export const BROADCAST_CLIENT = Symbol('BROADCAST_CLIENT');

/** Handler runs (over both servers) and reply streams still open. */
export const broadcastLog = { runs: 0, openStreams: 0 };

/** A reply stream of one value that never completes, counting its open subscriptions. */
function oneThenNothing(): Observable<number> {
  return new Observable<number>((subscriber) => {
    broadcastLog.runs++;
    broadcastLog.openStreams++;
    subscriber.next(1);
    return () => broadcastLog.openStreams--;
  });
}

@Controller()
export class BroadcastController {
  constructor(@Inject(BROADCAST_CLIENT) private readonly client: ClientProxy) {}

  /** String pattern (NATS spec): the sum of the first two replies. */
  @Get('broadcast')
  broadcast(): Observable<number> {
    return this.client.send<number>('broadcast.test', {}).pipe(
      scan((a, b) => a + b),
      take(2),
    );
  }

  /** Object pattern (Redis spec): the same with `{ cmd: 'broadcast' }`. */
  @Get('broadcast-object')
  broadcastObject(): Observable<number> {
    return this.client.send<number>({ cmd: 'broadcast' }, {}).pipe(
      scan((a, b) => a + b),
      take(2),
    );
  }

  @Get('subject')
  async subject(): Promise<unknown> {
    return lastValueFrom(this.client.send('retrieve.subject.hello', {}));
  }

  @MessagePattern('broadcast.*')
  replyBroadcast(): Observable<number> {
    return oneThenNothing();
  }

  @MessagePattern({ cmd: 'broadcast' })
  replyBroadcastObject(): Observable<number> {
    return oneThenNothing();
  }

  @MessagePattern('retrieve.subject.*')
  replySubject(_data: unknown, @Ctx() ctx: PlumtreeContext): string {
    return ctx.getTopic();
  }
}
