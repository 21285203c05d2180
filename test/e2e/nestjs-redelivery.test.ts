/**
 * `ctx.isRedelivered()` of a durable `@PlumtreeSubscribe` handler (docs/persistence.md, "Durable
 * topics"): a node that logged messages and died before its handlers saw them hands them to the
 * handlers again at its next start, each flagged; what the last life handled does not come
 * again; a message seen for the first time is not flagged.
 */
import 'reflect-metadata';
import { afterAll, describe, expect, it } from '@jest/globals';
import { Injectable, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, Payload } from '@nestjs/microservices';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeStore } from '@plumtree/store';
import {
  PlumtreeContext,
  PlumtreeModule,
  PlumtreeService,
  PlumtreeSubscribe,
} from '@plumtree/nestjs';

import { FAST_SWIM } from '../support/fast-swim.js';
import { waitFor } from '../support/wait-for.js';

const seen: { id: string; redelivered: boolean; payload: unknown }[] = [];

@Injectable()
class Ledger {
  @PlumtreeSubscribe('ledger', { durable: true })
  onEntry(@Payload() payload: unknown, @Ctx() ctx: PlumtreeContext): void {
    seen.push({ id: ctx.getMessageId(), redelivered: ctx.isRedelivered(), payload });
  }
}

const dir = mkdtempSync(join(tmpdir(), 'plumtree-nest-redelivery-'));
let app: INestApplication | undefined;

afterAll(async () => {
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a durable @PlumtreeSubscribe handler after a crash', () => {
  it('gets what the last life logged and never handled again, flagged; a new message unflagged', async () => {
    // The last life: it logged three messages of origin x, its handler saw only the first, and
    // the process died (the store is closed here as a crash leaves it: marks written so far).
    const store = await NodeStore.open(dir);
    const log = await store.openTopicLog('ledger', { retentionMs: 3_600_000, maxMessages: 1_000 });
    const json = { 'content-type': 'application/json' };
    const rec = (seq: number) => ({
      origin: 'x',
      epoch: 7,
      seq,
      publishedAtMs: 1,
      headers: json,
      payload: new TextEncoder().encode(JSON.stringify({ seq })),
    });
    await log.append([rec(1), rec(2), rec(3)]);
    log.markHandled('x', 7, 1);
    await store.close();

    @Module({
      imports: [
        PlumtreeModule.forRoot({
          name: 'ledger-node',
          persistence: true,
          dataDir: dir,
          bindAddr: '127.0.0.1',
          bindPort: 0,
          swim: FAST_SWIM,
        }),
      ],
      providers: [Ledger],
    })
    class AppModule {}
    app = await NestFactory.create(AppModule, { logger: false, abortOnError: false });
    await app.listen(0, '127.0.0.1');
    await waitFor('the two unhandled messages at the handler', () => seen.length === 2);
    const service = app.get(PlumtreeService);
    await service.whenReady();
    const id = await service.publish('ledger', { fresh: true });
    await waitFor('the new message at the handler', () => seen.length === 3);
    expect(seen).toEqual([
      { id: 'x/7/2', redelivered: true, payload: { seq: 2 } },
      { id: 'x/7/3', redelivered: true, payload: { seq: 3 } },
      { id, redelivered: false, payload: { fresh: true } },
    ]);
  }, 30_000);
});
