/**
 * `plumtree store inspect|repair|reset DIR`: the recovery procedures of docs/persistence.md for a
 * stopped node's store. `inspect` prints what the store holds (peers, incarnation,
 * subscriptions); `repair` runs LevelDB's repair (rebuilds the manifest, keeps every readable
 * record); `reset` deletes the store (the node then starts empty and rejoins through its seeds).
 * Each refuses a store that a running node holds (`StoreLockedError`).
 */
import { NodeStore } from '@plumtree/store';
import { UsageError } from './cli-args.js';

/** The sub-commands. */
export type StoreAction = 'inspect' | 'repair' | 'reset';

/** Parses `store ACTION DIR`. */
export function parseStoreArgs(argv: string[]): { action: StoreAction; dir: string } {
  const [action, dir, ...rest] = argv;
  if (action !== 'inspect' && action !== 'repair' && action !== 'reset') {
    throw new UsageError(`store: expected inspect, repair or reset, got ${JSON.stringify(action)}`);
  }
  if (dir === undefined || dir === '' || rest.length > 0) {
    throw new UsageError(`store ${action}: expected exactly one DIR (the node's dataDir)`);
  }
  return { action, dir };
}

/** Runs one store action; resolves with the exit code. */
export async function runStore(action: StoreAction, dir: string): Promise<number> {
  if (action === 'repair') {
    await NodeStore.repair(dir);
    process.stdout.write(`repaired ${dir}\n`);
    return 0;
  }
  if (action === 'reset') {
    await NodeStore.destroy(dir);
    process.stdout.write(`deleted ${dir}\n`);
    return 0;
  }
  const store = await NodeStore.open(dir);
  try {
    const summary = {
      dir,
      incarnation: await store.loadIncarnation(),
      subscriptions: await store.loadSubscriptions(),
      peers: (await store.loadPeers()).map((p) => ({
        name: p.name,
        address: p.address,
        lastSeenAlive: new Date(p.lastSeenAliveMs).toISOString(),
      })),
    };
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    return 0;
  } finally {
    await store.close();
  }
}
