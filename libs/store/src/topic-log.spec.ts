import { afterEach, describe, expect, it } from '@jest/globals';
import { ClassicLevel } from 'classic-level';
import { NodeStore } from './node-store.js';
import { logKey, logTopicRange, markKey, unhandledKey } from './store-keys.js';
import { TempDirs } from './store-test-dirs.js';
import type { DurableRecord, TopicLog, TopicLogOptions } from './topic-log.js';

const dirs = new TempDirs();
const stores: NodeStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
  dirs.cleanup();
});

/** A clock the test moves by hand. */
class FakeClock {
  now = 1_000_000;
  readonly read = (): number => this.now;
}

async function openStore(dir: string, clock?: FakeClock): Promise<NodeStore> {
  const s = await NodeStore.open(dir, clock === undefined ? {} : { clock: clock.read });
  stores.push(s);
  return s;
}

async function reopen(s: NodeStore, clock?: FakeClock): Promise<NodeStore> {
  await s.close();
  return openStore(s.dir, clock);
}

const BIG: TopicLogOptions = { retentionMs: 3_600_000, maxMessages: 1_000_000 };

function rec(origin: string, epoch: number, seq: number, size = 8): DurableRecord {
  const payload = new Uint8Array(size).fill(seq & 0xff);
  return {
    origin,
    epoch,
    seq,
    publishedAtMs: 500 + seq,
    headers: { 'content-type': 'x' },
    payload,
  };
}
const ids = (rs: readonly DurableRecord[]): string[] =>
  rs.map((r) => `${r.origin}/${r.epoch.toString()}/${r.seq.toString()}`);
const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('append, has, marks', () => {
  it('appends new records, skips known ones and duplicates, and tracks hwm over gaps', async () => {
    const log = await (await openStore(dirs.make())).openTopicLog('orders', BIG);
    expect(ids(await log.append([rec('a', 1, 1), rec('a', 1, 2), rec('a', 1, 2)]))).toEqual([
      'a/1/1',
      'a/1/2',
    ]);
    expect(ids(await log.append([rec('a', 1, 2), rec('a', 1, 5), rec('b', 7, 1)]))).toEqual([
      'a/1/5',
      'b/7/1',
    ]);
    expect(log.has('a', 1, 2)).toBe(true);
    expect(log.has('a', 1, 3)).toBe(false);
    expect(log.has('a', 1, 5)).toBe(true);
    expect(log.has('a', 2, 1)).toBe(false);
    expect(log.has('c', 1, 1)).toBe(false);
    expect(sorted(log.marks())).toEqual([
      { origin: 'a', epoch: 1, hwm: 2, lastSeq: 5 },
      { origin: 'b', epoch: 7, hwm: 1, lastSeq: 1 },
    ]);
    await log.append([rec('a', 1, 4), rec('a', 1, 3)]);
    expect(sorted(log.marks())[0]).toEqual({ origin: 'a', epoch: 1, hwm: 5, lastSeq: 5 });
    expect(log.stats()).toEqual({
      messages: 6,
      bytes: 48,
      streams: 2,
      appended: 6,
      trimmed: 0,
      corruptRecords: 0,
    });
  });

  it('rejects invalid records without writing any of the batch', async () => {
    const log = await (await openStore(dirs.make())).openTopicLog('t', BIG);
    await expect(log.append([rec('a', 1, 1), { ...rec('a', 1, 2), seq: 0 }])).rejects.toThrow(
      /seq must be a safe integer >= 1/,
    );
    await expect(log.append([{ ...rec('a', 1, 1), epoch: -1 }])).rejects.toThrow(TypeError);
    expect(log.has('a', 1, 1)).toBe(false);
    expect(log.marks()).toEqual([]);
    expect(log.stats()).toMatchObject({ messages: 0, streams: 0 });
  });

  it('serializes concurrent appends of overlapping records', async () => {
    const log = await (await openStore(dirs.make())).openTopicLog('t', BIG);
    const batches = range(0, 9).map((i) => range(1 + i * 5, 20 + i * 5).map((q) => rec('a', 1, q)));
    const results = await Promise.all(batches.map((b) => log.append(b)));
    const all = results.flat().map((r) => r.seq);
    expect(all.sort((x, y) => x - y)).toEqual(range(1, 65));
    expect(log.marks()).toEqual([{ origin: 'a', epoch: 1, hwm: 65, lastSeq: 65 }]);
  });

  it('returns the same object for a second open of the same topic', async () => {
    const s = await openStore(dirs.make());
    const [a, b] = await Promise.all([s.openTopicLog('t', BIG), s.openTopicLog('t', BIG)]);
    expect(a).toBe(b);
    expect(await s.openTopicLog('t', BIG)).toBe(a);
    expect(await s.openTopicLog('u', BIG)).not.toBe(a);
  });

  it('refuses invalid options, naming every problem', async () => {
    const s = await openStore(dirs.make());
    await expect(s.openTopicLog('t', { retentionMs: 0, maxMessages: 1.5 })).rejects.toThrow(
      /retentionMs must be an integer >= 1.*maxMessages must be an integer >= 1/,
    );
  });

  it('keeps topics apart, also topics whose names extend each other or hold separators', async () => {
    const s = await openStore(dirs.make());
    const names = ['a', 'a\0b', 'a\x01', 'ab', 'a!b'];
    const logs = await Promise.all(names.map((n) => s.openTopicLog(n, BIG)));
    for (const [i, log] of logs.entries()) await log.append([rec(`o\0${i.toString()}`, 1, i + 1)]);
    const s2 = await reopen(s);
    for (const [i, n] of names.entries()) {
      const log = await s2.openTopicLog(n, BIG);
      expect(log.marks()).toEqual([
        { origin: `o\0${i.toString()}`, epoch: 1, hwm: i === 0 ? 1 : 0, lastSeq: i + 1 },
      ]);
      const r = await log.readMissing([], { maxMessages: 10, maxBytes: 1 << 20 });
      expect(ids(r.records)).toEqual([`o\0${i.toString()}/1/${(i + 1).toString()}`]);
    }
  });
});

