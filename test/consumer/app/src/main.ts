// node dist/main.js NAME PORT [SEED] [--answers]: one Nest microservice on the Plumtree
// transport. stdin lines drive it (`greet TEXT`, `sum 1 2 3`); stdout gets a JSON line per event.
import 'reflect-metadata';
import { createInterface } from 'node:readline';
import { NestFactory } from '@nestjs/core';
import { type ClientProxy, type MicroserviceOptions } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { NoRespondersError, PlumtreeServer } from '@plumtree/nestjs';
import { AppModule, CLIENT, report } from './app.module.js';
import { nestCopies } from './nest-copies.js';

const [name = 'a', port = '0', seed] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const server = new PlumtreeServer({
  name,
  bindAddr: '127.0.0.1',
  bindPort: Number(port),
  seeds: seed !== undefined ? [seed] : [],
  swim: { preset: 'local' },
});
const memberName = (e: unknown): unknown => (e as { member?: { name?: string } }).member?.name;
server.on('member-left', (e) => report({ event: 'left', node: memberName(e) }));
server.on('member-failed', (e) => report({ event: 'failed', node: memberName(e) }));

const app = await NestFactory.createMicroservice<MicroserviceOptions>(
  AppModule.forRoot(name, process.argv.includes('--answers')),
  { strategy: server, logger: ['error', 'warn'] },
);
// SIGTERM closes the app: the server leaves the cluster (the others see "left").
app.enableShutdownHooks();
await app.listen();
report({ event: 'ready', node: name, addr: server.unwrap().address, copies: nestCopies() });

const client = app.get<ClientProxy>(CLIENT);
createInterface({ input: process.stdin }).on('line', (line) => {
  const [command, ...args] = line.split(' ');
  if (command === 'greet') {
    void lastValueFrom(client.emit('greetings', { text: args.join(' ') }));
  } else if (command === 'sum') {
    lastValueFrom(client.send<{ sum: number; topic: string }>('math.sum', args.map(Number))).then(
      (reply) => report({ event: 'reply', ...reply }),
      // The node's errors come from @plumtree/nestjs too: one package for a Nest app.
      (e: unknown) =>
        report({ event: 'error', noResponders: e instanceof NoRespondersError, error: String(e) }),
    );
  }
});
