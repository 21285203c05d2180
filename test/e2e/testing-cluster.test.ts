/**
 * `createTestCluster` from @plumtree/testing, used the way an application's own e2e tests use it:
 * five Nest applications that share a small orders module, one cluster in the jest process.
 * Read it as documentation: start, publish, wait, crash a node, cut the network, heal it.
 *
 * Nothing sleeps: `waitForMembers()` waits until the cluster has converged (members, topic
 * directory and trees) and `nextMessage()` until a message arrives, both with a bound.
 */
import 'reflect-metadata';
import { afterEach, describe, expect, it } from '@jest/globals';
import { Injectable, Module } from '@nestjs/common';
import { IsInt, IsPositive, IsString } from 'class-validator';
import { Payload, Ctx } from '@nestjs/microservices';
import { PlumtreeContext, PlumtreeService, PlumtreeSubscribe } from '@plumtree/nestjs';
import { createTestCluster, type TestCluster } from '@plumtree/testing';
import { AppModule } from '../../apps/pubsub/src/app.module.js';
import { InventoryListener } from '../../apps/pubsub/src/inventory/inventory.listener.js';
import { OrderPublisher } from '../../apps/pubsub/src/order-publisher.js';
import { OrdersListener as PubsubOrdersListener } from '../../apps/pubsub/src/orders/orders.listener.js';
import { PubsubController } from '../../apps/pubsub/src/pubsub.controller.js';

// ---------------------------------------------------------------- the application under test

/** The payload of `orders.created`, validated before the handler runs. */
class OrderCreated {
  @IsInt() @IsPositive() id!: number;
  @IsString() item!: string;
}

/** A provider that reacts to new orders: any provider can subscribe, no controller needed. */
@Injectable()
class OrdersListener {
  /** What this application received, in order: `origin:id`. */
  readonly received: string[] = [];

  @PlumtreeSubscribe('orders.created', { dto: OrderCreated })
  onOrderCreated(@Payload() order: OrderCreated, @Ctx() ctx: PlumtreeContext): void {
    this.received.push(`${ctx.getOrigin()}:${order.id}`);
  }
}

@Module({ providers: [OrdersListener] })
class OrdersModule {}

/** The same handler on a durable topic: what a node missed while cut off is caught up. */
@Injectable()
class LedgerListener {
  readonly received: string[] = [];

  @PlumtreeSubscribe('ledger.entries', { durable: true })
  onEntry(@Payload() entry: { id: number }, @Ctx() ctx: PlumtreeContext): void {
    this.received.push(`${ctx.getOrigin()}:${entry.id}`);
  }
}

@Module({ providers: [LedgerListener] })
class LedgerModule {}

// ---------------------------------------------------------------- helpers of this test

/** What every application received, by index. */
function received(cluster: TestCluster): string[][] {
  return cluster.apps.map((app, i) =>
    cluster.isAlive(i) ? app.get(OrdersListener).received.slice() : [],
  );
}

/**
 * Publish an order from application `from`, and wait until the handler of each app in `to` has
 * run for it (handlers run asynchronously, after pipes, guards and interceptors).
 */
async function publishAndAwait(
  cluster: TestCluster,
  from: number,
  id: number,
  to: readonly number[],
): Promise<void> {
  await cluster.app(from).get(PlumtreeService).publish('orders.created', { id, item: 'tea' });
  const key = `${cluster.names[from]}:${id}`;
  await cluster.waitFor(`order ${key} handled by apps ${to.join(', ')}`, () =>
    to.every((i) => cluster.app(i).get(OrdersListener).received.includes(key)),
  );
}

// ---------------------------------------------------------------- the tests

