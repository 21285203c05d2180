/**
 * Nest's NATS broadcast spec (nestjs/nest `integration/microservices/e2e/broadcast-nats.spec.ts`),
 * written for this transport from reading it: one app connects two servers, both answering
 * `broadcast.*` with a reply stream that never completes, and the client sums the first two
 * replies. Nest's NATS transport (no queue group) delivers a request to every subscriber, so the
 * sum is 2. This transport sends a request to ONE responder (as NATS does with a queue group): the
 * documented difference (docs/nestjs.md, "Differences from Nest's built-in transports"), asserted
 * here: one handler runs, its one value arrives, and the stream that never completes is ended by
 * the request timeout (the client's `send` errors; Nest answers 500) and unsubscribed on the
 * responder. The subject case passes as it does on NATS.
 */
import 'reflect-metadata';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { startSeed, stopSeed } from './support/conformance-env.js';
import { expectOneResponder, startBroadcastApp } from './support/broadcast-app.js';
import { call } from './support/http.js';

const T = 30_000;

describe('Nest broadcast-nats spec on PlumtreeServer', () => {
  let app: INestApplication;

  beforeAll(startSeed, T);
  afterAll(stopSeed);
  beforeEach(async () => {
    app = await startBroadcastApp();
  }, T);
  afterEach(() => app.close(), T);

  it(
    'Broadcast (2 subscribers): one responder answers (documented difference)',
    async () => {
      await expectOneResponder(app, '/broadcast');
    },
    T,
  );

  it(
    'Retrieve the message subject: the concrete topic a wildcard pattern matched',
    async () => {
      expect(await call(app, 'GET', '/subject')).toEqual({
        status: 200,
        text: 'retrieve.subject.hello',
      });
    },
    T,
  );
});
