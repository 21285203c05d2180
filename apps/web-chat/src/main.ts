/**
 * `npm start`: the web chat. Starts a real cluster of node processes on 127.0.0.1 and serves the
 * page that shows it live (per-room spanning trees, SWIM states, chat, faults, events, metrics).
 *
 * Stopping: SIGINT (Ctrl-C) or SIGTERM closes the application, which stops every node (each
 * leaves the cluster, then exits; SIGKILL after 4 s); a second signal more than a second later
 * kills them at once. A node process also exits when this process dies, however it dies.
 * `npm start` execs node (package.json), so the SIGTERM npm forwards reaches this process.
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { LocalClusterService } from './local-cluster.service.js';
import {
  parseWebChatArgs,
  WEB_CHAT_USAGE,
  WebChatUsageError,
  type WebChatArgs,
} from './web-chat-args.js';
import { cytoscapeDir, publicDir } from './web-chat-assets.js';
import { WebChatModule } from './web-chat.module.js';

/** Signals closer together than this are one (npm forwards the terminal's SIGINT a second time). */
const SECOND_SIGNAL_MS = 1_000;

async function main(args: WebChatArgs): Promise<void> {
  const app = await NestFactory.create<NestExpressApplication>(
    WebChatModule.forRoot({
      nodes: args.nodes,
      ...(args.dataDir ? { dataDir: args.dataDir } : {}),
    }),
    { logger: ['error', 'warn'], forceCloseConnections: true, abortOnError: false },
  );
  const cluster = app.get(LocalClusterService).cluster;
  // Whatever ends this process, no node outlives it (they also watch their IPC channel).
  process.on('exit', () => cluster.killNow());
  app.useStaticAssets(publicDir());
  app.useStaticAssets(cytoscapeDir(), { prefix: '/vendor/cytoscape/' });
  let firstSignalAt = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (firstSignalAt !== 0) {
      if (Date.now() - firstSignalAt < SECOND_SIGNAL_MS) return;
      process.stdout.write(`${signal} again: killing the nodes\n`);
      process.exit(130);
    }
    firstSignalAt = Date.now();
    process.stdout.write(`\n${signal}: stopping the ${args.nodes.toString()} nodes...\n`);
    app.close().then(
      () => {
        process.stdout.write('stopped\n');
        process.exit(0);
      },
      (e: unknown) => {
        process.stderr.write(`web-chat: ${(e as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await app.listen(args.port, args.host);
  } catch (e) {
    // The nodes started at bootstrap: stop them (and remove their stores) before saying why.
    await app.close().catch(() => undefined);
    const inUse = (e as NodeJS.ErrnoException).code === 'EADDRINUSE';
    throw new Error(
      inUse
        ? `port ${args.port.toString()} is in use on ${args.host}; choose another with --port (0: any free port)`
        : (e as Error).message,
      { cause: e },
    );
  }
  const address = app.getHttpServer().address() as { port: number };
  const host = args.host.includes(':') ? `[${args.host}]` : args.host;
  const url = `http://${host}:${address.port.toString()}`;
  process.stdout.write(
    `\n  nest-plumtree web chat: ${url}\n` +
      `  ${args.nodes.toString()} node processes on 127.0.0.1, each a Nest app with PlumtreeModule.\n` +
      `  Ctrl-C stops them all.\n\n`,
  );
  cluster.launch().then(
    () => process.stdout.write(`  ${args.nodes.toString()} nodes running.\n`),
    () => undefined,
  );
}

let args: WebChatArgs;
try {
  args = parseWebChatArgs(process.argv.slice(2));
} catch (e) {
  if (!(e instanceof WebChatUsageError)) throw e;
  process.stderr.write(`web-chat: ${e.message}\n\n${WEB_CHAT_USAGE}\n`);
  process.exit(2);
}
if (args.help) {
  process.stdout.write(`${WEB_CHAT_USAGE}\n`);
  process.exit(0);
}
main(args).catch((e: unknown) => {
  process.stderr.write(`web-chat: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
