/**
 * Issue 14, "Other defects", startup: each test failed on the code before the fix.
 * - `@PlumtreeSubscribe('a.#.b')` (invalid): Nest logged "successfully started", then the process
 *   died on an unhandled rejection. Now `app.init()` rejects naming the class, method and
 *   pattern, and the node the module started is gone (its port free, no member left behind).
 * - `shareServer: true` with no `PlumtreeServer`: `PlumtreeService.publish` never settled. Now
 *   `app.init()` rejects.
 * - A failed `PlumtreeServer.listen` left the node running: a member, listed as a subscriber,
 *   answering requests. Now nothing it started is left.
 * - A `@PlumtreeSubscribe` method on a request-scoped provider was silently never subscribed. Now
 *   startup rejects naming it.
 */
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer } from 'node:net';
import { Controller, Injectable, Module, Scope } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern, MessagePattern } from '@nestjs/microservices';
import {
  DirectoryLimitError,
  NoRespondersError,
  NoSubscribersError,
  PlumtreeNode,
} from '@plumtree/cluster';
import {
  PlumtreeHandlerError,
  PlumtreeModule,
  PlumtreeOptionsError,
  PlumtreeServer,
  PlumtreeSubscribe,
} from '@plumtree/nestjs';
import { memberOptions, seedNode, startSeed, stopSeed } from './support/conformance-env.js';

import { waitFor } from '../../support/wait-for.js';

const T = 30_000;

/** A port on 127.0.0.1 free right now (bound, then released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Whether a node can start on `port` (nothing else holds it), closing it again. */
async function portIsFree(port: number): Promise<boolean> {
  try {
    const n = await PlumtreeNode.start({ ...memberOptions('probe'), seeds: [], bindPort: port });
    await n.close();
    return true;
  } catch {
    return false;
  }
}

@Injectable()
class BadListener {
  @PlumtreeSubscribe('orders.created')
  good(): void {}

  @PlumtreeSubscribe('a.#.b')
  bad(): void {}
}

@Injectable({ scope: Scope.REQUEST })
class ScopedListener {
  @PlumtreeSubscribe('orders.created')
  onOrder(): void {}
}

@Controller()
class TwoEventsAndARequest {
  @MessagePattern('m1')
  m1(): string {
    return 'answered';
  }

  @EventPattern<string>('e1')
  e1(): void {}

  @EventPattern<string>('e2')
  e2(): void {}
}

@Module({ controllers: [TwoEventsAndARequest] })
class TwoEventsModule {}

describe('issue 14: startup errors fail startup', () => {
  beforeAll(startSeed, T);
  afterAll(stopSeed);

  it(
    'an invalid @PlumtreeSubscribe pattern rejects app.init(), naming class, method and pattern; nothing is left bound',
    async () => {
      const port = await freePort();
      const options = memberOptions('bad-pattern', { bindPort: port });
      @Module({ imports: [PlumtreeModule.forRoot(options)], providers: [BadListener] })
      class AppModule {}
      const app = await NestFactory.create(AppModule, { logger: false, abortOnError: false });
      const err = await app.init().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PlumtreeHandlerError);
      expect((err as Error).message).toMatch(/BadListener\.bad: @PlumtreeSubscribe\("a\.#\.b"\)/);
      expect((err as PlumtreeHandlerError).problems).toHaveLength(1);
      expect(await portIsFree(port)).toBe(true);
      // The module's node joined the cluster, then left it when startup failed.
      await waitFor(
        'the seed to see the node leave',
        () =>
          !seedNode()
            .members()
            .some((m) => m.name === options.name),
      );
      await app.close();
    },
    T,
  );

  it(
    'a @PlumtreeSubscribe method on a request-scoped provider rejects app.init()',
    async () => {
      @Module({
        imports: [PlumtreeModule.forRoot(memberOptions('scoped'))],
        providers: [ScopedListener],
      })
      class AppModule {}
      const app = await NestFactory.create(AppModule, { logger: false, abortOnError: false });
      const err = await app.init().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PlumtreeHandlerError);
      expect((err as Error).message).toMatch(/ScopedListener\.onOrder: .*request-scoped/);
      await app.close();
    },
    T,
  );

  it(
    'shareServer with no PlumtreeServer of that name rejects app.init()',
    async () => {
      @Module({ imports: [PlumtreeModule.forRoot({ shareServer: true, name: 'nobody-listens' })] })
      class AppModule {}
      const app = await NestFactory.create(AppModule, { logger: false, abortOnError: false });
      const err = await app.init().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PlumtreeOptionsError);
      expect((err as PlumtreeOptionsError).problems.map((p) => p.field)).toEqual(['shareServer']);
      expect((err as Error).message).toMatch(/no PlumtreeServer named "nobody-listens"/);
      await app.close();
    },
    T,
  );

  it(
    'a failed PlumtreeServer.listen leaves no member, subscriber or responder behind',
    async () => {
      const port = await freePort();
      // One subscription allowed: the second @EventPattern cannot be subscribed.
      const options = memberOptions('failing-server', {
        bindPort: port,
        directory: { maxSubscriptions: 1 },
      });
      const app = await NestFactory.createMicroservice(TwoEventsModule, {
        strategy: new PlumtreeServer(options),
        logger: false,
      });
      const err = await app.listen().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DirectoryLimitError);
      const seed = seedNode();
      expect(seed.members().some((m) => m.name === options.name)).toBe(false);
      await expect(seed.publish('e1', 1)).rejects.toBeInstanceOf(NoSubscribersError);
      await expect(seed.request('m1', 1)).rejects.toBeInstanceOf(NoRespondersError);
      expect(await portIsFree(port)).toBe(true);
      await app.close();
    },
    T,
  );
});