function sorted<T extends { origin: string; epoch: number }>(xs: T[]): T[] {
  return [...xs].sort((a, b) =>
    a.origin < b.origin ? -1 : a.origin > b.origin ? 1 : a.epoch - b.epoch,
  );
}

describe('reopen', () => {
  it('keeps records, has, marks and payloads across close and open', async () => {
    const s = await openStore(dirs.make('nested/store'));
    const log = await s.openTopicLog('t', BIG);
    await log.append([rec('a', 1, 1), rec('a', 1, 2), rec('a', 1, 4), rec('b', 2, 3, 100)]);
    const marks = sorted(log.marks());
    const before = await log.readMissing([], { maxMessages: 100, maxBytes: 1 << 20 });
    const s2 = await reopen(s);
    const log2 = await s2.openTopicLog('t', BIG);
    expect(log2).not.toBe(log);
    expect(sorted(log2.marks())).toEqual(marks);
    for (const [o, e, q, want] of [
      ['a', 1, 1, true],
      ['a', 1, 3, false],
      ['a', 1, 4, true],
      ['b', 2, 3, true],
      ['b', 2, 1, false],
    ] as const) {
      expect(log2.has(o, e, q)).toBe(want);
    }
    const after = await log2.readMissing([], { maxMessages: 100, maxBytes: 1 << 20 });
    expect(after).toEqual(before);
    expect(after.records[3]!.headers).toEqual({ 'content-type': 'x' });
    expect(log2.stats()).toMatchObject({ messages: 4, bytes: 124, streams: 2, appended: 0 });
  });
});

