import { describe, expect, it } from '@jest/globals';
import type { DurableRecord } from './durable-log.js';
import { MemoryDurableLog } from './memory-durable-log.js';

const rec = (origin: string, seq: number, epoch = 1): DurableRecord => ({
  origin,
  epoch,
  seq,
  publishedAtMs: seq,
  headers: undefined,
  payload: Uint8Array.of(seq & 0xff),
});

describe('MemoryDurableLog', () => {
  it('appends once, tracks hwm and lastSeq across gaps, and resolves to what it stored', async () => {
    const log = new MemoryDurableLog('t');
    expect(await log.append([rec('a', 1), rec('a', 3), rec('a', 1)])).toEqual([
      rec('a', 1),
      rec('a', 3),
    ]);
    expect(log.marks()).toEqual([{ origin: 'a', epoch: 1, hwm: 1, lastSeq: 3 }]);
    expect(log.has('a', 2, 1)).toBe(false);
    expect(await log.append([rec('a', 2), rec('a', 3)])).toEqual([rec('a', 2)]);
    expect(log.marks()).toEqual([{ origin: 'a', epoch: 1, hwm: 3, lastSeq: 3 }]);
    expect([1, 2, 3, 4].map((s) => log.has('a', 1, s))).toEqual([true, true, true, false]);
  });

  it('serializes appends: a batch issued later sees the earlier one', async () => {
    const log = new MemoryDurableLog('t');
    const [first, second] = await Promise.all([
      log.append([rec('a', 1)]),
      log.append([rec('a', 1), rec('a', 2)]),
    ]);
    expect(first).toHaveLength(1);
    expect(second).toEqual([rec('a', 2)]);
  });

  it('copies payloads, so a reused receive buffer cannot change what it stores', async () => {
    const log = new MemoryDurableLog('t');
    const r = rec('a', 1);
    await log.append([r]);
    r.payload[0] = 99;
    const page = await log.readMissing([], { maxMessages: 10, maxBytes: 1e6 });
    expect(page.records[0]!.payload).toEqual(Uint8Array.of(1));
  });

  it('reads what a requester misses, per stream in seq order, in bounded pages', async () => {
    const log = new MemoryDurableLog('t');
    await log.append([rec('b', 2), rec('a', 2), rec('a', 1), rec('b', 1), rec('a', 3)]);
    const all = await log.readMissing([{ origin: 'a', epoch: 1, hwm: 1 }], {
      maxMessages: 10,
      maxBytes: 1e6,
    });
    expect(all.more).toBe(false);
    expect(all.records.map((r) => `${r.origin}${r.seq}`)).toEqual(['a2', 'a3', 'b1', 'b2']);
    const page = await log.readMissing([], { maxMessages: 2, maxBytes: 1e6 });
    expect(page.records.map((r) => `${r.origin}${r.seq}`)).toEqual(['a1', 'a2']);
    expect(page.more).toBe(true);
    // Always one record, even when it alone exceeds maxBytes.
    const tiny = await log.readMissing([], { maxMessages: 10, maxBytes: 1 });
    expect(tiny.records).toHaveLength(1);
    expect(tiny.more).toBe(true);
  });

  it('evicts the oldest records past maxMessages but keeps their delivered marks', async () => {
    const log = new MemoryDurableLog('t', { maxMessages: 3 });
    await log.append([1, 2, 3, 4, 5].map((s) => rec('a', s)));
    expect(log.size).toBe(3);
    expect(log.has('a', 1, 1)).toBe(true);
    expect(await log.append([rec('a', 1)])).toEqual([]);
    const page = await log.readMissing([], { maxMessages: 10, maxBytes: 1e6 });
    expect(page.records.map((r) => r.seq)).toEqual([3, 4, 5]);
  });

  it('keeps exactly the newest maxMessages records through many evictions and late fills', async () => {
    const log = new MemoryDurableLog('t', { maxMessages: 1500 });
    for (let s = 1; s <= 2500; s++) {
      // Every 100th seq of stream b comes late, after the next 50 were appended.
      const batch = [rec('a', s)];
      if (s % 100 !== 0) batch.push(rec('b', s));
      if (s % 100 === 50 && s > 100) batch.push(rec('b', s - 50));
      await log.append(batch);
    }
    expect(log.size).toBe(1500);
    const page = await log.readMissing([], { maxMessages: 10_000, maxBytes: 1e9 });
    expect(page.records).toHaveLength(1500);
    for (const origin of ['a', 'b']) {
      const seqs = page.records.filter((r) => r.origin === origin).map((r) => r.seq);
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    }
    expect(log.marks().find((m) => m.origin === 'a')).toEqual({
      origin: 'a',
      epoch: 1,
      hwm: 2500,
      lastSeq: 2500,
    });
    expect(log.has('a', 1, 1)).toBe(true);
  });

  it('rejects a non-positive maxMessages', () => {
    expect(() => new MemoryDurableLog('t', { maxMessages: 0 })).toThrow(RangeError);
  });
});
