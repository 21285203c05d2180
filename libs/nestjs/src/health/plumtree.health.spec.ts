import 'reflect-metadata';
import { afterEach, describe, expect, it } from '@jest/globals';
import { HealthCheckService, HealthIndicatorService, TerminusModule } from '@nestjs/terminus';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { PlumtreeNode } from '@plumtree/cluster';
import { MemoryNetwork } from '@plumtree/swim';
import type { PlumtreeService } from '../plumtree.service.js';
import { checkPlumtreeHealth } from './plumtree-health-check.js';
import { PlumtreeHealthIndicator } from './plumtree.health.js';
import { FAST_SWIM } from '../../../../test/support/fast-swim.js';
import { waitFor } from '../../../../test/support/wait-for.js';

/** Suspicion shortened further: one test waits for a partitioned peer to be declared dead. */
const SWIM = { ...FAST_SWIM, suspicionMult: 2 } as const;

describe('PlumtreeHealthIndicator', () => {
  const nodes: PlumtreeNode[] = [];
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.close()));
  });

  async function start(
    net: MemoryNetwork,
    i: number,
    topics: string[] = [],
  ): Promise<PlumtreeNode> {
    const node = await PlumtreeNode.start({
      name: `h${i}`,
      persistence: false,
      transport: net.bind(`10.9.0.${i + 1}:7946`, { streamTimeoutMs: 600_000 }),
      swim: SWIM,
      seeds: nodes.length > 0 ? [nodes[0]!.address] : [],
      topics,
      seed: i + 1,
    });
    nodes.push(node);
    return node;
  }

  it('is down (not listening) without a node', () => {
    const r = checkPlumtreeHealth(undefined);
    expect(r).toMatchObject({ up: false, reason: 'not-listening' });
  });

  it('is down (isolated) alone, up with counts once another member is alive, down when closed', async () => {
    const net = new MemoryNetwork();
    const indicator = new PlumtreeHealthIndicator(new HealthIndicatorService());
    const a = await start(net, 0, ['orders.created', 'audit.#']);

    expect(indicator.isHealthy('bus', { node: a })).toEqual({
      bus: expect.objectContaining({ status: 'down', reason: 'isolated', node: 'h0', members: 1 }),
    });

    await start(net, 1);
    await waitFor('membership', () => a.members().length === 2);
    expect(indicator.isHealthy('bus', { node: a })).toEqual({
      bus: {
        status: 'up',
        node: 'h0',
        members: 2,
        suspect: 0,
        topics: 1, // orders.created; the pattern audit.# matches no known topic yet
        subscriptions: 2,
        healthScore: 0,
      },
    });
    // A larger quorum turns the same node down.
    expect(indicator.isHealthy('bus', { node: a, minMembers: 3 }).bus.status).toBe('down');

    await a.close();
    expect(indicator.isHealthy('bus', { node: a })).toEqual({
      bus: expect.objectContaining({ status: 'down', reason: 'not-listening' }),
    });
  });

  it("turns down when the only other member fails (isolated), using the module's node", async () => {
    const net = new MemoryNetwork();
    const a = await start(net, 0);
    const b = await start(net, 1);
    await waitFor('membership', () => a.members().length === 2);
    const service = { node: a } as unknown as PlumtreeService;
    const indicator = new PlumtreeHealthIndicator(new HealthIndicatorService(), service);
    expect(indicator.isHealthy().plumtree.status).toBe('up');

    net.partition([[a.address], [b.address]]);
    await waitFor('failure detection', () => a.members().every((m) => m.name === 'h0'));
    expect(indicator.isHealthy()).toEqual({
      plumtree: expect.objectContaining({ status: 'down', reason: 'isolated', members: 1 }),
    });
  });

  it('is down while the module has no running node (a shared server not listening yet)', () => {
    const service = {
      get node(): never {
        throw new Error('not started');
      },
    } as unknown as PlumtreeService;
    const indicator = new PlumtreeHealthIndicator(new HealthIndicatorService(), service);
    expect(indicator.isHealthy()).toEqual({
      plumtree: expect.objectContaining({ status: 'down', reason: 'not-listening' }),
    });
  });

  it('reports through terminus HealthCheckService: 200-style ok when up, an error when down', async () => {
    const net = new MemoryNetwork();
    const a = await start(net, 0);

    @Module({ imports: [TerminusModule], providers: [PlumtreeHealthIndicator] })
    class HealthModule {}
    const app = await NestFactory.createApplicationContext(HealthModule, { logger: false });
    try {
      const health = app.get(HealthCheckService);
      const indicator = app.get(PlumtreeHealthIndicator);
      const check = () => health.check([() => indicator.isHealthy('plumtree', { node: a })]);
      await expect(check()).rejects.toMatchObject({
        response: expect.objectContaining({ status: 'error' }),
      });
      await start(net, 1);
      await waitFor('membership', () => a.members().length === 2);
      await expect(check()).resolves.toMatchObject({
        status: 'ok',
        info: { plumtree: { status: 'up', members: 2 } },
      });
    } finally {
      await app.close();
    }
  });
});
