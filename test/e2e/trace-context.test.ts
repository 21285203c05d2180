/**
 * Trace context and headers across two nodes (docs/nestjs.md, "Headers and trace context"): with
 * the OpenTelemetry SDK registered (in-memory exporter, async-hooks context manager, W3C
 * propagator), a span started around `client.emit` / `client.send` on one node continues in the
 * handler on the other: one trace id, the handler's consumer span a child of the caller's span.
 * Application headers set with a PlumtreeRecord reach the handler on emit and send.
 */
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { lastValueFrom } from 'rxjs';
import type { PlumtreeNode } from '@plumtree/cluster';
import {
  PlumtreeClient,
  PlumtreeContext,
  PlumtreeRecordBuilder,
  PlumtreeServer,
} from '@plumtree/nestjs';

import { loopbackNode } from './support/nest-hybrid-app.js';
import { waitFor } from '../support/wait-for.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const contextManager = new AsyncLocalStorageContextManager().enable();

interface Seen {
  readonly traceId: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
}
const events: Seen[] = [];

function seen(ctx: PlumtreeContext): Seen {
  return { traceId: trace.getActiveSpan()?.spanContext().traceId, headers: ctx.getHeaders() };
}

@Controller()
class Orders {
  @EventPattern<string>('orders.created')
  onCreated(@Payload() _order: unknown, @Ctx() ctx: PlumtreeContext): void {
    events.push(seen(ctx));
  }

  @MessagePattern<string>('orders.get')
  get(@Payload() _q: unknown, @Ctx() ctx: PlumtreeContext): Seen {
    return seen(ctx);
  }
}

@Module({ controllers: [Orders] })
class OrdersModule {}

let app: INestMicroservice;
let client: PlumtreeClient;

beforeAll(async () => {
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const server = new PlumtreeServer(loopbackNode('orders'));
  app = await NestFactory.createMicroservice(OrdersModule, { strategy: server, logger: false });
  await app.listen();
  client = new PlumtreeClient(loopbackNode('shop', [server.unwrap<PlumtreeNode>().address]));
  await client.connect();
  await client.ready('orders.created', { subscribers: 1 });
}, 30_000);

afterAll(async () => {
  await client?.close();
  await app?.close();
  trace.disable();
  context.disable();
  propagation.disable();
});

describe('trace context across two nodes', () => {
  const tracer = trace.getTracer('checkout');

  it('continues the span around emit in the handler on the other node, headers included', async () => {
    const record = new PlumtreeRecordBuilder({ id: 'o-1' })
      .setHeaders({ 'x-tenant': 't1' })
      .build();
    const parent = await tracer.startActiveSpan('checkout', async (span) => {
      await lastValueFrom(client.emit('orders.created', record));
      span.end();
      return span.spanContext();
    });
    await waitFor('the event handled', () => events.length === 1);
    expect(events[0]!.traceId).toBe(parent.traceId);
    expect(events[0]!.headers['x-tenant']).toBe('t1');
    expect(events[0]!.headers['traceparent']).toMatch(
      new RegExp(`^00-${parent.traceId}-${parent.spanId}-0[01]$`),
    );
    await waitFor('the consumer span exported', () =>
      exporter.getFinishedSpans().some((s) => s.name === 'orders.created process'),
    );
    const consumer = exporter.getFinishedSpans().find((s) => s.name === 'orders.created process')!;
    expect(consumer.spanContext().traceId).toBe(parent.traceId);
    expect(consumer.parentSpanContext?.spanId).toBe(parent.spanId);
    expect(consumer.attributes).toMatchObject({
      'messaging.destination.name': 'orders.created',
      'plumtree.attempt': 1,
    });
  });

  it('continues the span around send in the request handler, headers included', async () => {
    const record = new PlumtreeRecordBuilder({ id: 'o-1' })
      .setHeaders({ 'x-tenant': 't2' })
      .build();
    const { parent, reply } = await tracer.startActiveSpan('lookup', async (span) => {
      const r = await lastValueFrom(client.send<Seen>('orders.get', record));
      span.end();
      return { parent: span.spanContext(), reply: r };
    });
    expect(reply.traceId).toBe(parent.traceId);
    expect(reply.headers['x-tenant']).toBe('t2');
    expect(reply.headers['traceparent']).toContain(parent.traceId);
  });

  it('starts no trace when no span is active, and still delivers', async () => {
    await lastValueFrom(client.emit('orders.created', { id: 'o-2' }));
    await waitFor('the event handled', () => events.length === 2);
    expect(events[1]!.headers['traceparent']).toBeUndefined();
    // The handler's span is a root of its own trace.
    expect(events[1]!.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(events[1]!.traceId).not.toBe(events[0]!.traceId);
  });
});
