import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeStore, StoreLockedError } from '@plumtree/store';
import { UsageError } from './cli-args.js';
import { parseStoreArgs, runStore } from './store.command.js';

const root = mkdtempSync(join(tmpdir(), 'plumtree-cli-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('plumtree store', () => {
  it('parses ACTION DIR and refuses anything else', () => {
    expect(parseStoreArgs(['repair', '/x'])).toEqual({ action: 'repair', dir: '/x' });
    expect(() => parseStoreArgs(['fix', '/x'])).toThrow(UsageError);
    expect(() => parseStoreArgs(['reset'])).toThrow(/exactly one DIR/);
    expect(() => parseStoreArgs(['inspect', '/a', '/b'])).toThrow(/exactly one DIR/);
  });

  it('inspect prints the store; reset deletes it; both refuse a store in use', async () => {
    const dir = join(root, 'n1');
    const store = await NodeStore.open(dir);
    await store.saveIncarnation(7);
    await store.savePeers([{ name: 'p', address: '127.0.0.1:7946', lastSeenAliveMs: 1 }]);
    await expect(runStore('reset', dir)).rejects.toBeInstanceOf(StoreLockedError);
    await store.close();
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => out.push(s) > 0) as typeof process.stdout.write;
    try {
      expect(await runStore('inspect', dir)).toBe(0);
      expect(await runStore('repair', dir)).toBe(0);
      expect(await runStore('reset', dir)).toBe(0);
    } finally {
      process.stdout.write = write;
    }
    const summary = JSON.parse(out[0]!) as { incarnation: number; peers: { name: string }[] };
    expect(summary.incarnation).toBe(7);
    expect(summary.peers.map((p) => p.name)).toEqual(['p']);
    expect(existsSync(dir)).toBe(false);
  });
});
