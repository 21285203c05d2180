/**
 * Three Nest microservices, each `createMicroservice({ strategy: new PlumtreeServer(...) })`, on
 * real sockets (127.0.0.1, port 0), plus a PlumtreeClient with its own node: events reach exactly
 * the apps that handle them (each handler once, wildcards included); @MessagePattern
 * request/response through PlumtreeClient.send, with metadata from setOnDispatchHook, one retry
 * when the chosen responder is killed mid-request (the client opts in with
 * `requestRetryOnTimeout`), and a clear timeout error.
 */
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Controller, Inject, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { RequestTimeoutError, type PlumtreeNode } from '@plumtree/cluster';
import {
  PlumtreeClient,
  PlumtreeContext,
  PlumtreeNotStartedError,
  PlumtreeServer,
  PLUMTREE_TRANSPORT,
  type PlumtreeModuleOptions,
  type PlumtreeStatus,
} from '@plumtree/nestjs';

import { FAST_SWIM } from '../support/fast-swim.js';
import { waitFor } from '../support/wait-for.js';

/** What every handler of every app records: `app:handler` -> payloads and contexts. */
interface Call {
  readonly app: string;
  readonly handler: string;
  readonly data: unknown;
  readonly topic: string;
  readonly id: string;
  readonly metadata: Readonly<Record<string, string>>;
}
const calls: Call[] = [];
const record = (app: string, handler: string, data: unknown, ctx: PlumtreeContext): void => {
  calls.push({
    app,
    handler,
    data,
    topic: ctx.getTopic(),
    id: ctx.getMessageId(),
    metadata: ctx.getMetadata(),
  });
};
const callsOf = (app: string, handler: string): Call[] =>
  calls.filter((c) => c.app === app && c.handler === handler);
/** Set by a test: the next `slow.echo` request hangs on whoever receives it. */
let hangNextSlowEcho = false;

const APP = Symbol('APP');

function appModule(name: 'a' | 'b' | 'c'): new () => object {
  @Controller()
  class AController {
    constructor(@Inject(APP) private readonly app: string) {}
    @EventPattern<string>('orders.created')
    first(@Payload() data: unknown, @Ctx() ctx: PlumtreeContext): void {
      record(this.app, 'orders.created#1', data, ctx);
    }
    @EventPattern<string>('orders.created')
    second(@Payload() data: unknown, @Ctx() ctx: PlumtreeContext): void {
      record(this.app, 'orders.created#2', data, ctx);
    }
    @EventPattern<string>('orders.*')
    any(@Payload() data: unknown, @Ctx() ctx: PlumtreeContext): void {
      record(this.app, 'orders.*', data, ctx);
    }
    @MessagePattern('math.sum')
    sum(@Payload() data: number[], @Ctx() ctx: PlumtreeContext): { sum: number; by: string } {
      record(this.app, 'math.sum', data, ctx);
      return { sum: data.reduce((a, b) => a + b, 0), by: this.app };
    }
    @MessagePattern('slow.echo')
    async slow(@Payload() data: string, @Ctx() ctx: PlumtreeContext): Promise<string> {
      record(this.app, 'slow.echo', data, ctx);
      if (hangNextSlowEcho) {
        hangNextSlowEcho = false;
        return new Promise<string>(() => undefined);
      }
      return `${data} from ${this.app}`;
    }
  }
  @Controller()
  class BController {
    constructor(@Inject(APP) private readonly app: string) {}
    @EventPattern<string>('orders.created')
    created(@Payload() data: unknown, @Ctx() ctx: PlumtreeContext): void {
      record(this.app, 'orders.created', data, ctx);
    }
    @MessagePattern('math.sum')
    sum(@Payload() data: number[], @Ctx() ctx: PlumtreeContext): { sum: number; by: string } {
      record(this.app, 'math.sum', data, ctx);
      return { sum: data.reduce((a, b) => a + b, 0), by: this.app };
    }
    @MessagePattern('slow.echo')
    async slow(@Payload() data: string, @Ctx() ctx: PlumtreeContext): Promise<string> {
      record(this.app, 'slow.echo', data, ctx);
      if (hangNextSlowEcho) {
        hangNextSlowEcho = false;
        return new Promise<string>(() => undefined);
      }
      return `${data} from ${this.app}`;
    }
    @MessagePattern('stuck')
    stuck(): Promise<never> {
      return new Promise<never>(() => undefined);
    }
  }
  @Controller()
  class CController {
    constructor(@Inject(APP) private readonly app: string) {}
    @EventPattern<string>('billing.#')
    billing(@Payload() data: unknown, @Ctx() ctx: PlumtreeContext): void {
      record(this.app, 'billing.#', data, ctx);
    }
    @MessagePattern('stuck')
    stuck(): Promise<never> {
      return new Promise<never>(() => undefined);
    }
  }
  const controller = name === 'a' ? AController : name === 'b' ? BController : CController;
  @Module({ controllers: [controller], providers: [{ provide: APP, useValue: name }] })
  class AppModule {}
  return AppModule;
}

