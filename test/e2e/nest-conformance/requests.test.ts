/**
 * Issue 14, "Other defects", request/reply: each test failed on the code before the fix.
 * - Requests went to nodes that cannot answer: three event-only subscribers and one responder on
 *   `q`, and `request('q')` picked subscribers that answered "no handler".
 * - `PlumtreeService.request` ignored the module's `requestTimeoutMs` / `requestMaxAttempts`.
 * - An oversized request failed as `RequestTimeoutError` ("send overflow"); an oversized reply
 *   was dropped and the requester waited out its timeout.
 */
import 'reflect-metadata';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { PayloadTooLargeError, RequestTimeoutError, type PlumtreeNode } from '@plumtree/cluster';
import {
  PlumtreeClient,
  PlumtreeModule,
  PlumtreeServer,
  PlumtreeService,
  PlumtreeSubscribe,
} from '@plumtree/nestjs';
import { memberOptions, startSeed, stopSeed } from './support/conformance-env.js';

import { waitFor } from '../../support/wait-for.js';

const T = 30_000;

/** An event-only subscriber of `q`. */
@Injectable()
class QListener {
  @PlumtreeSubscribe('q')
  onQ(): void {}
}

@Controller()
class QResponder {
  @MessagePattern('q')
  answer(): string {
    return 'answered by the responder';
  }

  @MessagePattern('hang')
  hang(): Promise<never> {
    return new Promise<never>(() => undefined);
  }

  @MessagePattern('big.reply')
  big(): string {
    return 'x'.repeat(8_192);
  }

  @MessagePattern('echo')
  echo(data: unknown): unknown {
    return data;
  }
}

@Module({ controllers: [QResponder] })
class ResponderModule {}

describe('issue 14: requests', () => {
  const apps: INestApplicationContext[] = [];

  beforeAll(startSeed, T);
  afterAll(stopSeed);
  afterEach(async () => {
    for (const app of apps.splice(0).reverse()) await app.close();
  }, T);

  /** A microservice answering on the responder's patterns. */
  async function responder(extra = {}): Promise<PlumtreeNode> {
    const server = new PlumtreeServer(memberOptions('responder', extra));
    const app = await NestFactory.createMicroservice(ResponderModule, {
      strategy: server,
      logger: false,
    });
    await app.listen();
    apps.push(app);
    return server.unwrap<PlumtreeNode>();
  }

  /** An app with PlumtreeModule (its own node) and the given providers. */
  async function moduleApp(
    options: Parameters<typeof memberOptions>[1],
    providers: (new () => object)[] = [],
  ): Promise<INestApplicationContext> {
    @Module({
      imports: [PlumtreeModule.forRoot(memberOptions('app', options))],
      providers,
    })
    class AppModule {}
    const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
    await app.init();
    apps.push(app);
    return app;
  }

  it(
    'three event-only subscribers and one responder on q: 20 of 20 requests answered by the responder',
    async () => {
      const responderNode = await responder();
      const subscribers: PlumtreeNode[] = [];
      for (let i = 0; i < 3; i++) {
        const app = await moduleApp({}, [QListener]);
        subscribers.push(await app.get(PlumtreeService).whenReady());
      }
      const requester = await moduleApp({});
      const service = requester.get(PlumtreeService);
      const node = await service.whenReady();
      await waitFor(
        'the requester to know the subscribers and the responder',
        () =>
          subscribers.every((s) => node.subscribersOf('q').includes(s.name)) &&
          node.members().some((m) => m.name === responderNode.name),
      );
      const replies = await Promise.all(
        Array.from({ length: 20 }, () => service.request<string>('q', {})),
      );
      expect(replies).toEqual(Array.from({ length: 20 }, () => 'answered by the responder'));
      for (const s of subscribers) expect(s.stats().node.rpc.received).toBe(0);
      expect(responderNode.stats().node.rpc.answered).toBe(20);
    },
    T,
  );

  it(
    "PlumtreeService.request honours the module's requestTimeoutMs and requestMaxAttempts",
    async () => {
      await responder();
      await responder();
      const requester = await moduleApp({ requestTimeoutMs: 300, requestMaxAttempts: 1 });
      const err = await requester
        .get(PlumtreeService)
        .request('hang', {})
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RequestTimeoutError);
      expect((err as RequestTimeoutError).timeoutMs).toBe(300);
      expect((err as RequestTimeoutError).attempts).toHaveLength(1);
    },
    T,
  );

  it(
    'an oversized request fails with PayloadTooLargeError where it is sent; an oversized reply fails fast at the requester',
    async () => {
      const limits = { plumtree: { maxMessageSize: 4_096 }, requestTimeoutMs: 60_000 };
      await responder(limits);
      const client = new PlumtreeClient(memberOptions('client', limits));
      await client.connect();
      try {
        const sent = await lastValueFrom(client.send('echo', 'y'.repeat(8_192))).catch(
          (e: unknown) => e,
        );
        expect(sent).toBeInstanceOf(PayloadTooLargeError);
        const reply = await lastValueFrom(client.send('big.reply', {})).catch((e: unknown) => e);
        expect(reply).toMatchObject({ name: 'PayloadTooLargeError' });
        expect((reply as { message: string }).message).toMatch(/exceeds maxMessageSize \(4096/);
      } finally {
        await client.close();
      }
    },
    T,
  );
});