describe('handled marks: at least once across a crash', () => {
  it('hands back, once and in key order, what was appended and never marked handled', async () => {
    const s = await openStore(dirs.make());
    const log = await s.openTopicLog('t', BIG);
    await log.append([rec('b', 1, 1), rec('a', 1, 2), rec('a', 1, 1), rec('a', 2, 1)]);
    expect(log.takeUnhandled()).toEqual([]);
    log.markHandled('a', 1, 1);
    log.markHandled('b', 1, 1);
    log.markHandled('zz', 1, 1);
    // The process dies before a2 and a/2/1 are handled (close flushes the marks made so far).
    const log2 = await (await reopen(s)).openTopicLog('t', BIG);
    const back = log2.takeUnhandled();
    expect(ids(back)).toEqual(['a/1/2', 'a/2/1']);
    expect(back[0]).toEqual(rec('a', 1, 2));
    expect(log2.takeUnhandled()).toEqual([]);
    // Still unhandled on disk until marked: a second crash hands them again.
    const s3 = await reopen(stores.at(-1)!);
    const log3 = await s3.openTopicLog('t', BIG);
    expect(ids(log3.takeUnhandled())).toEqual(['a/1/2', 'a/2/1']);
    log3.markHandled('a', 1, 2);
    log3.markHandled('a', 2, 1);
    const log4 = await (await reopen(s3)).openTopicLog('t', BIG);
    expect(log4.takeUnhandled()).toEqual([]);
    expect(log4.stats().corruptRecords).toBe(0);
  });

  it('writes the handled marks of one turn in one batch, after the append', async () => {
    const s = await openStore(dirs.make());
    const log = await s.openTopicLog('t', BIG);
    await log.append(range(1, 50).map((q) => rec('a', 1, q)));
    for (const q of range(1, 50)) log.markHandled('a', 1, q);
    // Flushed without a close: a later append queues behind the batch of marks.
    await log.append([rec('a', 1, 51)]);
    const raw = new ClassicLevel<string, Uint8Array>(s.dir, {
      keyEncoding: 'utf8',
      valueEncoding: 'view',
    });
    await s.close();
    await raw.open();
    const left: string[] = [];
    for await (const k of raw.keys({ gt: 'u\0', lt: 'u\x01' })) left.push(k);
    await raw.close();
    expect(left).toEqual([unhandledKey('t', { origin: 'a', epoch: 1, seq: 51 })]);
  });

  it('forgets an unhandled record that retention trims', async () => {
    const clock = new FakeClock();
    const s = await openStore(dirs.make(), clock);
    const log = await s.openTopicLog('t', { retentionMs: 1_000, maxMessages: 100 });
    await log.append([rec('a', 1, 1)]);
    clock.now += 500;
    await log.append([rec('a', 1, 2)]);
    clock.now += 600;
    expect(await log.trim()).toBe(1);
    const log2 = await (
      await reopen(s, clock)
    ).openTopicLog('t', { retentionMs: 1_000, maxMessages: 100 });
    expect(ids(log2.takeUnhandled())).toEqual(['a/1/2']);
    expect(log2.stats().corruptRecords).toBe(0);
  });

  it('ignores marks after close', async () => {
    const s = await openStore(dirs.make());
    const log = await s.openTopicLog('t', BIG);
    await log.append([rec('a', 1, 1)]);
    await s.close();
    expect(() => log.markHandled('a', 1, 1)).not.toThrow();
  });
});

