/**
 * The app of Nest's broadcast specs, for this transport: HTTP plus two `PlumtreeServer`s that
 * both answer the broadcast patterns, and the assertion of the documented one-responder outcome
 * (see broadcast-nats.test.ts).
 */
import { expect } from '@jest/globals';
import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientsModule, type ClientOptions } from '@nestjs/microservices';
import { PlumtreeClient, PlumtreeServer } from '@plumtree/nestjs';
import { ErrorCollectingLogger } from './error-log.js';
import { memberOptions } from './conformance-env.js';
import { call } from './http.js';
import {
  BROADCAST_CLIENT,
  BroadcastController,
  broadcastLog,
} from '../src/broadcast.controller.js';

import { waitFor } from '../../../support/wait-for.js';

/** The client's request timeout: it bounds the reply stream that never completes. */
const REQUEST_TIMEOUT_MS = 1_000;

@Module({
  imports: [
    ClientsModule.registerAsync([
      {
        name: BROADCAST_CLIENT,
        useFactory: () =>
          ({
            customClass: PlumtreeClient,
            options: memberOptions('broadcast-client', { requestTimeoutMs: REQUEST_TIMEOUT_MS }),
          }) as ClientOptions,
      },
    ]),
  ],
  controllers: [BroadcastController],
})
export class BroadcastAppModule {}

/** Starts the app of the broadcast specs: HTTP plus two servers. */
export async function startBroadcastApp(): Promise<INestApplication> {
  broadcastLog.runs = 0;
  broadcastLog.openStreams = 0;
  const app = await NestFactory.create(BroadcastAppModule, { logger: new ErrorCollectingLogger() });
  app.connectMicroservice({ strategy: new PlumtreeServer(memberOptions('broadcast-a')) });
  app.connectMicroservice({ strategy: new PlumtreeServer(memberOptions('broadcast-b')) });
  await app.startAllMicroservices();
  await app.listen(0, '127.0.0.1');
  return app;
}

/** The documented outcome of the broadcast case (see the file comment). */
export async function expectOneResponder(app: INestApplication, path: string): Promise<void> {
  const r = await call(app, 'GET', path);
  // Nest answers 500 for the RequestTimeoutError the unfinished stream ends with.
  expect(r.status).toBe(500);
  expect(broadcastLog.runs).toBe(1);
  await waitFor('the responder to drop its reply stream', () => broadcastLog.openStreams === 0);
}
