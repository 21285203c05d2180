/**
 * Acknowledgement, retries and dead letters (docs/nestjs.md, "Acknowledgement, retries and dead
 * letters"), on real sockets: a hybrid app (its PlumtreeServer's node shared with PlumtreeModule)
 * holds `@PlumtreeSubscribe` and `@EventPattern` handlers; a client on its own node publishes.
 * A handler that throws twice then succeeds runs 3 times (attempts 1, 2, 3 on the context); one
 * that always throws puts the message on `<topic>.dlq` after its attempts, where a
 * `@PlumtreeSubscribe('orders.created.dlq')` handler sees it with the error; `ack: 'manual'`
 * handlers ack and nack through the context; the counters add up.
 */
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Injectable, type INestApplication } from '@nestjs/common';
import { Ctx, EventPattern, Payload, RpcException } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import {
  PlumtreeClient,
  PlumtreeContext,
  PlumtreeServer,
  PlumtreeService,
  PlumtreeSubscribe,
} from '@plumtree/nestjs';

import { startHybridApp } from './support/nest-hybrid-app.js';
import { waitFor } from '../support/wait-for.js';

interface Order {
  readonly id: string;
  readonly kind: 'flaky' | 'poison' | 'fine';
}

/** Attempts each handler saw, by order id. */
const attempts = new Map<string, number[]>();
const deadLetters: { payload: Order; dl: ReturnType<PlumtreeContext['getDeadLetter']> }[] = [];
const eventDeadLetters: ReturnType<PlumtreeContext['getDeadLetter']>[] = [];
const manualRuns: number[] = [];
const manualDone: string[] = [];

function record(key: string, ctx: PlumtreeContext): void {
  const list = attempts.get(key) ?? [];
  list.push(ctx.getAttempt());
  attempts.set(key, list);
}

@Injectable()
class Orders {
  @PlumtreeSubscribe('orders.created', { retry: { attempts: 3, backoffMs: 5 } })
  onCreated(@Payload() order: Order, @Ctx() ctx: PlumtreeContext): void {
    record(order.id, ctx);
    if (order.kind === 'poison') throw new TypeError(`card declined for ${order.id}`);
    if (order.kind === 'flaky' && ctx.getAttempt() < 3) throw new Error('database busy');
  }

  @PlumtreeSubscribe('orders.created.dlq')
  onDeadLetter(@Payload() order: Order, @Ctx() ctx: PlumtreeContext): void {
    deadLetters.push({ payload: order, dl: ctx.getDeadLetter() });
  }

  @PlumtreeSubscribe('jobs', { ack: 'manual', retry: { attempts: 2, backoffMs: 5 } })
  onJob(@Payload() job: { id: string }, @Ctx() ctx: PlumtreeContext): void {
    manualRuns.push(ctx.getAttempt());
    // Acknowledged after the handler returned: the attempt ends with ack()/nack(), not return.
    setImmediate(() => {
      if (ctx.getAttempt() === 1) ctx.nack(new Error('not yet'));
      else {
        manualDone.push(job.id);
        ctx.ack();
      }
    });
  }
}

@Controller()
class Payments {
  @EventPattern<string>('payments.taken', { retry: { attempts: 2, backoffMs: 5 } })
  onTaken(@Payload() p: { id: string }, @Ctx() ctx: PlumtreeContext): void {
    record(p.id, ctx);
    throw new RpcException('bank down');
  }

  @EventPattern<string>('payments.taken.dlq')
  onTakenDead(@Ctx() ctx: PlumtreeContext): void {
    eventDeadLetters.push(ctx.getDeadLetter());
  }
}

let app: INestApplication;
let server: PlumtreeServer;
let client: PlumtreeClient;

beforeAll(async () => {
  ({ app, server, client } = await startHybridApp({
    name: 'worker',
    clientName: 'shop',
    controllers: [Payments],
    providers: [Orders],
  }));
  for (const topic of [
    'orders.created',
    'orders.created.dlq',
    'jobs',
    'payments.taken',
    'payments.taken.dlq',
  ]) {
    await client.ready(topic, { subscribers: 1 });
  }
}, 30_000);

afterAll(async () => {
  await client?.close();
  await app?.close();
});

describe('retries and dead letters', () => {
  it('runs a handler that throws twice then succeeds 3 times, and dead-letters nothing', async () => {
    await lastValueFrom(client.emit('orders.created', { id: 'o-flaky', kind: 'flaky' }));
    await waitFor('the third attempt', () => attempts.get('o-flaky')?.length === 3);
    await lastValueFrom(client.emit('orders.created', { id: 'o-fine', kind: 'fine' }));
    await waitFor('a later message handled', () => attempts.get('o-fine')?.length === 1);
    expect(attempts.get('o-flaky')).toEqual([1, 2, 3]);
    expect(deadLetters).toEqual([]);
  });

  it('puts a message that always fails on orders.created.dlq after 3 attempts, with the error', async () => {
    const id = await lastValueFrom(
      client.emit<string>('orders.created', { id: 'o-poison', kind: 'poison' }),
    );
    await waitFor('the dead letter at its handler', () => deadLetters.length === 1);
    expect(attempts.get('o-poison')).toEqual([1, 2, 3]);
    expect(deadLetters[0]!.payload).toEqual({ id: 'o-poison', kind: 'poison' });
    expect(deadLetters[0]!.dl).toEqual({
      topic: 'orders.created',
      id,
      origin: 'shop',
      handler: 'Orders.onCreated',
      attempts: 3,
      error: { name: 'TypeError', message: 'card declined for o-poison' },
    });
  });

  it('does the same for an @EventPattern handler, with what Nest made of its RpcException', async () => {
    await lastValueFrom(client.emit('payments.taken', { id: 'p-1' }));
    await waitFor('the dead letter at its handler', () => eventDeadLetters.length === 1);
    expect(attempts.get('p-1')).toEqual([1, 2]);
    expect(eventDeadLetters[0]).toMatchObject({
      topic: 'payments.taken',
      handler: '@EventPattern(payments.taken)',
      attempts: 2,
      error: { message: 'bank down' },
    });
  });

  it('retries a manual handler that nacks, and takes its later ack', async () => {
    await lastValueFrom(client.emit('jobs', { id: 'j-1' }));
    await waitFor('the job acked', () => manualDone.length === 1);
    expect(manualRuns).toEqual([1, 2]);
  });

  it('counts retries and dead letters', async () => {
    // Subscribe handlers: flaky failed twice, poison 3 times, the job once; each but poison's
    // last was retried.
    await waitFor('the counters', () => app.get(PlumtreeService).stats().nest.retries === 5);
    const stats = app.get(PlumtreeService).stats().nest;
    expect(stats).toMatchObject({ deadLetters: 1, deadLettersLost: 0, handlerErrors: 6 });
    expect(server).toMatchObject({
      retries: 1,
      deadLetters: 1,
      deadLettersLost: 0,
      handlerErrors: 2,
    });
  });
});
