/**
 * `npm run bench:store -- [options]`: throughput of the per-node store (libs/store) on this
 * machine's disk. `--help` lists the options.
 *
 * 1. Append: `--messages` records with `--payload`-byte payloads appended to a fresh store in
 *    batches of 1, 16 and 256 records (one `TopicLog.append` per batch, one LevelDB batch each).
 * 2. Catch-up read: `readMissing` from empty marks through the whole log written with batches of
 *    256, in pages of 256 records, the marks advanced after each page as a peer would.
 * 3. Ratios of the figures above, from this run.
 * 4. End-to-end catch-up: a durable subscriber that was away pulls `--messages` from a peer's
 *    log over the network and hands them to its handler (catch-up.ts).
 * 5. Durable versus plain delivery: two nodes on loopback deliver the same messages on a plain
 *    topic and on a durable one, alternating rounds, in this run (delivery-overhead.ts).
 *
 * Every figure is measured wall-clock time in this process; nothing is estimated.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { NodeStore, type DurableRecord, type TopicLog } from '@plumtree/store';
import { parseStoreBenchArgs, USAGE, UsageError, type StoreBenchOptions } from './bench-options.js';
import { measureCatchUp } from './catch-up.js';
import { measureDeliveryOverhead } from './delivery-overhead.js';

/** One append measurement. */
interface AppendFigure {
  readonly batch: number;
  readonly messages: number;
  readonly ms: number;
  readonly messagesPerSec: number;
  readonly mibPerSec: number;
}

/** The catch-up measurement. */
interface ReadFigure {
  /** openTopicLog after the reopen: the in-memory index rebuilt from disk. */
  readonly rebuildMs: number;
  readonly pageSize: number;
  readonly pages: number;
  readonly messages: number;
  readonly ms: number;
  readonly messagesPerSec: number;
  readonly mibPerSec: number;
}

const BATCHES = [1, 16, 256] as const;
const PAGE = 256;
const TOPIC = 'bench';

function records(from: number, count: number, payload: Uint8Array): DurableRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    origin: 'publisher-1',
    epoch: 1_764_000_000_000,
    seq: from + i,
    publishedAtMs: Date.now(),
    headers: { 'content-type': 'application/octet-stream' },
    payload,
  }));
}

async function openLog(store: NodeStore, opts: StoreBenchOptions): Promise<TopicLog> {
  // Retention above the run's size: the bench measures appends, not trimming.
  return store.openTopicLog(TOPIC, { retentionMs: 3_600_000, maxMessages: opts.messages * 2 });
}

async function benchAppend(
  root: string,
  batch: number,
  opts: StoreBenchOptions,
): Promise<AppendFigure> {
  const store = await NodeStore.open(join(root, `append-${batch.toString()}`));
  try {
    const log = await openLog(store, opts);
    const payload = new Uint8Array(opts.payload).fill(0x5a);
    const t0 = performance.now();
    for (let seq = 1; seq <= opts.messages; seq += batch) {
      await log.append(records(seq, Math.min(batch, opts.messages - seq + 1), payload));
    }
    const ms = performance.now() - t0;
    if (log.stats().messages !== opts.messages) throw new Error('append lost records');
    return {
      batch,
      messages: opts.messages,
      ms,
      messagesPerSec: (opts.messages * 1000) / ms,
      mibPerSec: (opts.messages * opts.payload * 1000) / ms / (1 << 20),
    };
  } finally {
    await store.close();
  }
}

async function benchCatchUp(root: string, opts: StoreBenchOptions): Promise<ReadFigure> {
  // Reopened: the read starts from what is on disk, as after a restart.
  const store = await NodeStore.open(
    join(root, `append-${BATCHES[BATCHES.length - 1]!.toString()}`),
  );
  try {
    const r0 = performance.now();
    const log = await openLog(store, opts);
    const rebuildMs = performance.now() - r0;
    let marks: { origin: string; epoch: number; hwm: number }[] = [];
    let messages = 0;
    let pages = 0;
    const t0 = performance.now();
    for (;;) {
      const page = await log.readMissing(marks, { maxMessages: PAGE, maxBytes: 64 << 20 });
      pages++;
      messages += page.records.length;
      const last = page.records[page.records.length - 1];
      if (last !== undefined) marks = [{ origin: last.origin, epoch: last.epoch, hwm: last.seq }];
      if (!page.more) break;
    }
    const ms = performance.now() - t0;
    if (messages !== opts.messages) {
      throw new Error(`catch-up read ${messages.toString()} of ${opts.messages.toString()}`);
    }
    return {
      rebuildMs,
      pageSize: PAGE,
      pages,
      messages,
      ms,
      messagesPerSec: (messages * 1000) / ms,
      mibPerSec: (messages * opts.payload * 1000) / ms / (1 << 20),
    };
  } finally {
    await store.close();
  }
}

