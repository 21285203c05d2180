/**
 * Nest's disconnected-client spec (nestjs/nest
 * `integration/microservices/e2e/disconnected-client.spec.ts`), written for this transport from
 * reading it: an HTTP app builds a client from the request body whose seed does not answer (a
 * port nothing listens on); the client's `send` fails with `code: 'ECONNREFUSED'`, which the
 * controller turns into 408, as for Nest's transports with their broker down.
 */
import 'reflect-metadata';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createServer } from 'node:net';
import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { PlumtreeStartError } from '@plumtree/nestjs';
import { ErrorCollectingLogger } from './support/error-log.js';
import { call } from './support/http.js';
import { DisconnectedController } from './src/disconnected.controller.js';

import { FAST_SWIM } from '../../support/fast-swim.js';

@Module({ controllers: [DisconnectedController] })
class DisconnectedModule {}

const T = 30_000;

/** A TCP port on 127.0.0.1 that nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('Nest disconnected-client spec with PlumtreeClient', () => {
  let app: INestApplication;

  beforeEach(async () => {
    DisconnectedController.errors = [];
    app = await NestFactory.create(DisconnectedModule, { logger: new ErrorCollectingLogger() });
    await app.listen(0, '127.0.0.1');
  }, T);
  afterEach(() => app.close(), T);

  it(
    'a client whose seed is down: ECONNREFUSED, answered 408',
    async () => {
      const r = await call(app, 'POST', '/', {
        name: `disconnected-${process.pid}`,
        persistence: false,
        bindAddr: '127.0.0.1',
        bindPort: 0,
        seeds: [`127.0.0.1:${await closedPort()}`],
        swim: FAST_SWIM,
      });
      expect(r.status).toBe(408);
      const [err] = DisconnectedController.errors;
      expect(err).toBeInstanceOf(PlumtreeStartError);
      expect(err).toMatchObject({ code: 'ECONNREFUSED' });
      expect((err as Error).message).toMatch(/failed to join any seed/);
    },
    T,
  );
});