describe('retention', () => {
  it('by count: trims the oldest appends, which stay has', async () => {
    const clock = new FakeClock();
    const s = await openStore(dirs.make(), clock);
    const log = await s.openTopicLog('t', { retentionMs: 3_600_000, maxMessages: 10 });
    for (const q of range(1, 11)) {
      clock.now += 1;
      await log.append([rec('a', 1, q)]);
    }
    // 11 is within the 10% slack: no automatic trim yet.
    expect(log.stats().messages).toBe(11);
    expect(await log.trim()).toBe(1);
    expect(log.stats()).toMatchObject({ messages: 10, trimmed: 1 });
    expect(log.has('a', 1, 1)).toBe(true);
    const r = await log.readMissing([], { maxMessages: 100, maxBytes: 1 << 20 });
    expect(r.records.map((x) => x.seq)).toEqual(range(2, 11));
    expect(await log.trim()).toBe(0);
  });

  it('by count: runs by itself once over maxMessages by more than 10%', async () => {
    const log = await (
      await openStore(dirs.make())
    ).openTopicLog('t', {
      retentionMs: 3_600_000,
      maxMessages: 10,
    });
    await log.append(range(1, 11).map((q) => rec('a', 1, q)));
    expect(log.stats().messages).toBe(11);
    await log.append([rec('a', 1, 12)]);
    expect(log.stats()).toMatchObject({ messages: 10, trimmed: 2 });
  });

  it('by age (append time): trimmed gaps are given up, trimmed records stay has after reopen', async () => {
    const clock = new FakeClock();
    const s = await openStore(dirs.make(), clock);
    const opts = { retentionMs: 1_000, maxMessages: 1_000 };
    const log = await s.openTopicLog('t', opts);
    await log.append([rec('a', 1, 1), rec('a', 1, 3), rec('b', 1, 1)]); // a:2 missing
    clock.now += 600;
    await log.append([rec('a', 1, 5), rec('b', 1, 2)]);
    clock.now += 500; // first batch is 1,100 ms old, second 500 ms
    expect(await log.trim()).toBe(3);
    expect(sorted(log.marks())).toEqual([
      { origin: 'a', epoch: 1, hwm: 3, lastSeq: 5 },
      { origin: 'b', epoch: 1, hwm: 2, lastSeq: 2 },
    ]);
    expect([1, 2, 3, 4, 5].map((q) => log.has('a', 1, q))).toEqual([true, true, true, false, true]);
    const s2 = await reopen(s, clock);
    const log2 = await s2.openTopicLog('t', opts);
    expect(sorted(log2.marks())).toEqual(sorted(log.marks()));
    expect([1, 2, 3, 4, 5].map((q) => log2.has('a', 1, q))).toEqual([
      true,
      true,
      true,
      false,
      true,
    ]);
    expect(log2.stats()).toMatchObject({ messages: 2, streams: 2 });
    const r = await log2.readMissing([], { maxMessages: 100, maxBytes: 1 << 20 });
    expect(ids(r.records)).toEqual(['a/1/5', 'b/1/2']);
  });

  it('forgets a stream with no records whose newest append is older than 2x retention', async () => {
    const clock = new FakeClock();
    const s = await openStore(dirs.make(), clock);
    const opts = { retentionMs: 1_000, maxMessages: 1_000 };
    const log = await s.openTopicLog('t', opts);
    await log.append([rec('old', 1, 1)]);
    clock.now += 1_500;
    await log.append([rec('new', 1, 1)]);
    expect(await log.trim()).toBe(1);
    expect(log.has('old', 1, 1)).toBe(true); // trimmed, remembered
    clock.now += 600; // old's newest append is 2,100 ms ago; new's 600 ms
    expect(await log.trim()).toBe(0);
    expect(log.has('old', 1, 1)).toBe(false);
    expect(log.marks().map((m) => m.origin)).toEqual(['new']);
    const log2 = await (await reopen(s, clock)).openTopicLog('t', opts);
    expect(log2.marks().map((m) => m.origin)).toEqual(['new']);
    expect(log2.stats().streams).toBe(1);
  });
});

