/**
 * Issue 14, "Other defects", payloads and streams: each test failed on the code before the fix.
 * - `topic$('t')` then `topic$('t', { durable: true })` returned the cached non-durable stream.
 * - A `Map` payload was published as `{}`.
 * - Async class-validator rules were skipped (`validateSync`): an invalid payload reached the
 *   handler.
 */
import 'reflect-metadata';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Payload } from '@nestjs/microservices';
import {
  IsString,
  Validate,
  ValidatorConstraint,
  type ValidatorConstraintInterface,
} from 'class-validator';
import { lastValueFrom } from 'rxjs';
import { UnserializablePayloadError } from '@plumtree/cluster';
import {
  PlumtreeClient,
  PlumtreeModule,
  PlumtreeService,
  PlumtreeSubscribe,
  type InvalidPayload,
} from '@plumtree/nestjs';
import { memberOptions, startSeed, stopSeed } from './support/conformance-env.js';

import { waitFor } from '../../support/wait-for.js';

const T = 30_000;

/** An asynchronous rule: only known SKUs pass (as a lookup in a store would decide). */
@ValidatorConstraint({ name: 'knownSku', async: true })
class KnownSku implements ValidatorConstraintInterface {
  async validate(sku: unknown): Promise<boolean> {
    await new Promise((resolve) => setImmediate(resolve));
    return sku === 'sku-1';
  }
  defaultMessage(): string {
    return 'unknown sku';
  }
}

class StockChanged {
  @IsString() @Validate(KnownSku) sku!: string;
}

@Injectable()
class StockListener {
  readonly handled: string[] = [];
  @PlumtreeSubscribe('stock.changed', { dto: StockChanged })
  onStock(@Payload() change: StockChanged): void {
    this.handled.push(change.sku);
  }
}

describe('issue 14: payloads and streams', () => {
  const apps: INestApplicationContext[] = [];

  beforeAll(startSeed, T);
  afterAll(stopSeed);
  afterEach(async () => {
    for (const app of apps.splice(0).reverse()) await app.close();
  }, T);

  async function moduleApp(providers: (new () => object)[] = []): Promise<INestApplicationContext> {
    @Module({ imports: [PlumtreeModule.forRoot(memberOptions('app'))], providers })
    class AppModule {}
    const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
    await app.init();
    apps.push(app);
    return app;
  }

  it(
    'topic$ caches by every option: a durable stream of a topic is not the plain one',
    async () => {
      const service = (await moduleApp()).get(PlumtreeService);
      const node = await service.whenReady();
      const plain = service.topic$('t');
      const durable = service.topic$('t', { durable: true });
      expect(durable).not.toBe(plain);
      expect(service.topic$('t', { durable: true })).toBe(durable);
      expect(service.topic$('t')).toBe(plain);
      const s = durable.subscribe();
      try {
        await waitFor('the topic to become durable', () => node.isDurable('t'));
      } finally {
        s.unsubscribe();
      }
    },
    T,
  );

  it(
    'a Map, a Set or a class instance is refused where it is published, not sent as {}',
    async () => {
      const service = (await moduleApp()).get(PlumtreeService);
      const node = await service.whenReady();
      const seen: unknown[] = [];
      const s = node.subscribe('maps').subscribe((d) => seen.push(d.payload));
      try {
        await expect(service.publish('maps', new Map([['a', 1]]))).rejects.toBeInstanceOf(
          UnserializablePayloadError,
        );
        await expect(service.publish('maps', { tags: new Set(['x']) })).rejects.toThrow(
          /payload\.tags is a Set/,
        );
        const client = new PlumtreeClient({ node });
        await expect(lastValueFrom(client.emit('maps', new StockChanged()))).rejects.toThrow(
          /class StockChanged without toJSON/,
        );
        // What JSON carries still goes.
        await service.publish('maps', Object.fromEntries(new Map([['a', 1]])));
        await waitFor('the plain object', () => seen.length === 1);
        expect(seen).toEqual([{ a: 1 }]);
      } finally {
        s.unsubscribe();
      }
    },
    T,
  );

  it(
    'a DTO with an asynchronous rule keeps an invalid payload from the handler',
    async () => {
      const receiver = await moduleApp([StockListener]);
      const service = receiver.get(PlumtreeService);
      const invalid: InvalidPayload[] = [];
      const s = service.invalid$.subscribe((i) => invalid.push(i));
      const listener = receiver.get(StockListener);
      const node = await service.whenReady();
      await waitFor('the handler to subscribe', () => node.topics().includes('stock.changed'));
      try {
        await service.publish('stock.changed', { sku: 'sku-9' });
        await service.publish('stock.changed', { sku: 'sku-1' });
        await waitFor(
          'the valid payload handled and the invalid one reported',
          () => listener.handled.length === 1 && invalid.length === 1,
        );
        expect(listener.handled).toEqual(['sku-1']);
        expect(invalid.map((i) => [i.payload, i.errors])).toEqual([
          [{ sku: 'sku-9' }, ['sku: unknown sku']],
        ]);
      } finally {
        s.unsubscribe();
      }
    },
    T,
  );
});