describe('createTestCluster (five Nest apps, one cluster)', () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  it('starts five apps that see each other, and delivers each message once to every handler', async () => {
    cluster = await createTestCluster({ size: 5, imports: [OrdersModule] });
    // createTestCluster resolves once the cluster has converged: every node sees five members.
    for (const node of cluster.nodes) expect(node.members()).toHaveLength(5);

    const next = cluster.nextMessage<OrderCreated>(4, 'orders.created');
    await cluster.app(0).get(PlumtreeService).publish('orders.created', { id: 1, item: 'tea' });
    const delivery = await next;
    expect(delivery.payload).toEqual({ id: 1, item: 'tea' });
    expect(delivery.origin).toBe('node-0');

    await publishAndAwait(cluster, 2, 2, [0, 1, 2, 3, 4]);
    // Every app handled each order exactly once (the publisher's own handler too).
    for (const r of received(cluster)) expect(r).toEqual(['node-0:1', 'node-2:2']);
  });

  it('kill(i) crashes an app: the others declare it failed (not left) and keep delivering', async () => {
    cluster = await createTestCluster({ size: 5, imports: [OrdersModule] });
    await cluster.kill(4);
    await cluster.waitForMembers(); // the four survivors agree that node-4 is gone

    const seenBy1 = cluster
      .node(1)
      .swimNode.allMembers()
      .find((m) => m.name === 'node-4');
    expect(seenBy1?.state).toBe('dead'); // a crash is "dead"; a graceful close would be "left"

    await publishAndAwait(cluster, 3, 7, [0, 1, 2, 3]);
    const r = received(cluster);
    for (const i of [0, 1, 2, 3]) expect(r[i]).toEqual(['node-3:7']);
    expect(cluster.isAlive(4)).toBe(false);
  });

  it('partition(groups) cuts the cluster in two; heal() joins it again', async () => {
    cluster = await createTestCluster({ size: 5, imports: [OrdersModule] });
    cluster.partition([
      [0, 1, 2],
      [3, 4],
    ]);
    await cluster.waitForMembers(); // each side now sees only its own group
    expect(
      cluster
        .node(0)
        .members()
        .map((m) => m.name)
        .sort(),
    ).toEqual(['node-0', 'node-1', 'node-2']);
    expect(
      cluster
        .node(4)
        .members()
        .map((m) => m.name)
        .sort(),
    ).toEqual(['node-3', 'node-4']);

    // Messages stay on the side they were published on.
    await publishAndAwait(cluster, 0, 10, [0, 1, 2]);
    await publishAndAwait(cluster, 4, 20, [3, 4]);
    let r = received(cluster);
    for (const i of [0, 1, 2]) expect(r[i]).toEqual(['node-0:10']);
    for (const i of [3, 4]) expect(r[i]).toEqual(['node-4:20']);

    await cluster.heal();
    await cluster.waitForMembers(); // one cluster of five again, trees included
    for (const node of cluster.nodes) expect(node.members()).toHaveLength(5);
    await publishAndAwait(cluster, 3, 30, [0, 1, 2, 3, 4]);
    r = received(cluster);
    // The other side's message from the partition is not replayed; but its side still announces
    // it for a few IHAVE flushes after delivering it (the node's ihaveRepeats), and on the
    // in-memory network the sides re-join faster than that: it may arrive too, once (as a
    // message still in repair may reach a late joiner, cluster-node.test.ts).
    const sides: Array<[number[], string, string]> = [
      [[0, 1, 2], 'node-0:10', 'node-4:20'],
      [[3, 4], 'node-4:20', 'node-0:10'],
    ];
    for (const [apps, own, other] of sides) {
      for (const i of apps) {
        expect(r[i]!.filter((k) => k !== other)).toEqual([own, 'node-3:30']);
        expect(r[i]!.filter((k) => k === other).length).toBeLessThanOrEqual(1);
      }
    }
  });

  it('a durable @PlumtreeSubscribe catches up after heal() what the other side published', async () => {
    cluster = await createTestCluster({ size: 4, imports: [LedgerModule] });
    const c = cluster;
    const ledger = (i: number): string[] => c.app(i).get(LedgerListener).received;
    expect(c.nodes.every((n) => n.isDurable('ledger.entries'))).toBe(true);
    c.partition([
      [0, 1],
      [2, 3],
    ]);
    await c.waitForMembers();
    const publish = (from: number, id: number) =>
      c.app(from).get(PlumtreeService).publish('ledger.entries', { id });
    for (let id = 1; id <= 5; id++) {
      await publish(0, id);
      await publish(3, 100 + id);
    }
    await c.waitFor('each side to have its own five', () =>
      [0, 1, 2, 3].every((i) => ledger(i).length === 5),
    );
    await c.heal();
    await c.waitForMembers();
    // Without a new message: the other side's five arrive through catch-up alone.
    await c.waitFor('every app to have all ten', () =>
      [0, 1, 2, 3].every((i) => ledger(i).length === 10),
    );
    const all = [1, 2, 3, 4, 5].flatMap((k) => [`node-0:${k}`, `node-3:${100 + k}`]).sort();
    for (const i of [0, 1, 2, 3]) expect([...ledger(i)].sort()).toEqual(all);
    // Per origin, in publish order.
    for (const i of [0, 1, 2, 3]) {
      const fromNode0 = ledger(i).filter((e) => e.startsWith('node-0:'));
      expect(fromNode0).toEqual([1, 2, 3, 4, 5].map((k) => `node-0:${k}`));
    }
  }, 30_000);

  it('setLoss(rate) drops SWIM packets; membership and delivery hold at 10% loss', async () => {
    cluster = await createTestCluster({ size: 5, imports: [OrdersModule] });
    cluster.setLoss(0.1);
    for (let id = 1; id <= 20; id++) await publishAndAwait(cluster, id % 5, id, [0, 1, 2, 3, 4]);
    await cluster.waitForMembers();
    cluster.setLoss(0);
    for (const r of received(cluster)) expect(r).toHaveLength(20);
    expect(cluster.network.drops.loss).toBeGreaterThan(0);
  });

  it('an invalid payload never reaches the handler (the dto rejects it)', async () => {
    // `logger` quiets the warning the rejected payload logs.
    cluster = await createTestCluster({ size: 2, imports: [OrdersModule], logger: ['error'] });
    const invalid = new Promise((resolve) =>
      cluster!.app(1).get(PlumtreeService).invalid$.subscribe(resolve),
    );
    await cluster.app(0).get(PlumtreeService).publish('orders.created', { id: -1, item: 'tea' });
    await expect(invalid).resolves.toMatchObject({ topic: 'orders.created', dto: 'OrderCreated' });
    expect(received(cluster)[1]).toEqual([]);
  });
});

