/**
 * Handler concurrency (docs/nestjs.md, "Concurrency"): `concurrency: 2` on a `@PlumtreeSubscribe`
 * handler and on an `@EventPattern` handler: never a third run at once (a counter in the handler,
 * asserted), every message handled, and the runs waiting in the node's delivery queue (not in the
 * Nest layer): its high-water mark of waiting deliveries goes up.
 */
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Injectable, type INestApplication } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import type { PlumtreeNode } from '@plumtree/cluster';
import { PlumtreeClient, PlumtreeServer, PlumtreeSubscribe } from '@plumtree/nestjs';

import { startHybridApp } from './support/nest-hybrid-app.js';
import { waitFor } from '../support/wait-for.js';

const MESSAGES = 40;

/** Runs in progress and at most, and the messages handled, of one handler. */
class Gauge {
  running = 0;
  most = 0;
  readonly handled = new Set<number>();

  async run(n: number): Promise<void> {
    this.running++;
    this.most = Math.max(this.most, this.running);
    // Work that spans several turns of the event loop, so other deliveries could start meanwhile.
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    this.handled.add(n);
    this.running--;
  }
}
const subscribeGauge = new Gauge();
const eventGauge = new Gauge();

@Injectable()
class Work {
  @PlumtreeSubscribe('work.items', { concurrency: 2 })
  onItem(@Payload() n: number): Promise<void> {
    return subscribeGauge.run(n);
  }
}

@Controller()
class EventWork {
  @EventPattern<string>('work.items', { concurrency: 2 })
  onItem(@Payload() n: number): Promise<void> {
    return eventGauge.run(n);
  }
}

let app: INestApplication;
let server: PlumtreeServer;
let client: PlumtreeClient;

beforeAll(async () => {
  ({ app, server, client } = await startHybridApp({
    name: 'worker',
    clientName: 'producer',
    controllers: [EventWork],
    providers: [Work],
  }));
  await client.ready('work.items', { subscribers: 1 });
}, 30_000);

afterAll(async () => {
  await client?.close();
  await app?.close();
});

describe('concurrency: 2', () => {
  it('never runs a third handler at once, handles every message, queues in the node', async () => {
    await Promise.all(
      Array.from({ length: MESSAGES }, (_, n) => lastValueFrom(client.emit('work.items', n))),
    );
    await waitFor(
      'every message handled by both handlers',
      () => subscribeGauge.handled.size === MESSAGES && eventGauge.handled.size === MESSAGES,
      { lastSeen: () => `${subscribeGauge.handled.size} / ${eventGauge.handled.size}` },
    );
    expect(subscribeGauge.most).toBe(2);
    expect(eventGauge.most).toBe(2);
    const queue = server.unwrap<PlumtreeNode>().stats().node.deliveryQueue;
    expect(queue.maxPending).toBeGreaterThan(1);
    expect(queue.pending).toBe(0);
  });
});
