/**
 * Nest's NATS transport spec (nestjs/nest `integration/microservices/e2e/sum-nats.spec.ts`),
 * written for this transport from reading it: a hybrid app (HTTP + `PlumtreeServer`), a seed
 * member where the spec has nats-server, string patterns with wildcards, and the client calls made
 * by HTTP requests right after `startAllMicroservices()` and `app.listen()`, with no settle wait.
 * The client is a `PlumtreeClient` with a node of its own, made when the controller is (Nest's
 * spec makes its NATS client the same way).
 */
import 'reflect-metadata';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { PlumtreeServer } from '@plumtree/nestjs';
import { ErrorCollectingLogger } from './support/error-log.js';
import { memberOptions, startSeed, stopSeed } from './support/conformance-env.js';
import { call, tenTens } from './support/http.js';
import { StringPatternsController } from './src/string-patterns.controller.js';

import { waitFor } from '../../support/wait-for.js';

@Module({ controllers: [StringPatternsController] })
class NatsLikeModule {}

const T = 30_000;

describe('Nest sum-nats spec on PlumtreeServer', () => {
  let app: INestApplication;

  beforeAll(startSeed, T);
  afterAll(stopSeed);

  beforeEach(async () => {
    StringPatternsController.notified = { first: false, second: false };
    app = await NestFactory.create(NatsLikeModule, { logger: new ErrorCollectingLogger() });
    app.connectMicroservice({ strategy: new PlumtreeServer(memberOptions('nats-server')) });
    await app.startAllMicroservices();
    await app.listen(0, '127.0.0.1');
  }, T);

  afterEach(() => app.close(), T);

  it(
    '/POST: a @MessagePattern("math.*") handler answers math.sum',
    async () => {
      expect(await call(app, 'POST', '/?command=math.sum', [1, 2, 3, 4, 5])).toEqual({
        status: 200,
        text: '15',
      });
    },
    T,
  );

  it(
    '/POST (Promise/async)',
    async () => {
      expect(await call(app, 'POST', '/?command=async.sum', [1, 2, 3, 4, 5])).toEqual({
        status: 200,
        text: '15',
      });
    },
    T,
  );

  it(
    '/POST (Observable stream): an Observable of one value',
    async () => {
      expect(await call(app, 'POST', '/?command=stream.sum', [1, 2, 3, 4, 5])).toEqual({
        status: 200,
        text: '15',
      });
    },
    T,
  );

  it(
    '/POST (streaming): every value of the handler Observable reaches send()',
    async () => {
      expect(await call(app, 'POST', '/stream', [1, 2, 3, 4, 5])).toEqual({
        status: 200,
        text: '15',
      });
    },
    T,
  );

  it(
    '/POST (concurrent): ten sends at once each get their own sum',
    async () => {
      expect(await call(app, 'POST', '/concurrent', tenTens())).toEqual({
        status: 200,
        text: 'true',
      });
    },
    T,
  );

  it(
    '/GET (exception): the RpcException reaches the client as Nest delivers it',
    async () => {
      const r = await call(app, 'GET', '/exception');
      expect(r.status).toBe(200);
      expect(JSON.parse(r.text)).toEqual({ message: 'test', status: 'error' });
    },
    T,
  );

  it(
    '/POST (event notification): both handlers of the event run',
    async () => {
      await call(app, 'POST', '/notify', [1, 2, 3, 4, 5]);
      await waitFor(
        'both notification handlers',
        () => StringPatternsController.notified.first && StringPatternsController.notified.second,
      );
    },
    T,
  );

  it(
    '/POST (sending headers with a record builder)',
    async () => {
      const payload = { items: [1, 2, 3] };
      const r = await call(app, 'POST', '/record-builder-duplex', payload);
      expect(r.status).toBe(200);
      expect(JSON.parse(r.text)).toEqual({ data: payload, headers: { 'x-version': '1.0.0' } });
    },
    T,
  );
});
