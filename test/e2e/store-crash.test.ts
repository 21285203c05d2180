/**
 * Issue 6 acceptance: a store written by a process killed with SIGKILL during a write burst opens
 * again without losing any acknowledged record. `dist/apps/bench/src/store/crash-writer.js`
 * (built first) appends batches of 16 records with 1 KiB payloads and prints `ack <seq>` after
 * each append resolves; the test kills it after a number of acks read from its stdout (no
 * sleeps), reopens the store in this process and checks that every acknowledged seq is `has` and
 * returned by `readMissing`. Three rounds on the same store: each writer continues the stream.
 *
 * classic-level writes with sync:false: each batch reaches the OS (write(2) to the LevelDB log)
 * before the append resolves, and a process kill loses nothing the OS already has. A power loss
 * could lose the tail; that is not what this test covers.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { NodeStore } from '@plumtree/store';
import { buildDist, repoRoot } from './support/topic-agents.js';

const OPTIONS = { retentionMs: 86_400_000, maxMessages: 10_000_000 } as const;
const ACKS_BEFORE_KILL = [50, 120, 200];
const figures: string[] = [];
let root = '';
const children: ChildProcess[] = [];

beforeAll(() => {
  buildDist();
  root = mkdtempSync(join(tmpdir(), 'plumtree-store-crash-'));
}, 300_000);

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  if (root !== '') rmSync(root, { recursive: true, force: true });
  console.log(`store-crash figures:\n  ${figures.join('\n  ')}`);
});

/** Runs a writer until `acks` acks, SIGKILLs it; resolves to its `ready` hwm and last ack. */
async function writeAndKill(
  dir: string,
  acks: number,
): Promise<{ start: number; lastAck: number }> {
  const child = spawn(
    process.execPath,
    [join(repoRoot, 'dist/apps/bench/src/store/crash-writer.js'), dir],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(child);
  let start = -1;
  let lastAck = 0;
  let seen = 0;
  // 'close' comes after the process exited AND its stdout ended: every line has been read.
  const closed = new Promise<NodeJS.Signals | null>((res) =>
    child.once('close', (_c, s) => res(s)),
  );
  const lines = createInterface({ input: child.stdout! });
  lines.on('line', (line) => {
    const [kind, n] = line.split(' ');
    if (kind === 'ready') start = Number(n);
    if (kind !== 'ack') return;
    lastAck = Number(n);
    if (++seen === acks) child.kill('SIGKILL');
  });
  const signal = await closed;
  expect(signal).toBe('SIGKILL');
  return { start, lastAck };
}

describe('kill -9 during a write burst', () => {
  it('loses no acknowledged record, over three crashes of the same store', async () => {
    const dir = join(root, 'node-1');
    let expectedStart = 0;
    for (const acks of ACKS_BEFORE_KILL) {
      const { start, lastAck } = await writeAndKill(dir, acks);
      // The writer continued after everything the previous one stored (acknowledged or not).
      expect(start).toBeGreaterThanOrEqual(expectedStart);
      expect(lastAck).toBeGreaterThanOrEqual(start + acks * 16);

      const store = await NodeStore.open(dir);
      try {
        const log = await store.openTopicLog('crash', OPTIONS);
        const missing: number[] = [];
        for (let q = 1; q <= lastAck; q++) if (!log.has('writer', 1, q)) missing.push(q);
        expect(missing).toEqual([]);
        const [mark] = log.marks();
        expect(mark!.hwm).toBeGreaterThanOrEqual(lastAck);
        let seqs: number[] = [];
        let hwm = 0;
        for (;;) {
          const page = await log.readMissing([{ origin: 'writer', epoch: 1, hwm }], {
            maxMessages: 256,
            maxBytes: 1 << 20,
          });
          seqs = seqs.concat(page.records.map((r) => r.seq));
          for (const r of page.records) expect(r.payload.length).toBe(1024);
          if (page.records.length > 0) hwm = page.records[page.records.length - 1]!.seq;
          if (!page.more) break;
        }
        expect(seqs.slice(0, lastAck)).toEqual(Array.from({ length: lastAck }, (_, i) => i + 1));
        expect(log.stats().corruptRecords).toBe(0);
        figures.push(
          `killed after ${acks.toString()} acks: last ack ${lastAck.toString()}, ` +
            `stored ${mark!.lastSeq.toString()} (${(mark!.lastSeq - lastAck).toString()} beyond the last ack)`,
        );
        expectedStart = mark!.lastSeq;
      } finally {
        await store.close();
      }
    }
  }, 120_000);
});
