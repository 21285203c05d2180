/**
 * Crash-test writer for test/e2e/store-crash.test.ts: opens the store in `argv[2]` and appends
 * batches of 16 records with 1 KiB payloads to topic `crash` forever, continuing the stream
 * (origin `writer`, epoch 1) after the highest seq already stored. Prints `ready <hwm>` once
 * open, then `ack <seq>` after each append resolves: every seq up to it was acknowledged. The
 * test SIGKILLs it mid-burst and checks that every acknowledged seq survived.
 */
import { NodeStore } from '@plumtree/store';

/** Records per append. */
const BATCH = 16;
/** Retention large enough that nothing is trimmed during the test. */
const OPTIONS = { retentionMs: 86_400_000, maxMessages: 10_000_000 } as const;

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (dir === undefined) {
    process.stderr.write('usage: crash-writer <store dir>\n');
    process.exit(2);
  }
  const store = await NodeStore.open(dir);
  const log = await store.openTopicLog('crash', OPTIONS);
  let seq = log.marks().find((m) => m.origin === 'writer' && m.epoch === 1)?.lastSeq ?? 0;
  process.stdout.write(`ready ${seq.toString()}\n`);
  const payload = new Uint8Array(1024).fill(0xab);
  for (;;) {
    const batch = Array.from({ length: BATCH }, () => ({
      origin: 'writer',
      epoch: 1,
      seq: ++seq,
      publishedAtMs: Date.now(),
      headers: undefined,
      payload,
    }));
    await log.append(batch);
    process.stdout.write(`ack ${seq.toString()}\n`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`crash-writer: ${String(e)}\n`);
  process.exit(1);
});
