/**
 * Nest's TCP transport spec (nestjs/nest `integration/microservices/e2e/sum-rpc.spec.ts`), written
 * for this transport from reading it: a hybrid app whose module registers its clients with
 * `ClientsModule.registerAsync` (`useFactory`, `useClass`, a custom class), a seed member where
 * the spec has the TCP server's port, object patterns, and client calls right after
 * `startAllMicroservices()` and `app.listen()`. Each client is a `PlumtreeClient` with its own
 * node.
 */
import 'reflect-metadata';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { PlumtreeServer } from '@plumtree/nestjs';
import { ErrorCollectingLogger } from './support/error-log.js';
import { memberOptions, startSeed, stopSeed } from './support/conformance-env.js';
import { call, tenTens } from './support/http.js';
import { RpcAppController } from './src/rpc-app.controller.js';
import { RpcAppModule } from './src/rpc-app.module.js';

import { waitFor } from '../../support/wait-for.js';

const T = 30_000;
const sum15 = { status: 200, text: '15' };

describe('Nest sum-rpc spec on PlumtreeServer', () => {
  let app: INestApplication;

  beforeAll(startSeed, T);
  afterAll(stopSeed);

  beforeEach(async () => {
    RpcAppController.notified = false;
    app = await NestFactory.create(RpcAppModule, { logger: new ErrorCollectingLogger() });
    app.connectMicroservice({ strategy: new PlumtreeServer(memberOptions('rpc-server')) });
    await app.startAllMicroservices();
    await app.listen(0, '127.0.0.1');
  }, T);

  afterEach(() => app.close(), T);

  it(
    '/POST',
    async () => {
      expect(await call(app, 'POST', '/?command=sum', [1, 2, 3, 4, 5])).toEqual(sum15);
    },
    T,
  );

  it(
    '/POST (Promise/async)',
    async () => {
      expect(await call(app, 'POST', '/?command=asyncSum', [1, 2, 3, 4, 5])).toEqual(sum15);
    },
    T,
  );

  it(
    '/POST (Observable stream)',
    async () => {
      expect(await call(app, 'POST', '/?command=streamSum', [1, 2, 3, 4, 5])).toEqual(sum15);
    },
    T,
  );

  it(
    '/POST (useFactory client)',
    async () => {
      expect(await call(app, 'POST', '/useFactory?command=sum', [1, 2, 3, 4, 5])).toEqual(sum15);
    },
    T,
  );

  it(
    '/POST (useClass client)',
    async () => {
      expect(await call(app, 'POST', '/useClass?command=sum', [1, 2, 3, 4, 5])).toEqual(sum15);
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
      expect(await call(app, 'POST', '/stream', [1, 2, 3, 4, 5])).toEqual(sum15);
    },
    T,
  );

  it(
    '/POST (pattern not found): the send fails, Nest answers 500',
    async () => {
      expect((await call(app, 'POST', '/?command=test')).status).toBe(500);
    },
    T,
  );

  it(
    '/POST (event notification)',
    async () => {
      await call(app, 'POST', '/notify', [1, 2, 3, 4, 5]);
      await waitFor('the notification handler', () => RpcAppController.notified);
    },
    T,
  );

  it(
    '/POST (custom client): its serializeError makes the error an RpcException',
    async () => {
      expect(await call(app, 'POST', '/error?client=custom', {})).toEqual({
        status: 200,
        text: 'true',
      });
    },
    T,
  );

  it(
    '/POST (standard client): the error is the plain value Nest carries',
    async () => {
      expect(await call(app, 'POST', '/error?client=standard', {})).toEqual({
        status: 200,
        text: 'false',
      });
    },
    T,
  );

  it(
    '/POST (exception): the object given to RpcException reaches the client',
    async () => {
      const r = await call(app, 'POST', '/exception', { order: 7 });
      expect(r.status).toBe(200);
      expect(JSON.parse(r.text)).toEqual({ data: { order: 7 } });
    },
    T,
  );
});