describe('three Nest microservices on PlumtreeServer', () => {
  const apps = new Map<string, INestMicroservice>();
  const servers = new Map<string, PlumtreeServer>();
  let client: PlumtreeClient;
  const statusesOfA: PlumtreeStatus[] = [];
  /** `member-left` events each server saw (listeners added before listen). */
  const leftSeen = new Map<string, string[]>();

  const options = (name: string, seeds: string[]): PlumtreeModuleOptions => ({
    name,
    persistence: false,
    bindAddr: '127.0.0.1',
    bindPort: 0,
    seeds,
    swim: FAST_SWIM,
  });

  beforeAll(async () => {
    let seed: string[] = [];
    for (const name of ['a', 'b', 'c'] as const) {
      const server = new PlumtreeServer(options(name, seed));
      // Listeners and status observers added before listen are kept (Nest's contract).
      const left: string[] = [];
      leftSeen.set(name, left);
      server.on('member-left', (e) => left.push((e as { member: { name: string } }).member.name));
      if (name === 'a') {
        server.status.subscribe((s) => statusesOfA.push(s));
        expect(() => server.unwrap()).toThrow(PlumtreeNotStartedError);
      }
      const app = await NestFactory.createMicroservice(appModule(name), {
        strategy: server,
        logger: false,
      });
      // Only c reacts to a signal, SIGUSR2, so the test can send one without ending jest.
      if (name === 'c') app.enableShutdownHooks(['SIGUSR2']);
      await app.listen();
      apps.set(name, app);
      servers.set(name, server);
      if (name === 'a') seed = [server.unwrap<PlumtreeNode>().address];
    }
    client = new PlumtreeClient({
      ...options('client', seed),
      requestTimeoutMs: 10_000,
      requestRetryOnTimeout: true,
    });
    await client.connect();
    const node = client.unwrap<PlumtreeNode>();
    // Every node knows every other one: a subscriber answers a hand-off only to a member it knows.
    const all = [node, ...[...servers.values()].map((s) => s.unwrap<PlumtreeNode>())];
    await waitFor('four members everywhere', () => all.every((n) => n.members().length === 4));
    await waitFor(
      'the directory to show every handler',
      () =>
        node.subscribersOf('orders.created').sort().join() === 'a,b' &&
        node.subscribersOf('billing.invoice.paid').join() === 'c' &&
        node.respondersOf('math.sum').sort().join() === 'a,b' &&
        node.respondersOf('stuck').sort().join() === 'b,c',
    );
  }, 30_000);

  afterAll(async () => {
    await client?.close();
    for (const app of apps.values()) await app.close();
  });

  it('identifies itself with a Symbol transport id and reports its status', () => {
    expect(servers.get('a')!.transportId).toBe(PLUMTREE_TRANSPORT);
    expect(typeof PLUMTREE_TRANSPORT).toBe('symbol');
    expect(statusesOfA[0]).toBe('connecting');
    expect(statusesOfA).toContain('connected');
  });

  it('delivers events to exactly the apps that handle the topic, each handler once', async () => {
    client.setOnDispatchHook((packet) => {
      packet.metadata = { trace: 'evt-1' };
    });
    await lastValueFrom(client.emit('orders.created', { order: 1 }), { defaultValue: undefined });
    await lastValueFrom(client.emit('billing.invoice.paid', { invoice: 7 }), {
      defaultValue: undefined,
    });
    const expected = [
      ['a', 'orders.created#1'],
      ['a', 'orders.created#2'],
      ['a', 'orders.*'],
      ['b', 'orders.created'],
      ['c', 'billing.#'],
    ];
    await waitFor('every handler to run', () =>
      expected.every(([app, h]) => callsOf(app!, h!).length === 1),
    );
    // A second, different event proves no duplicate of the first arrived in the meantime.
    await lastValueFrom(client.emit('orders.created', { order: 2 }), { defaultValue: undefined });
    await waitFor(
      'the second event',
      () =>
        ['orders.created#1', 'orders.created#2', 'orders.*'].every(
          (h) => callsOf('a', h).length === 2,
        ) && callsOf('b', 'orders.created').length === 2,
    );
    for (const [app, h] of expected.slice(0, 4)) {
      expect(callsOf(app!, h!).map((c) => (c.data as { order: number }).order)).toEqual([1, 2]);
    }
    expect(calls.filter((c) => c.app === 'c' && c.topic.startsWith('orders'))).toEqual([]);
    const billed = callsOf('c', 'billing.#')[0]!;
    expect(billed).toMatchObject({ topic: 'billing.invoice.paid', data: { invoice: 7 } });
    const first = callsOf('a', 'orders.*')[0]!;
    expect(first.topic).toBe('orders.created');
    expect(first.metadata).toEqual({ trace: 'evt-1' });
    expect(first.id).toMatch(/^client\//);
    // c never received an orders payload: the tree of a topic spans its subscribers only.
    const cNode = servers.get('c')!.unwrap<PlumtreeNode>();
    expect(cNode.stats().node.gossipReceivedUnsubscribed).toBe(0);
  });

  it('answers @MessagePattern requests from one responder, with dispatch-hook metadata', async () => {
    client.setOnDispatchHook((packet) => {
      packet.metadata = { trace: 'req-1', tenant: 't1' };
    });
    const before = calls.length;
    const reply = await lastValueFrom(
      client.send<{ sum: number; by: string }>('math.sum', [1, 2, 3]),
    );
    expect(reply.sum).toBe(6);
    expect(['a', 'b']).toContain(reply.by);
    const handled = calls.slice(before).filter((c) => c.handler === 'math.sum');
    expect(handled).toHaveLength(1);
    expect(handled[0]!.app).toBe(reply.by);
    expect(handled[0]!.metadata).toEqual({ trace: 'req-1', tenant: 't1' });
    expect(handled[0]!.id).toMatch(/^client\/rpc\//);
  });

  it('fails with a clear RequestTimeoutError when no responder answers', async () => {
    const impatient = new PlumtreeClient({
      node: client.unwrap<PlumtreeNode>(),
      requestTimeoutMs: 300,
    });
    const err = await lastValueFrom(impatient.send('stuck', {})).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestTimeoutError);
    const t = err as RequestTimeoutError;
    // At-most-once: a timed-out attempt may have run, so it is not retried.
    expect(t.attempts).toHaveLength(1);
    expect(['b', 'c']).toContain(t.attempts[0]!.peer);
    expect(t.message).toMatch(/got no reply .*no reply within 300 ms/);
  });

  it('retries once on another responder when the chosen one is killed mid-request', async () => {
    hangNextSlowEcho = true;
    const before = calls.length;
    const reply = lastValueFrom(client.send<string>('slow.echo', 'ping'));
    await waitFor('the first attempt', () =>
      calls.slice(before).some((c) => c.handler === 'slow.echo'),
    );
    const victim = calls.slice(before).find((c) => c.handler === 'slow.echo')!.app;
    // Killed: the node stops without leaving (a crash); the requester sees its connection drop.
    await servers.get(victim)!.unwrap<PlumtreeNode>().close();
    const other = victim === 'a' ? 'b' : 'a';
    await expect(reply).resolves.toBe(`ping from ${other}`);
    expect(client.unwrap<PlumtreeNode>().stats().node.rpc.retries).toBeGreaterThanOrEqual(1);
    await apps.get(victim)!.close();
    apps.delete(victim);
  });

  it('leaves gracefully on a shutdown signal (enableShutdownHooks): others see "left"', async () => {
    // The signal is emitted on `process` as Node would on SIGUSR2 (a real signal would reach the
    // jest process, not the test's sandboxed `process`); Nest re-raises it with process.kill once
    // its hooks ran, which is stubbed here so the test process lives on.
    const kill = jest.spyOn(process, 'kill').mockImplementation(() => true);
    const cNode = servers.get('c')!.unwrap<PlumtreeNode>();
    let reraised: unknown[] | undefined;
    try {
      process.emit('SIGUSR2', 'SIGUSR2');
      await waitFor(
        'Nest to shut c down and re-raise the signal',
        () => kill.mock.calls.length > 0,
      );
      reraised = kill.mock.calls[0];
    } finally {
      kill.mockRestore();
    }
    expect(reraised).toEqual([process.pid, 'SIGUSR2']);
    expect(cNode.isClosed).toBe(true);
    apps.delete('c');
    // The survivor of a and b (the other one was killed above) sees c as left, not failed.
    const survivor = apps.has('a') ? 'a' : 'b';
    await waitFor('c to be seen as left', () => leftSeen.get(survivor)!.includes('c'));
    const clientNode = client.unwrap<PlumtreeNode>();
    await waitFor(
      'c gone from the client member list',
      () => !clientNode.members().some((m) => m.name === 'c'),
    );
  });
});
