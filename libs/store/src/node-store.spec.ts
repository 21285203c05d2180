import { afterEach, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NodeStore } from './node-store.js';
import { StoreCorruptError, StoreError, StoreLockedError } from './store-errors.js';
import { TempDirs } from './store-test-dirs.js';

const dirs = new TempDirs();
const stores: NodeStore[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  await Promise.all(stores.splice(0).map((s) => s.close()));
  dirs.cleanup();
});

async function openStore(dir: string, clock?: () => number): Promise<NodeStore> {
  const s = await NodeStore.open(dir, clock === undefined ? {} : { clock });
  stores.push(s);
  return s;
}

/** Whatever `p` rejects with (fails the test when it resolves). */
async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

describe('peers', () => {
  it('round-trips, most recently seen alive first, keeping the newest entry per name', async () => {
    const s = await openStore(dirs.make());
    expect(await s.loadPeers()).toEqual([]);
    await s.savePeers([
      { name: 'a', address: '10.0.0.1:7946', lastSeenAliveMs: 100 },
      { name: 'b', address: '10.0.0.2:7946', lastSeenAliveMs: 300 },
      { name: 'c', address: '10.0.0.3:7946', lastSeenAliveMs: 200 },
      { name: 'b', address: 'stale:1', lastSeenAliveMs: 50 },
    ]);
    await s.savePeers([
      { name: 'a', address: '10.0.0.9:7946', lastSeenAliveMs: 400 }, // newer: wins
      { name: 'c', address: 'old:1', lastSeenAliveMs: 150 }, // older: ignored
      { name: 'd\0x', address: '[::1]:7946', lastSeenAliveMs: 200 },
    ]);
    const want = [
      { name: 'a', address: '10.0.0.9:7946', lastSeenAliveMs: 400 },
      { name: 'b', address: '10.0.0.2:7946', lastSeenAliveMs: 300 },
      { name: 'c', address: '10.0.0.3:7946', lastSeenAliveMs: 200 },
      { name: 'd\0x', address: '[::1]:7946', lastSeenAliveMs: 200 },
    ];
    expect(await s.loadPeers()).toEqual(want);
    await s.close();
    const s2 = await openStore(s.dir, () => 1_000);
    expect(await s2.loadPeers()).toEqual(want);
    // Age 750 at clock 1,000: peers last seen alive before 250 go.
    expect(await s2.forgetPeersOlderThan(750)).toBe(2);
    expect((await s2.loadPeers()).map((p) => p.name)).toEqual(['a', 'b']);
    expect(await s2.forgetPeersOlderThan(700)).toBe(0);
    expect(await s2.forgetPeersOlderThan(650)).toBe(1);
  });
});

describe('incarnation and subscriptions', () => {
  it('incarnation is 0 at first and never goes down, also across a reopen', async () => {
    const s = await openStore(dirs.make());
    expect(await s.loadIncarnation()).toBe(0);
    await s.saveIncarnation(7);
    await s.saveIncarnation(3);
    expect(await s.loadIncarnation()).toBe(7);
    await s.saveIncarnation(8);
    await s.close();
    const s2 = await openStore(s.dir);
    expect(await s2.loadIncarnation()).toBe(8);
    await s2.saveIncarnation(0);
    expect(await s2.loadIncarnation()).toBe(8);
    await expect(s2.saveIncarnation(-1)).rejects.toThrow(RangeError);
  });

  it('subscriptions are replaced and survive a reopen', async () => {
    const s = await openStore(dirs.make());
    expect(await s.loadSubscriptions()).toEqual([]);
    await s.saveSubscriptions(['orders.*', 'metrics']);
    await s.saveSubscriptions(['orders.#', 'chat']);
    await s.close();
    const s2 = await openStore(s.dir);
    expect(await s2.loadSubscriptions()).toEqual(['orders.#', 'chat']);
    await s2.saveSubscriptions([]);
    expect(await s2.loadSubscriptions()).toEqual([]);
  });
});

