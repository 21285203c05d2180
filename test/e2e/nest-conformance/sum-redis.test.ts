/**
 * Nest's Redis transport spec (nestjs/nest `integration/microservices/e2e/sum-redis.spec.ts`),
 * written for this transport from reading it: a hybrid app, a seed member where the spec has
 * redis-server, object patterns (`{ cmd: 'sum' }`), and client calls right after
 * `startAllMicroservices()` and `app.listen()`. The client is registered with `ClientsModule` and
 * shares the app's server node (`shareServer`), so the app's own handlers answer it in-process.
 */
import 'reflect-metadata';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientsModule, type ClientOptions } from '@nestjs/microservices';
import { PlumtreeClient, PlumtreeServer } from '@plumtree/nestjs';
import { ErrorCollectingLogger } from './support/error-log.js';
import { memberOptions, startSeed, stopSeed } from './support/conformance-env.js';
import { call, tenTens } from './support/http.js';
import {
  OBJECT_PATTERNS_CLIENT,
  ObjectPatternsController,
} from './src/object-patterns.controller.js';

import { waitFor } from '../../support/wait-for.js';

const T = 30_000;

/** The app's module: the client shares the node of the server named `serverName`. */
function redisLikeModule(serverName: string): new () => object {
  @Module({
    imports: [
      ClientsModule.register([
        {
          name: OBJECT_PATTERNS_CLIENT,
          customClass: PlumtreeClient,
          options: { shareServer: true, name: serverName },
        } as ClientOptions & { name: symbol },
      ]),
    ],
    controllers: [ObjectPatternsController],
  })
  class RedisLikeModule {}
  return RedisLikeModule;
}

describe('Nest sum-redis spec on PlumtreeServer', () => {
  let app: INestApplication;

  beforeAll(startSeed, T);
  afterAll(stopSeed);

  beforeEach(async () => {
    ObjectPatternsController.notified = false;
    const serverOptions = memberOptions('redis-server');
    app = await NestFactory.create(redisLikeModule(serverOptions.name), {
      logger: new ErrorCollectingLogger(),
    });
    app.connectMicroservice({ strategy: new PlumtreeServer(serverOptions) });
    await app.startAllMicroservices();
    await app.listen(0, '127.0.0.1');
  }, T);

  afterEach(() => app.close(), T);

  it.each([
    ['/POST', 'sum'],
    ['/POST (Promise/async)', 'asyncSum'],
    ['/POST (Observable stream)', 'streamSum'],
  ])(
    '%s: { cmd: %j }',
    async (_name, cmd) => {
      expect(await call(app, 'POST', `/?command=${cmd}`, [1, 2, 3, 4, 5])).toEqual({
        status: 200,
        text: '15',
      });
    },
    T,
  );

  it(
    '/POST (concurrent)',
    async () => {
      expect(await call(app, 'POST', '/concurrent', tenTens())).toEqual({
        status: 200,
        text: 'true',
      });
    },
    T,
  );

  it(
    '/POST (streaming)',
    async () => {
      expect(await call(app, 'POST', '/stream', [1, 2, 3, 4, 5])).toEqual({
        status: 200,
        text: '15',
      });
    },
    T,
  );

  it(
    '/POST (event notification)',
    async () => {
      await call(app, 'POST', '/notify', [1, 2, 3, 4, 5]);
      await waitFor('the notification handler', () => ObjectPatternsController.notified);
    },
    T,
  );
});
