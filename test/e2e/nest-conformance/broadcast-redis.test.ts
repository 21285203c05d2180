/**
 * Nest's Redis broadcast spec (nestjs/nest `integration/microservices/e2e/broadcast-redis.spec.ts`),
 * written for this transport from reading it: the broadcast case with an object pattern
 * (`{ cmd: 'broadcast' }`). Same documented difference as broadcast-nats.test.ts: one responder
 * answers a request.
 */
import 'reflect-metadata';
import { afterAll, afterEach, beforeAll, beforeEach, describe, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { startSeed, stopSeed } from './support/conformance-env.js';
import { expectOneResponder, startBroadcastApp } from './support/broadcast-app.js';

const T = 30_000;

describe('Nest broadcast-redis spec on PlumtreeServer', () => {
  let app: INestApplication;

  beforeAll(startSeed, T);
  afterAll(stopSeed);
  beforeEach(async () => {
    app = await startBroadcastApp();
  }, T);
  afterEach(() => app.close(), T);

  it(
    'Broadcast (2 subscribers), object pattern: one responder answers (documented difference)',
    async () => {
      await expectOneResponder(app, '/broadcast-object');
    },
    T,
  );
});