describe('createTestCluster with an app module and controllers (the pubsub example)', () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  it('runs each app as a hybrid microservice: @EventPattern, @MessagePattern and providers all work', async () => {
    cluster = await createTestCluster({
      size: 3,
      // Each app also gets a PlumtreeServer (connectMicroservice) for its controllers; the
      // module shares the server's node.
      microservice: true,
      // A module that configures PlumtreeModule itself receives the node's options.
      module: (_plumtree, node) =>
        AppModule.forRoot({
          name: node.name,
          bindAddr: '127.0.0.1',
          bindPort: 7001 + node.index,
          seeds: [],
          publishEveryMs: 0,
          httpPort: 0,
        }),
    });
    // One round of the example's traffic from app 0: three events and one request.
    const quote = await cluster.app(0).get(OrderPublisher).tick();
    expect(quote).toMatchObject({ item: 'coffee', totalCents: 500 });
    // The app answers prices.quote itself: a node's own handler answers its requests first.
    expect(quote?.quotedBy).toBe('node-0');

    const c = cluster;
    await c.waitFor('every app handled the three events', () =>
      [0, 1, 2].every(
        (i) =>
          c.app(i).get(PubsubOrdersListener).handled.length === 1 &&
          c.app(i).get(InventoryListener).handled.length === 1 &&
          c.app(i).get(PubsubController).shipped.length === 1,
      ),
    );
    expect(c.app(2).get(InventoryListener).handled).toEqual(['inventory.reserved:coffee']);
  });
});
