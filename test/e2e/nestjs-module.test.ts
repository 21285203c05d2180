/**
 * PlumtreeModule in hybrid HTTP apps on real sockets (127.0.0.1, port 0): one app publishes
 * through PlumtreeService on the node of its PlumtreeServer (`shareServer`), another (its own
 * node, `forRootAsync`) receives through `topic$` and through `@PlumtreeSubscribe` on a provider
 * with a class-validator DTO, a guard and an interceptor; invalid payloads reach `invalid$` and
 * not the handler; a throwing handler does not stop the others; shutdown shows as left; invalid
 * options and a port in use fail startup with clear messages.
 */
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  Injectable,
  Module,
  UseGuards,
  UseInterceptors,
  type CallHandler,
  type CanActivate,
  type ExecutionContext,
  type INestApplication,
  type NestInterceptor,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientsModule, Ctx, Payload, type ClientProxy } from '@nestjs/microservices';
import { IsInt, IsString, Min } from 'class-validator';
import { firstValueFrom, lastValueFrom, tap, type Observable } from 'rxjs';
import type { Delivery, PlumtreeNode } from '@plumtree/cluster';
import {
  PlumtreeClient,
  PlumtreeContext,
  PlumtreeModule,
  PlumtreeOptionsError,
  PlumtreeServer,
  PlumtreeService,
  PlumtreeStartError,
  PlumtreeSubscribe,
  type InvalidPayload,
} from '@plumtree/nestjs';

import { FAST_SWIM } from '../support/fast-swim.js';
import { waitFor } from '../support/wait-for.js';

/** The DTO of `orders.created`. */
class OrderCreated {
  @IsString() id!: string;
  @IsInt() @Min(1) qty!: number;
  /** A method: only a class instance (class-transformer's output) has it. */
  total(price: number): number {
    return this.qty * price;
  }
}

const handled: {
  order: OrderCreated;
  isInstance: boolean;
  topic: string;
  metadata: unknown;
  origin: string;
}[] = [];
const guardSaw: string[] = [];
const interceptorSaw: string[] = [];
let otherHandlerRuns = 0;

/** Refuses orders whose id starts with "blocked". */
@Injectable()
class NoBlockedOrders implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const data = context.switchToRpc().getData<OrderCreated>();
    guardSaw.push(data.id);
    return !data.id.startsWith('blocked');
  }
}

/** Records each handled topic, after the handler ran. */
@Injectable()
class RecordTopic implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const ctx = context.switchToRpc().getContext<PlumtreeContext>();
    return next.handle().pipe(tap(() => interceptorSaw.push(ctx.getTopic())));
  }
}

@Injectable()
class OrdersListener {
  @PlumtreeSubscribe('orders.created', { dto: OrderCreated, durable: true })
  @UseGuards(NoBlockedOrders)
  @UseInterceptors(RecordTopic)
  onCreated(@Payload() order: OrderCreated, @Ctx() ctx: PlumtreeContext): void {
    handled.push({
      order,
      isInstance: order instanceof OrderCreated && order.total(2) === order.qty * 2,
      topic: ctx.getTopic(),
      metadata: ctx.getMetadata(),
      origin: ctx.getOrigin(),
    });
  }

  @PlumtreeSubscribe('orders.created')
  alwaysThrows(): void {
    throw new Error('this handler always fails');
  }

  @PlumtreeSubscribe('orders.*')
  alsoRuns(): void {
    otherHandlerRuns++;
  }
}

const RECEIVER_CONFIG = Symbol('RECEIVER_CONFIG');

@Module({})
class PublisherModule {}

