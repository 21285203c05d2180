/**
 * Hybrid apps (docs/nestjs.md, "Hybrid apps"): `app.connectMicroservice({ strategy: new
 * PlumtreeServer(...) }, { inheritAppConfig: true })` with a global ValidationPipe and a global
 * interceptor: both apply to `@EventPattern`, `@MessagePattern` and `@PlumtreeSubscribe` handlers
 * alike. A valid payload reaches each handler as a DTO instance (the pipe's `transform`) and the
 * interceptor saw each handler; an invalid one reaches none of them.
 */
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  Controller,
  Injectable,
  ValidationPipe,
  type CallHandler,
  type ExecutionContext,
  type INestApplication,
  type NestInterceptor,
} from '@nestjs/common';
import { EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { IsInt, IsString, Min } from 'class-validator';
import { lastValueFrom, type Observable } from 'rxjs';
import {
  PlumtreeClient,
  PlumtreeServer,
  PlumtreeService,
  PlumtreeSubscribe,
} from '@plumtree/nestjs';

import { startHybridApp } from './support/nest-hybrid-app.js';
import { waitFor } from '../support/wait-for.js';

class OrderDto {
  @IsString() id!: string;
  @IsInt() @Min(1) qty!: number;
}

/** Handler names the global interceptor saw, with the context type. */
const intercepted: string[] = [];
/** What each handler kind received: the handler and whether the payload was an OrderDto. */
const received: { handler: string; dto: boolean; id: unknown }[] = [];

class RecordingInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    intercepted.push(`${context.getType()}:${context.getHandler().name}`);
    return next.handle();
  }
}

@Controller()
class OrdersController {
  @EventPattern<string>('orders.created')
  onEvent(@Payload() order: OrderDto): void {
    received.push({ handler: 'event', dto: order instanceof OrderDto, id: order.id });
  }

  @MessagePattern<string>('orders.check')
  onRequest(@Payload() order: OrderDto): boolean {
    received.push({ handler: 'request', dto: order instanceof OrderDto, id: order.id });
    return true;
  }
}

@Injectable()
class OrdersListener {
  @PlumtreeSubscribe('orders.created', { deadLetter: false })
  onSubscribe(@Payload() order: OrderDto): void {
    received.push({ handler: 'subscribe', dto: order instanceof OrderDto, id: order.id });
  }
}

let app: INestApplication;
let client: PlumtreeClient;
let server: PlumtreeServer;

beforeAll(async () => {
  ({ app, server, client } = await startHybridApp({
    name: 'hybrid',
    clientName: 'caller',
    controllers: [OrdersController],
    providers: [OrdersListener],
    handlers: { deadLetter: false },
    configure: (a) => {
      a.useGlobalPipes(new ValidationPipe({ transform: true }));
      a.useGlobalInterceptors(new RecordingInterceptor());
    },
  }));
  await client.ready('orders.created', { subscribers: 1 });
}, 30_000);

afterAll(async () => {
  await client?.close();
  await app?.close();
});

describe('a hybrid app with inheritAppConfig', () => {
  it('applies the global pipe and interceptor to every handler kind', async () => {
    await lastValueFrom(client.emit('orders.created', { id: 'o-1', qty: 2 }));
    expect(await lastValueFrom(client.send('orders.check', { id: 'o-1', qty: 2 }))).toBe(true);
    await waitFor('three handlers ran', () => received.length === 3);
    expect(received.sort((a, b) => a.handler.localeCompare(b.handler))).toEqual([
      { handler: 'event', dto: true, id: 'o-1' },
      { handler: 'request', dto: true, id: 'o-1' },
      { handler: 'subscribe', dto: true, id: 'o-1' },
    ]);
    expect(intercepted.sort()).toEqual(['rpc:onEvent', 'rpc:onRequest', 'rpc:onSubscribe']);
  });

  it('refuses an invalid payload before any handler runs', async () => {
    const before = received.length;
    await lastValueFrom(client.emit('orders.created', { id: 7, qty: 0 }));
    await expect(lastValueFrom(client.send('orders.check', { id: 7, qty: 0 }))).rejects.toEqual(
      expect.objectContaining({ status: 'error' }),
    );
    // Both event handlers failed their one attempt (the pipe's refusal) and went nowhere.
    const service = app.get(PlumtreeService);
    await waitFor(
      'both event handlers refused it',
      () => server.deadLettersLost === 1 && service.stats().nest.deadLettersLost === 1,
    );
    expect(received.length).toBe(before);
  });
});