describe('open and close', () => {
  it('creates missing parent directories; close is idempotent; calls after close reject', async () => {
    const dir = join(dirs.make(), 'a', 'b', 'node-1');
    const s = await NodeStore.open(dir);
    expect(s.dir).toBe(dir);
    expect(existsSync(join(dir, 'CURRENT'))).toBe(true);
    await Promise.all([s.close(), s.close()]);
    await s.close();
    const e = await rejection(s.loadPeers());
    expect(e).toBeInstanceOf(StoreError);
    expect(e.message).toMatch(/closed/);
    await expect(s.openTopicLog('t', { retentionMs: 1, maxMessages: 1 })).rejects.toThrow(/closed/);
  });

  it('a second NodeStore of the same dir in this process fails with StoreLockedError', async () => {
    const dir = dirs.make();
    const s = await openStore(dir);
    const e = await rejection(NodeStore.open(join(dir, '.')));
    expect(e).toBeInstanceOf(StoreLockedError);
    expect(e).toBeInstanceOf(StoreError);
    expect((e as StoreLockedError).dir).toBe(join(dir, '.'));
    expect(e.message).toContain(join(dir, '.'));
    expect(e.message).toMatch(/one store per node/);
    await expect(NodeStore.destroy(dir)).rejects.toBeInstanceOf(StoreLockedError);
    await expect(NodeStore.repair(dir)).rejects.toBeInstanceOf(StoreLockedError);
    await s.close();
    await openStore(dir); // free again
  });

  it('a dir held by another process fails with StoreLockedError', async () => {
    const dir = dirs.make();
    (await NodeStore.open(dir)).close().catch(() => undefined);
    // The holder opens the store with `level` and prints `ready`; it exits when stdin closes.
    const holder = spawn(
      process.execPath,
      [
        '-e',
        "const { Level } = require('level'); const db = new Level(process.argv[1]);" +
          "db.open().then(() => console.log('ready'), (e) => { console.log('failed', e); process.exit(1); });" +
          'process.stdin.on("end", () => db.close().then(() => process.exit(0))); process.stdin.resume();',
        dir,
      ],
      { cwd: process.cwd(), stdio: ['pipe', 'pipe', 'inherit'] },
    );
    children.push(holder);
    const first = await new Promise<string>((res) => {
      createInterface({ input: holder.stdout! }).once('line', res);
    });
    expect(first).toBe('ready');
    const e = await rejection(NodeStore.open(dir));
    expect(e).toBeInstanceOf(StoreLockedError);
    expect(e.message).toContain(dir);
    expect(e.message).toMatch(/another process/);
    await expect(NodeStore.destroy(dir)).rejects.toBeInstanceOf(StoreLockedError);
    expect(existsSync(join(dir, 'CURRENT'))).toBe(true);
    const exited = new Promise((res) => holder.once('exit', res));
    holder.stdin!.end();
    expect(await exited).toBe(0);
    await openStore(dir);
  });

  it('an unusable path fails with a plain StoreError naming the dir', async () => {
    const file = join(dirs.make(), 'file');
    writeFileSync(file, 'x');
    const e = await rejection(NodeStore.open(join(file, 'store')));
    expect(e.constructor).toBe(StoreError);
    expect(e.message).toContain(join(file, 'store'));
    expect(e.cause).toBeDefined();
  });
});

describe('corruption and recovery', () => {
  async function written(): Promise<string> {
    const s = await NodeStore.open(dirs.make());
    await s.saveIncarnation(42);
    await s.savePeers([{ name: 'a', address: 'h:1', lastSeenAliveMs: 5 }]);
    const log = await s.openTopicLog('t', { retentionMs: 60_000, maxMessages: 100 });
    await log.append([
      {
        origin: 'o',
        epoch: 1,
        seq: 1,
        publishedAtMs: 1,
        headers: undefined,
        payload: Uint8Array.of(1),
      },
    ]);
    await s.close();
    return s.dir;
  }

  function expectCorrupt(e: Error, dir: string): void {
    expect(e).toBeInstanceOf(StoreCorruptError);
    expect((e as StoreCorruptError).dir).toBe(dir);
    expect(e.message).toContain(dir);
    expect(e.message).toContain('NodeStore.repair(dir)');
    expect(e.message).toMatch(/deleting the directory/);
  }

  it('garbage in CURRENT -> StoreCorruptError; after repair the data is back', async () => {
    const dir = await written();
    writeFileSync(join(dir, 'CURRENT'), 'garbage\n');
    expectCorrupt(await rejection(NodeStore.open(dir)), dir);
    await NodeStore.repair(dir);
    const s = await openStore(dir);
    expect(await s.loadIncarnation()).toBe(42);
    const log = await s.openTopicLog('t', { retentionMs: 60_000, maxMessages: 100 });
    expect(log.has('o', 1, 1)).toBe(true);
  });

  it('a deleted MANIFEST -> StoreCorruptError; after repair the data is back', async () => {
    const dir = await written();
    for (const f of readdirSync(dir)) if (f.startsWith('MANIFEST-')) rmSync(join(dir, f));
    expectCorrupt(await rejection(NodeStore.open(dir)), dir);
    await NodeStore.repair(dir);
    const s = await openStore(dir);
    expect((await s.loadPeers()).map((p) => p.name)).toEqual(['a']);
  });

  it('after destroy the dir opens again, empty', async () => {
    const dir = await written();
    writeFileSync(join(dir, 'CURRENT'), 'garbage\n');
    await NodeStore.destroy(dir);
    expect(existsSync(dir)).toBe(false);
    const s = await openStore(dir);
    expect(await s.loadIncarnation()).toBe(0);
  });
});
