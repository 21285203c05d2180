/**
 * The environment of the conformance suite: a seed member standing where Nest's specs have their
 * broker (nats-server, redis-server, the TCP server's port), and the options every server and
 * client of the suite is built from. Nest's controllers read their broker's address when they are
 * instantiated; ours read `seedAddress()` the same way, once the seed runs.
 */
import { PlumtreeNode } from '@plumtree/cluster';
import type { PlumtreeModuleOptions } from '@plumtree/nestjs';

let seed: PlumtreeNode | undefined;
let counter = 0;

/** Start the seed (once per test file, as a broker runs beside Nest's specs). */
export async function startSeed(): Promise<PlumtreeNode> {
  seed = await PlumtreeNode.start(memberOptions('seed'));
  return seed;
}

/** Stop the seed. */
export async function stopSeed(): Promise<void> {
  await seed?.close();
  seed = undefined;
}

/** The seed node (after `startSeed`). */
export function seedNode(): PlumtreeNode {
  if (seed === undefined) throw new Error('the seed is not running: call startSeed() first');
  return seed;
}

/** `host:port` of the seed. */
export function seedAddress(): string {
  return seedNode().address;
}

/**
 * Options of one member of the suite: a unique name (a member name must not come back after it
 * left), 127.0.0.1 on a free port, the seed to join (except for the seed itself), no store, a
 * short graceful leave. SWIM keeps its default (`lan`) timers: gossip every 200 ms, so nothing
 * the suite checks may lean on gossip having spread between startup and the first call.
 */
export function memberOptions(
  role: string,
  extra: Partial<PlumtreeModuleOptions> = {},
): PlumtreeModuleOptions & { readonly name: string } {
  return {
    name: `${role}-${process.pid}-${++counter}`,
    persistence: false,
    bindAddr: '127.0.0.1',
    bindPort: 0,
    seeds: role === 'seed' ? [] : [seedAddress()],
    leaveTimeoutMs: 300,
    ...extra,
  };
}
