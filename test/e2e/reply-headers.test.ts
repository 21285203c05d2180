/**
 * Reply headers across two nodes (docs/nestjs.md, "Headers and trace context"): a
 * `@MessagePattern` handler sets headers on its reply with `ctx.setReplyHeaders` or by returning
 * `PlumtreeRecord`s, and the requester reads them with `PlumtreeService.requestWithHeaders`;
 * `ClientProxy.send` gets the data alone. With the OpenTelemetry SDK registered, the reply carries
 * the handler's span (`traceparent`): the trace started around the request continues into it.
 */
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  Controller,
  Module,
  type INestApplicationContext,
  type INestMicroservice,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { lastValueFrom, of, toArray } from 'rxjs';
import type { PlumtreeNode } from '@plumtree/cluster';
import {
  PlumtreeClient,
  PlumtreeContext,
  PlumtreeModule,
  PlumtreeRecordBuilder,
  PlumtreeServer,
  PlumtreeService,
} from '@plumtree/nestjs';

import { loopbackNode } from './support/nest-hybrid-app.js';
import { waitFor } from '../support/wait-for.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const contextManager = new AsyncLocalStorageContextManager().enable();

@Controller()
class Orders {
  @MessagePattern<string>('orders.get')
  get(@Payload() q: { id: string }, @Ctx() ctx: PlumtreeContext): { id: string; seen: string } {
    ctx.setReplyHeaders({ 'x-served-by': 'orders', 'x-version': '1' });
    ctx.setReplyHeaders({ 'x-version': '2' });
    return { id: q.id, seen: ctx.getHeaders()['x-tenant'] ?? '' };
  }

  @MessagePattern<string>('orders.cached')
  cached(@Payload() q: { id: string }) {
    return new PlumtreeRecordBuilder({ id: q.id }).setHeaders({ 'x-cache': 'hit' }).build();
  }

  @MessagePattern<string>('orders.pages')
  pages() {
    return of(
      new PlumtreeRecordBuilder(1).setHeaders({ 'x-page': '1', 'x-first': 'yes' }).build(),
      new PlumtreeRecordBuilder(2).setHeaders({ 'x-page': '2' }).build(),
    );
  }
}

@Module({ controllers: [Orders] })
class OrdersModule {}

let app: INestMicroservice;
let shop: INestApplicationContext;
let service: PlumtreeService;
let client: PlumtreeClient;

beforeAll(async () => {
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const server = new PlumtreeServer(loopbackNode('orders'));
  app = await NestFactory.createMicroservice(OrdersModule, { strategy: server, logger: false });
  await app.listen();
  const seeds = [server.unwrap<PlumtreeNode>().address];
  @Module({ imports: [PlumtreeModule.forRoot(loopbackNode('shop', seeds))] })
  class ShopModule {}
  shop = await NestFactory.createApplicationContext(ShopModule, { logger: false });
  await shop.init();
  service = shop.get(PlumtreeService);
  const node = await service.whenReady();
  await waitFor('the responder known', () => node.respondersOf('orders.get').length === 1);
  client = new PlumtreeClient({ node });
  await client.connect();
}, 30_000);

afterAll(async () => {
  await client?.close();
  await shop?.close();
  await app?.close();
  trace.disable();
  context.disable();
  propagation.disable();
});

describe('reply headers across two nodes', () => {
  const tracer = trace.getTracer('shop');

  it('reads the headers the handler set through its context, and the request headers reach it', async () => {
    const reply = await service.requestWithHeaders(
      'orders.get',
      { id: 'o-1' },
      { headers: { 'x-tenant': 't1' } },
    );
    expect(reply.data).toEqual({ id: 'o-1', seen: 't1' });
    expect(reply.headers).toMatchObject({ 'x-served-by': 'orders', 'x-version': '2' });
  });

  it('reads the headers of a returned PlumtreeRecord; the client gets its data alone', async () => {
    await expect(service.requestWithHeaders('orders.cached', { id: 'o-2' })).resolves.toMatchObject(
      { data: { id: 'o-2' }, headers: { 'x-cache': 'hit' } },
    );
    await expect(lastValueFrom(client.send('orders.cached', { id: 'o-3' }))).resolves.toEqual({
      id: 'o-3',
    });
  });

  it('merges the headers of every record of a reply stream', async () => {
    await expect(service.requestWithHeaders('orders.pages', {})).resolves.toMatchObject({
      data: 2,
      headers: { 'x-page': '2', 'x-first': 'yes' },
    });
    await expect(lastValueFrom(client.send('orders.pages', {}).pipe(toArray()))).resolves.toEqual([
      1, 2,
    ]);
  });

  it('continues the trace into the reply: its traceparent is the handler span', async () => {
    const { parent, reply } = await tracer.startActiveSpan('lookup', async (span) => {
      const r = await service.requestWithHeaders('orders.get', { id: 'o-4' });
      span.end();
      return { parent: span.spanContext(), reply: r };
    });
    await waitFor('the handler span exported', () =>
      exporter
        .getFinishedSpans()
        .some((s) => s.name === 'orders.get process' && s.spanContext().traceId === parent.traceId),
    );
    const handler = exporter
      .getFinishedSpans()
      .find((s) => s.name === 'orders.get process' && s.spanContext().traceId === parent.traceId)!;
    expect(handler.parentSpanContext?.spanId).toBe(parent.spanId);
    expect(reply.headers['traceparent']).toMatch(
      new RegExp(`^00-${parent.traceId}-${handler.spanContext().spanId}-0[01]$`),
    );
    expect(reply.headers['x-served-by']).toBe('orders');
  });
});
