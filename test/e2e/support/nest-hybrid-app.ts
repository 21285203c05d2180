/**
 * A hybrid Nest app on loopback for the delivery suites: `PlumtreeModule` sharing the node of a
 * `PlumtreeServer` connected with `inheritAppConfig`, and a client on a node of its own that
 * joined it.
 */
import { Module, type INestApplication, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { PlumtreeNode } from '@plumtree/cluster';
import {
  PlumtreeClient,
  PlumtreeModule,
  PlumtreeServer,
  type PlumtreeModuleOptions,
} from '@plumtree/nestjs';

import { FAST_SWIM } from '../../support/fast-swim.js';

/** Options of a loopback node named `name`. */
export function loopbackNode(name: string, seeds: string[] = []): PlumtreeModuleOptions {
  return { name, persistence: false, bindAddr: '127.0.0.1', bindPort: 0, seeds, swim: FAST_SWIM };
}

/** What {@link startHybridApp} started. */
export interface HybridApp {
  readonly app: INestApplication;
  readonly server: PlumtreeServer;
  readonly client: PlumtreeClient;
}

/**
 * Start the app (`controllers`, `providers`; `configure` runs before the microservice connects,
 * for global pipes and interceptors), then a client named `clientName` seeded with it.
 */
export async function startHybridApp(spec: {
  readonly name: string;
  readonly clientName: string;
  readonly controllers?: Type[];
  readonly providers?: Type[];
  readonly handlers?: PlumtreeModuleOptions['handlers'];
  readonly configure?: (app: INestApplication) => void;
}): Promise<HybridApp> {
  const handlers = spec.handlers !== undefined ? { handlers: spec.handlers } : {};
  @Module({
    imports: [PlumtreeModule.forRoot({ shareServer: true, name: spec.name, ...handlers })],
    controllers: spec.controllers ?? [],
    providers: spec.providers ?? [],
  })
  class HybridModule {}
  const app = await NestFactory.create(HybridModule, { logger: false, abortOnError: false });
  spec.configure?.(app);
  const server = new PlumtreeServer({ ...loopbackNode(spec.name), ...handlers });
  app.connectMicroservice({ strategy: server }, { inheritAppConfig: true });
  await app.startAllMicroservices();
  await app.init();
  const client = new PlumtreeClient(
    loopbackNode(spec.clientName, [server.unwrap<PlumtreeNode>().address]),
  );
  await client.connect();
  return { app, server, client };
}