const f0 = (n: number): string => Math.round(n).toLocaleString('en-US');
const f1 = (n: number): string => n.toFixed(1);
const f2 = (n: number): string => n.toFixed(2);

async function main(): Promise<void> {
  let opts: StoreBenchOptions;
  try {
    opts = parseStoreBenchArgs(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`${e.message}\n${USAGE}\n`);
      process.exit(2);
    }
    throw e;
  }
  if (opts.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const root = mkdtempSync(join(tmpdir(), 'plumtree-bench-store-'));
  try {
    console.log(
      `bench:store  ${f0(opts.messages)} messages, ${opts.payload.toString()}-byte payloads, ` +
        `store under ${root} (Node ${process.version})`,
    );
    console.log('\nappend (TopicLog.append, one LevelDB batch per call)');
    const appends: AppendFigure[] = [];
    for (const batch of BATCHES) {
      const a = await benchAppend(root, batch, opts);
      appends.push(a);
      console.log(
        `  batch ${batch.toString().padStart(3)}: ${f0(a.messagesPerSec).padStart(9)} msg/s ` +
          `${f1(a.mibPerSec).padStart(7)} MiB/s  (${f0(a.ms)} ms)`,
      );
    }
    const read = await benchCatchUp(root, opts);
    console.log('\ncatch-up read (readMissing from empty marks, whole log, after a reopen)');
    console.log(
      `  pages of ${PAGE.toString()}: ${f0(read.messagesPerSec).padStart(9)} msg/s ` +
        `${f1(read.mibPerSec).padStart(7)} MiB/s  (${f0(read.ms)} ms, ${read.pages.toString()} pages)`,
    );
    console.log(
      `  index rebuild on open (openTopicLog, ${f0(opts.messages)} records): ${f0(read.rebuildMs)} ms`,
    );
    const by = (b: number): AppendFigure => appends.find((a) => a.batch === b)!;
    const ratios = {
      append16vs1: by(16).messagesPerSec / by(1).messagesPerSec,
      append256vs1: by(256).messagesPerSec / by(1).messagesPerSec,
      catchUpVsAppend256: read.messagesPerSec / by(256).messagesPerSec,
    };
    console.log('\nratios (this run)');
    console.log(`  append batch 16 / batch 1:      ${f2(ratios.append16vs1)}x`);
    console.log(`  append batch 256 / batch 1:     ${f2(ratios.append256vs1)}x`);
    console.log(`  catch-up read / append batch 256: ${f2(ratios.catchUpVsAppend256)}x`);
    const catchUp = await measureCatchUp(opts.messages, opts.payload);
    console.log(
      '\nend-to-end catch-up (a durable subscriber restarts and pulls what it missed from a peer)',
    );
    console.log(
      `  ${f0(catchUp.messagesPerSec).padStart(9)} msg/s  (${f0(catchUp.messages)} messages in ${f0(catchUp.ms)} ms from its start, ${catchUp.catchups.toString()} catch-up, ${f0(catchUp.recordsPulled)} records pulled)`,
    );
    const overhead = await measureDeliveryOverhead(opts.messages, opts.payload);
    console.log(
      `\ndurable vs plain delivery (2 nodes on 127.0.0.1, ${f0(opts.messages)} messages per round, best of 2 rounds each)`,
    );
    for (const r of overhead.rounds) {
      console.log(
        `  ${r.topic.padEnd(7)} ${f0(r.deliveriesPerSec).padStart(9)} deliveries/s  (${f0(r.ms)} ms)`,
      );
    }
    console.log(
      `  durable / plain: ${f2(overhead.ratio)}x throughput, +${overhead.overheadUsPerDelivery.toString()} us per delivery`,
    );
    if (opts.json !== undefined) {
      writeFileSync(
        opts.json,
        JSON.stringify(
          {
            messages: opts.messages,
            payload: opts.payload,
            appends,
            catchUp: read,
            ratios,
            endToEndCatchUp: catchUp,
            deliveryOverhead: overhead,
          },
          null,
          2,
        ),
      );
      console.log(`\nfigures written to ${opts.json}`);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(
    `bench:store failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
  );
  process.exit(1);
});
