/**
 * One Nest app start validates its options once (issue 11 item 2): every resolver of the stack
 * (the module options, the node options, the SWIM configuration, the Plumtree configuration)
 * ends in class-validator's `validateSync`, so a spy on it, installed before the libraries are
 * loaded, counts how many times each options class is validated during `app.init()` (and during
 * a `PlumtreeNode.start` without Nest).
 */
import 'reflect-metadata';
import { createRequire } from 'node:module';
import { afterAll, describe, expect, it, jest } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';

const require = createRequire(import.meta.url);
const classValidator = require('class-validator') as typeof import('class-validator');
const validateSync = jest.spyOn(classValidator, 'validateSync');

const { Module } = await import('@nestjs/common');
const { NestFactory } = await import('@nestjs/core');
const { PlumtreeModule } = await import('./plumtree.module.js');
const { PlumtreeNode } = await import('@plumtree/cluster');

/** Validations per options class since the spy was last cleared, e.g. `{ SwimConfig: 1 }`. */
function validationsByClass(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const [target] of validateSync.mock.calls) {
    const name = (target as unknown as object).constructor.name;
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

describe('options resolved once', () => {
  let app: INestApplicationContext | undefined;
  afterAll(async () => {
    await app?.close();
  });

  it('validates the module, node, SWIM and Plumtree options once each', async () => {
    @Module({
      imports: [
        PlumtreeModule.forRoot({
          name: 'resolve-once',
          bindAddr: '127.0.0.1',
          bindPort: 0,
          persistence: false,
          swim: { preset: 'local' },
        }),
      ],
    })
    class AppModule {}
    validateSync.mockClear();
    app = await NestFactory.createApplicationContext(AppModule, { logger: false });
    await app.init();
    const counts = validationsByClass();
    process.stdout.write(`validations during one app start: ${JSON.stringify(counts)}\n`);
    expect(counts).toEqual({
      NestLevelSettings: 1,
      NodeSettings: 1,
      SwimConfig: 1,
      PlumtreeConfig: 1,
    });
  });

  it('a node started without Nest validates the node, SWIM and Plumtree options once each', async () => {
    validateSync.mockClear();
    const node = await PlumtreeNode.start({
      name: 'resolve-once-plain',
      bindAddr: '127.0.0.1',
      bindPort: 0,
      persistence: false,
      swim: { preset: 'local' },
    });
    await node.close();
    const counts = validationsByClass();
    process.stdout.write(`validations during one plain node start: ${JSON.stringify(counts)}\n`);
    expect(counts).toEqual({ NodeSettings: 1, SwimConfig: 1, PlumtreeConfig: 1 });
  });
});