describe('PlumtreeModule in hybrid HTTP apps', () => {
  let publisher: INestApplication;
  let receiver: INestApplication;
  let publisherServer: PlumtreeServer;
  let publisherAddress: string;
  const publisherLeftSeen: string[] = [];

  beforeAll(async () => {
    @Module({
      imports: [
        PlumtreeModule.forRoot({ shareServer: true, name: 'pub' }),
        // A ClientProxy on the same node, registered the way Nest users register clients.
        ClientsModule.register([
          {
            name: 'PLUMTREE_CLIENT',
            customClass: PlumtreeClient,
            options: { shareServer: true, name: 'pub' },
          },
        ]),
      ],
    })
    class PubAppModule {}
    publisher = await NestFactory.create(PubAppModule, { logger: false, abortOnError: false });
    publisherServer = new PlumtreeServer({
      name: 'pub',
      persistence: false,
      bindAddr: '127.0.0.1',
      bindPort: 0,
      swim: FAST_SWIM,
    });
    publisherServer.on('member-left', (e) =>
      publisherLeftSeen.push((e as { member: { name: string } }).member.name),
    );
    publisher.connectMicroservice({ strategy: publisherServer }, { inheritAppConfig: true });
    await publisher.startAllMicroservices();
    await publisher.listen(0, '127.0.0.1');
    publisherAddress = publisherServer.unwrap<PlumtreeNode>().address;

    @Module({
      providers: [{ provide: RECEIVER_CONFIG, useValue: { seeds: [publisherAddress] } }],
      exports: [RECEIVER_CONFIG],
    })
    class ConfigModule {}
    @Module({
      imports: [
        PlumtreeModule.forRootAsync({
          imports: [ConfigModule],
          inject: [RECEIVER_CONFIG],
          useFactory: (cfg: { seeds: string[] }) => ({
            name: 'recv',
            persistence: false,
            bindAddr: '127.0.0.1',
            bindPort: 0,
            seeds: cfg.seeds,
            swim: FAST_SWIM,
          }),
        }),
      ],
      providers: [OrdersListener, NoBlockedOrders, RecordTopic],
    })
    class RecvAppModule {}
    receiver = await NestFactory.create(RecvAppModule, { logger: false, abortOnError: false });
    receiver.enableShutdownHooks();
    await receiver.listen(0, '127.0.0.1');
    void PublisherModule;
  }, 30_000);

  afterAll(async () => {
    await receiver?.close();
    await publisher?.close();
  });

  it('shares the PlumtreeServer node with PlumtreeService in the hybrid app', async () => {
    const service = publisher.get(PlumtreeService);
    await service.whenReady();
    expect(service.node).toBe(publisherServer.unwrap());
    const members = await new Promise<string[]>((resolve) => {
      const sub = service.members$.subscribe((m) => {
        if (m.length === 2) {
          resolve(m.map((x) => x.name).sort());
          queueMicrotask(() => sub.unsubscribe());
        }
      });
    });
    expect(members).toEqual(['pub', 'recv']);
  });

  it('delivers through topic$ and @PlumtreeSubscribe with a DTO, guard and interceptor', async () => {
    const pub = publisher.get(PlumtreeService);
    const recv = receiver.get(PlumtreeService);
    const streamed: Delivery<OrderCreated>[] = [];
    const invalid: InvalidPayload[] = [];
    const invalidSub = recv.invalid$.subscribe((i) => invalid.push(i));
    const streamSub = recv.topic$<OrderCreated>('orders.*').subscribe((d) => streamed.push(d));
    await waitFor('the receiver in the directory', () =>
      pub.node.subscribersOf('orders.created').includes('recv'),
    );

    await pub.publish('orders.created', { id: 'o-1', qty: 3 }, { metadata: { trace: 'abc' } });
    await pub.publish('orders.created', { id: 5, qty: 0 }); // invalid: id not a string, qty < 1
    await pub.publish('orders.created', { id: 'blocked-1', qty: 1 }); // valid, refused by the guard
    await waitFor(
      'all three messages handled',
      () =>
        streamed.length === 3 &&
        invalid.length === 1 &&
        guardSaw.length === 2 &&
        recv.stats().nest.handlerErrors === 4 &&
        otherHandlerRuns === 3,
    );

    expect(handled).toHaveLength(1);
    expect(handled[0]).toMatchObject({
      order: { id: 'o-1', qty: 3 },
      isInstance: true,
      topic: 'orders.created',
      metadata: { trace: 'abc' },
      origin: 'pub',
    });
    expect(interceptorSaw).toEqual(['orders.created']);
    expect(guardSaw).toEqual(['o-1', 'blocked-1']);
    expect(invalid[0]).toMatchObject({
      topic: 'orders.created',
      payload: { id: 5, qty: 0 },
      dto: 'OrderCreated',
      handler: 'OrdersListener.onCreated',
    });
    expect(invalid[0]!.errors.join(' ')).toMatch(/id: .*string/);
    expect(invalid[0]!.errors.join(' ')).toMatch(/qty: /);
    expect(streamed.map((d) => d.payload.id)).toEqual(['o-1', 5, 'blocked-1']);
    // Three throws of alwaysThrows plus the guard's refusal; the other handlers kept running.
    expect(recv.stats().nest).toMatchObject({ invalid: 1, handlerErrors: 4, handlers: 3 });
    invalidSub.unsubscribe();
    streamSub.unsubscribe();
  });

  it('validates topic$ payloads against a DTO and leaves the topic with its last observer', async () => {
    const pub = publisher.get(PlumtreeService);
    const recv = receiver.get(PlumtreeService);
    const invalid: InvalidPayload[] = [];
    const invalidSub = recv.invalid$.subscribe((i) => invalid.push(i));
    const a: OrderCreated[] = [];
    const b: OrderCreated[] = [];
    const subA = recv
      .topic$('news.orders', { dto: OrderCreated })
      .subscribe((d) => a.push(d.payload));
    const subB = recv
      .topic$('news.orders', { dto: OrderCreated })
      .subscribe((d) => b.push(d.payload));
    expect(recv.node.subscriptionsList()).toContain('news.orders');
    await waitFor('news subscriber', () => pub.node.subscribersOf('news.orders').includes('recv'));
    await pub.publish('news.orders', { id: 'n-1', qty: 1 });
    await pub.publish('news.orders', { id: 'n-2' });
    await waitFor('news delivered', () => a.length === 1 && b.length === 1 && invalid.length === 1);
    expect(a[0]).toBeInstanceOf(OrderCreated);
    expect(b[0]).toBe(a[0]); // one shared stream, one transformed instance
    expect(invalid[0]).toMatchObject({ handler: 'topic$', payload: { id: 'n-2' } });
    subA.unsubscribe();
    expect(recv.node.subscriptionsList()).toContain('news.orders');
    subB.unsubscribe();
    expect(recv.node.subscriptionsList()).not.toContain('news.orders');
    expect(recv.node.topics()).not.toContain('news.orders');
    invalidSub.unsubscribe();
  });

  it('emits through a PlumtreeClient registered with ClientsModule, metadata included', async () => {
    const client = publisher.get<ClientProxy>('PLUMTREE_CLIENT');
    expect(client).toBeInstanceOf(PlumtreeClient);
    client.setOnDispatchHook((packet) => {
      packet.metadata = { 'trace-id': 't-42' };
    });
    const recv = receiver.get(PlumtreeService);
    const got = firstValueFrom(recv.topic$('audit.log'));
    const pub = publisher.get(PlumtreeService);
    await waitFor('audit subscriber', () => pub.node.subscribersOf('audit.log').includes('recv'));
    await lastValueFrom(client.emit('audit.log', { action: 'login' }), { defaultValue: undefined });
    const d = await got;
    expect(d.payload).toEqual({ action: 'login' });
    expect(d.headers).toEqual({ 'nest-meta:trace-id': 't-42' });
    // The client shares the server's node: it is not a member of its own.
    expect(
      pub.node
        .members()
        .map((m) => m.name)
        .sort(),
    ).toEqual(['pub', 'recv']);
  });

  it('fails startup listing every invalid option', async () => {
    @Module({
      imports: [
        PlumtreeModule.forRoot({
          name: '',
          bindPort: 70_000,
          requestTimeoutMs: -5,
          swim: { probeIntervalMs: -1 },
        } as never),
      ],
    })
    class BadModule {}
    const err = await NestFactory.create(BadModule, { logger: false, abortOnError: false }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PlumtreeOptionsError);
    // Exactly the four bad fields, each with what is wrong with it, and all of them in the message.
    const problems = (err as PlumtreeOptionsError).problems;
    expect([...problems].sort((x, y) => x.field.localeCompare(y.field))).toEqual([
      { field: 'bindPort', message: 'bindPort must not be greater than 65535' },
      { field: 'name', message: 'name must be longer than or equal to 1 characters' },
      { field: 'requestTimeoutMs', message: 'requestTimeoutMs must not be less than 1' },
      { field: 'swim.probeIntervalMs', message: 'probeIntervalMs must not be less than 0' },
    ]);
    expect((err as Error).message).toBe(
      `Invalid Plumtree options (4 problems): ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`,
    );

    // The same through a PlumtreeServer: listen() reports it through its callback.
    const server = new PlumtreeServer({ name: 'x', bindPort: -1, seeds: 'nope' } as never);
    const errors: unknown[] = [];
    await server.listen((e) => errors.push(e));
    expect(errors[0]).toBeInstanceOf(PlumtreeOptionsError);
    expect((errors[0] as PlumtreeOptionsError).problems.map((p) => p.field).sort()).toEqual(
      expect.arrayContaining(['bindPort', 'seeds']),
    );
  });

  it('fails startup with a clear message when the port is in use', async () => {
    const port = Number(publisherAddress.split(':').pop());
    @Module({
      imports: [
        PlumtreeModule.forRoot({
          name: 'clash',
          persistence: false,
          bindAddr: '127.0.0.1',
          bindPort: port,
        }),
      ],
    })
    class ClashModule {}
    const err = await NestFactory.create(ClashModule, { logger: false, abortOnError: false }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PlumtreeStartError);
    expect((err as Error).message).toContain(`port ${port} is already in use on 127.0.0.1`);
  });

  it('leaves gracefully on shutdown: the other app sees "left"', async () => {
    await receiver.close();
    await waitFor('recv seen as left', () => publisherLeftSeen.includes('recv'));
    const pub = publisher.get(PlumtreeService);
    await waitFor('recv gone from members', () => pub.node.members().length === 1);
  });
});
