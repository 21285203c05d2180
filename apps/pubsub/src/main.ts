/**
 * The pubsub example: one Nest microservice per node, on the Plumtree transport.
 *
 *   npm run build
 *   PUBSUB_NAME=a PUBSUB_PORT=7946 node dist/apps/pubsub/src/main.js
 *   PUBSUB_NAME=b PUBSUB_PORT=7947 PUBSUB_SEEDS=127.0.0.1:7946 node dist/apps/pubsub/src/main.js
 *
 * See pubsub-config.ts for every variable. Ctrl-C leaves the cluster gracefully.
 */
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { MicroserviceOptions } from '@nestjs/microservices';
import { PlumtreeServer } from '@plumtree/nestjs';
import { AppModule } from './app.module.js';
import { pubsubConfigFromEnv } from './pubsub-config.js';

async function bootstrap(): Promise<void> {
  const config = pubsubConfigFromEnv(process.env);
  const server = new PlumtreeServer({
    name: config.name,
    bindAddr: config.bindAddr,
    bindPort: config.bindPort,
    seeds: config.seeds,
    // memberlist's LAN timers suit a real network; `local` reacts faster on one host.
    swim: { preset: 'local' },
  });
  server.on('member-join', (e) => Logger.log(`joined: ${memberName(e)}`, 'Cluster'));
  server.on('member-left', (e) => Logger.log(`left: ${memberName(e)}`, 'Cluster'));
  server.on('member-failed', (e) => Logger.warn(`failed: ${memberName(e)}`, 'Cluster'));

  // A hybrid app: the microservice on the Plumtree transport, and HTTP for GET /metrics.
  const app = await NestFactory.create(AppModule.forRoot(config));
  app.connectMicroservice<MicroserviceOptions>({ strategy: server });
  // SIGINT/SIGTERM close the app: the server leaves the cluster (others see "left").
  app.enableShutdownHooks();
  await app.startAllMicroservices();
  if (config.httpPort > 0) {
    await app.listen(config.httpPort, config.bindAddr);
    Logger.log(`metrics on http://${config.bindAddr}:${config.httpPort}/metrics`, 'Pubsub');
  } else await app.init();
  Logger.log(`${config.name} listening on ${server.unwrap().address}`, 'Pubsub');
}

function memberName(e: unknown): string {
  const m = (e as { member?: { name?: string } }).member;
  return m?.name ?? JSON.stringify(e);
}

bootstrap().catch((e: unknown) => {
  process.stderr.write(`pubsub: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
