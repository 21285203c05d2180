/**
 * Issue 15, readiness in the Nest layer: `ready(topic, { subscribers })` of `createTestCluster`,
 * `PlumtreeService` and `PlumtreeClient`. A publish right after it resolves reaches every
 * subscribing application, with no warm-up publish anywhere.
 */
import 'reflect-metadata';
import { afterEach, describe, expect, it } from '@jest/globals';
import { Injectable, Module } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { ReadyTimeoutError } from '@plumtree/cluster';
import { PlumtreeClient, PlumtreeService, PlumtreeSubscribe } from '@plumtree/nestjs';
import { createTestCluster, type TestCluster } from '@plumtree/testing';

@Injectable()
class Receiver {
  readonly got: number[] = [];

  @PlumtreeSubscribe('ready.topic')
  on(@Payload() n: number): void {
    this.got.push(n);
  }
}

@Module({ providers: [Receiver] })
class ReceiverModule {}

const SIZE = 6;

describe('ready() in the Nest layer', () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  it('TestCluster.ready, PlumtreeService.ready and PlumtreeClient.ready, then publish: every app gets it', async () => {
    cluster = await createTestCluster({ size: SIZE, imports: [ReceiverModule] });
    const c = cluster;
    await c.ready('ready.topic', { subscribers: SIZE });
    const service = c.app(1).get(PlumtreeService);
    await service.ready('ready.topic', { subscribers: SIZE });
    await service.publish('ready.topic', 1);
    const client = new PlumtreeClient({ node: c.node(2) });
    await client.ready('ready.topic', { subscribers: SIZE });
    await lastValueFrom(client.emit('ready.topic', 2), { defaultValue: undefined });
    await c.waitFor('every app to get both', () =>
      c.apps.every((a) => a.get(Receiver).got.length === 2),
    );
    for (const a of c.apps) expect([...a.get(Receiver).got].sort()).toEqual([1, 2]);
    await client.close();
  });

  it('rejects with ReadyTimeoutError naming what is missing when fewer subscribe', async () => {
    cluster = await createTestCluster({ size: 2, imports: [ReceiverModule] });
    const service = cluster.app(0).get(PlumtreeService);
    const err = await service
      .ready('ready.topic', { subscribers: 3, timeoutMs: 300 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReadyTimeoutError);
    expect((err as Error).message).toMatch(/subscriber/);
  });
});