describe('readMissing', () => {
  async function filled(): Promise<TopicLog> {
    const log = await (await openStore(dirs.make())).openTopicLog('t', BIG);
    await log.append([
      ...range(1, 5).map((q) => rec('b', 2, q)),
      ...range(1, 3).map((q) => rec('a', 9, q)),
      ...range(1, 4).map((q) => rec('a', 10, q)),
      ...[1, 2, 4].map((q) => rec('c', 0, q)),
    ]);
    return log;
  }
  const all = { maxMessages: 1000, maxBytes: 1 << 20 };

  it('returns everything in (origin, epoch, seq) order for empty marks', async () => {
    const r = await (await filled()).readMissing([], all);
    expect(r.more).toBe(false);
    expect(ids(r.records)).toEqual([
      ...range(1, 3).map((q) => `a/9/${q.toString()}`),
      ...range(1, 4).map((q) => `a/10/${q.toString()}`),
      ...range(1, 5).map((q) => `b/2/${q.toString()}`),
      ...[1, 2, 4].map((q) => `c/0/${q.toString()}`),
    ]);
    expect([...r.records[0]!.payload]).toEqual(new Array<number>(8).fill(1));
    expect(r.records[0]!.publishedAtMs).toBe(501);
  });

  it('returns only seqs above the peer hwm, and all of streams it does not list', async () => {
    const r = await (
      await filled()
    ).readMissing(
      [
        { origin: 'a', epoch: 9, hwm: 3 },
        { origin: 'a', epoch: 10, hwm: 2 },
        { origin: 'b', epoch: 2, hwm: 99 },
        { origin: 'c', epoch: 0, hwm: 1 },
        { origin: 'zz', epoch: 1, hwm: 4 },
      ],
      all,
    );
    expect(ids(r.records)).toEqual(['a/10/3', 'a/10/4', 'c/0/2', 'c/0/4']);
    expect(r.more).toBe(false);
  });

  it('pages by maxMessages with `more`, and the pages join up to the whole log', async () => {
    const log = await filled();
    const seen: string[] = [];
    let marks: { origin: string; epoch: number; hwm: number }[] = [];
    const pages: boolean[] = [];
    for (;;) {
      const r = await log.readMissing(marks, { maxMessages: 4, maxBytes: 1 << 20 });
      expect(r.records.length).toBeLessThanOrEqual(4);
      seen.push(...ids(r.records));
      pages.push(r.more);
      const last = new Map(marks.map((m) => [`${m.origin}/${m.epoch.toString()}`, m]));
      for (const x of r.records) {
        last.set(`${x.origin}/${x.epoch.toString()}`, {
          origin: x.origin,
          epoch: x.epoch,
          hwm: x.seq,
        });
      }
      marks = [...last.values()];
      if (!r.more) break;
    }
    expect(pages).toEqual([true, true, true, false]);
    expect(seen).toEqual(ids((await log.readMissing([], all)).records));
    // An exact fit ends with more=false.
    expect((await log.readMissing([], { maxMessages: 15, maxBytes: 1 << 20 })).more).toBe(false);
    expect((await log.readMissing([], { maxMessages: 14, maxBytes: 1 << 20 })).more).toBe(true);
  });

  it('stops at about maxBytes of payload, but always returns one record', async () => {
    const log = await (await openStore(dirs.make())).openTopicLog('t', BIG);
    await log.append(range(1, 10).map((q) => rec('a', 1, q, 100)));
    const r = await log.readMissing([], { maxMessages: 100, maxBytes: 350 });
    expect(r.records.map((x) => x.seq)).toEqual([1, 2, 3]);
    expect(r.more).toBe(true);
    const one = await log.readMissing([], { maxMessages: 100, maxBytes: 10 });
    expect(one.records.map((x) => x.seq)).toEqual([1]);
    expect(one.more).toBe(true);
    const tail = await log.readMissing([{ origin: 'a', epoch: 1, hwm: 9 }], {
      maxMessages: 100,
      maxBytes: 10,
    });
    expect(tail).toMatchObject({ more: false });
    expect(tail.records.map((x) => x.seq)).toEqual([10]);
  });

  it('returns nothing from an empty log', async () => {
    const log = await (await openStore(dirs.make())).openTopicLog('t', BIG);
    expect(await log.readMissing([], all)).toEqual({ records: [], more: false });
  });
});

describe('closed store', () => {
  it('refuses log calls after close', async () => {
    const s = await openStore(dirs.make());
    const log = await s.openTopicLog('t', BIG);
    const pending = log.append([rec('a', 1, 1)]);
    await s.close();
    expect(await pending).toHaveLength(1);
    await expect(log.append([rec('a', 1, 2)])).rejects.toThrow(/closed/);
    await expect(log.readMissing([], all())).rejects.toThrow(/closed/);
    await expect(log.trim()).rejects.toThrow(/closed/);
  });
});

function all(): { maxMessages: number; maxBytes: number } {
  return { maxMessages: 10, maxBytes: 1 << 20 };
}

describe('damaged entries', () => {
  it('skips and counts undecodable records; a lost mark is rebuilt from the records', async () => {
    const s = await openStore(dirs.make());
    const log = await s.openTopicLog('t', BIG);
    await log.append([rec('a', 1, 1), rec('a', 1, 2), rec('a', 1, 3)]);
    for (const q of [1, 2, 3]) log.markHandled('a', 1, q);
    await s.close();
    const raw = new ClassicLevel<string, Uint8Array>(s.dir, {
      keyEncoding: 'utf8',
      valueEncoding: 'view',
    });
    await raw.open();
    await raw.put(logKey('t', 'a', 1, 2), Uint8Array.of(1, 2, 3));
    await raw.del(markKey('t', 'a', 1));
    await raw.put(`${logTopicRange('t').gt}garbage`, Uint8Array.of(0));
    await raw.close();
    const log2 = await (await openStore(s.dir)).openTopicLog('t', BIG);
    expect(log2.marks()).toEqual([{ origin: 'a', epoch: 1, hwm: 3, lastSeq: 3 }]);
    // The bad key is seen on open; the bad value when a read reaches it.
    expect(log2.stats()).toMatchObject({ messages: 3, bytes: 24, corruptRecords: 1 });
    const r = await log2.readMissing([], { maxMessages: 10, maxBytes: 1 << 20 });
    expect(r.records.map((x) => x.seq)).toEqual([1, 3]);
    expect(log2.stats().corruptRecords).toBe(2);
  });
});
