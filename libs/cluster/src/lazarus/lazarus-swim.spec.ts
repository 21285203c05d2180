import { afterEach, describe, expect, it } from '@jest/globals';
import { firstValueFrom, timeout } from 'rxjs';
import { splitHostPort, SwimNode } from '@plumtree/swim';
import { FAST_SWIM } from '../../../../test/support/fast-swim.js';
import { waitFor } from '../../../../test/support/wait-for.js';
import { Lazarus } from './lazarus.js';
import { swimLazarusHost } from './swim-lazarus-host.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(name: string, bindPort: number, seeds: string[] = []): Promise<SwimNode> {
  const node = await SwimNode.start({
    name,
    bindAddr: '127.0.0.1',
    bindPort,
    config: FAST_SWIM,
    ...(seeds.length > 0 ? { seeds } : {}),
  });
  cleanups.push(() => node.close());
  return node;
}

describe('Lazarus over real SwimNodes', () => {
  it('re-joins a seed that died and came back empty on the same port', async () => {
    const a = await start('a', 0);
    const b = await start('b', 0, [a.boundAddress]);
    const seed = b.boundAddress;
    await waitFor('A and B to see each other', () => a.numMembers() === 2 && b.numMembers() === 2);

    const lazarus = new Lazarus(swimLazarusHost(a), { seeds: [seed], intervalMs: 200 });
    cleanups.push(() => lazarus.stop());
    lazarus.start();

    await b.close();
    await waitFor('A to mark B dead', () => a.member('b')?.state === 'dead', { timeoutMs: 15_000 });
    expect(lazarus.stats().missingSeeds).toEqual([seed]);
    const deadIncarnation = a.member('b')!.incarnation;
    // Listened to from here: the bound covers the ghost's start and a Lazarus round, not the
    // failure detection before it (which took most of 20 s in a loaded full unit run).
    const reconnected = firstValueFrom(lazarus.reconnections$.pipe(timeout(20_000)));

    // The ghost: same name and port, empty state, no seeds.
    const b2 = await start('b', splitHostPort(seed)!.port);
    expect(b2.numMembers()).toBe(1);
    const event = await reconnected;
    expect(event.seed).toBe(seed);
    await waitFor(
      'A and the restarted B to see each other alive',
      () => a.member('b')?.state === 'alive' && b2.member('a')?.state === 'alive',
    );
    const stats = lazarus.stats();
    expect(stats.reconnections).toBeGreaterThanOrEqual(1);
    expect(stats.missingSeeds).toEqual([]);
    // The restarted B refuted its death with a higher incarnation.
    expect(a.member('b')!.incarnation).toBeGreaterThan(deadIncarnation);
  }, 40_000);
});
