import { describe, expect, it } from '@jest/globals';
import { TransmitLimitedQueue, type QueuedBroadcast } from './transmit-limited-queue.js';

// Ported from memberlist queue_test.go; `named` builds memberlist's memberlistBroadcast (a named
// broadcast whose message is its bytes).
function named(name: string, text = '', finished?: () => void): QueuedBroadcast<string> {
  return { name, message: text || name, size: text.length, ...(finished ? { finished } : {}) };
}

const names = (q: TransmitLimitedQueue<string>): string[] =>
  q.orderedView().map((e) => e.broadcast.name!);

describe('TransmitLimitedQueue', () => {
  it('TestTransmitLimited_Queue: newest first, a named broadcast replaces its predecessor', () => {
    const q = new TransmitLimitedQueue<string>(1, () => 1);
    q.queueBroadcast(named('test'));
    q.queueBroadcast(named('foo'));
    q.queueBroadcast(named('bar'));
    expect(q.length).toBe(3);
    // orderedView is ascending; memberlist's test reads the descending view.
    expect(names(q).reverse()).toEqual(['test', 'foo', 'bar']);
    q.queueBroadcast(named('test'));
    expect(q.length).toBe(3);
    expect(names(q).reverse()).toEqual(['foo', 'bar', 'test']);
  });

  it('TestTransmitLimited_GetBroadcasts: the budget counts the per-message overhead', () => {
    const q = new TransmitLimitedQueue<string>(3, () => 10);
    for (const [n, t] of [
      ['test', '1. this is a test.'],
      ['foo', '2. this is a test.'],
      ['bar', '3. this is a test.'],
      ['baz', '4. this is a test.'],
    ] as const) {
      q.queueBroadcast(named(n, t));
    }
    expect(q.getBroadcasts(2, 80)).toHaveLength(4);
    expect(q.getBroadcasts(3, 80)).toHaveLength(3);
  });

  it('TestTransmitLimited_GetBroadcasts_Limit: each broadcast goes out retransmitLimit times', () => {
    const q = new TransmitLimitedQueue<string>(1, () => 10); // limit 1 * ceil(log10(11)) = 2
    const finished: string[] = [];
    for (const [n, t] of [
      ['test', '1. this is a test.'],
      ['foo', '2. this is a test.'],
      ['bar', '3. this is a test.'],
      ['baz', '4. this is a test.'],
    ] as const) {
      q.queueBroadcast(named(n, t, () => finished.push(n)));
    }
    expect(q.getBroadcasts(3, 80)).toHaveLength(3);
    expect(q.getBroadcasts(3, 80)).toHaveLength(3);
    expect(q.getBroadcasts(3, 80)).toHaveLength(2);
    expect(q.getBroadcasts(3, 80)).toHaveLength(0);
    expect(q.length).toBe(0);
    expect(finished.sort()).toEqual(['bar', 'baz', 'foo', 'test']);
  });

  it('minTransmits raises one broadcast above the retransmit limit (ours: the alive floor)', () => {
    const q = new TransmitLimitedQueue<string>(1, () => 10); // limit 2
    q.queueBroadcast({ ...named('floor', 'f'), minTransmits: 5 });
    q.queueBroadcast(named('plain', 'p'));
    const sent: string[] = [];
    for (let i = 0; i < 8; i++) sent.push(...q.getBroadcasts(2, 100));
    expect(sent.filter((m) => m === 'f')).toHaveLength(5);
    expect(sent.filter((m) => m === 'p')).toHaveLength(2);
    expect(q.length).toBe(0);
  });

  it('prefers the least transmitted, then the largest that fits, then the newest', () => {
    const q = new TransmitLimitedQueue<string>(10, () => 10);
    q.queueBroadcast(named('old-small', 'aaaa'));
    q.queueBroadcast(named('big', 'bbbbbbbbbbbb'));
    q.queueBroadcast(named('new-small', 'cccc'));
    // 12 + 2 fits, then only one 4-byte message: the newest of the two.
    expect(q.getBroadcasts(2, 20)).toEqual(['bbbbbbbbbbbb', 'cccc']);
    // The untransmitted one now leads, then the transmitted ones by size.
    expect(q.getBroadcasts(2, 100)).toEqual(['aaaa', 'bbbbbbbbbbbb', 'cccc']);
  });

  it('skips a message that does not fit and takes a smaller one of the same tier', () => {
    const q = new TransmitLimitedQueue<string>(10, () => 10);
    q.queueBroadcast(named('big', 'x'.repeat(50)));
    q.queueBroadcast(named('small', 'y'.repeat(5)));
    expect(q.getBroadcasts(2, 20)).toEqual(['y'.repeat(5)]);
    expect(q.orderedView().map((e) => [e.broadcast.name, e.transmits])).toEqual([
      ['big', 0],
      ['small', 1],
    ]);
  });

  it('TestTransmitLimited_Prune: keeps the newest, finishes the rest', () => {
    const q = new TransmitLimitedQueue<string>(1, () => 10);
    const finished: string[] = [];
    for (const n of ['test', 'foo', 'bar', 'baz'])
      q.queueBroadcast(named(n, `${n} is a test.`.padEnd(18), () => finished.push(n)));
    q.prune(2);
    expect(q.length).toBe(2);
    expect(finished).toEqual(['test', 'foo']);
    expect(names(q).reverse()).toEqual(['bar', 'baz']);
  });

  it('TestTransmitLimited_ordering: ascending transmits', () => {
    const q = new TransmitLimitedQueue<string>(1, () => 10);
    const insert = (n: string, transmits: number) => q.queueBroadcast(named(n, n), transmits);
    insert('node0', 0);
    insert('node1', 10);
    insert('node2', 3);
    insert('node3', 4);
    insert('node4', 7);
    expect(q.orderedView().map((e) => e.transmits)).toEqual([0, 3, 4, 7, 10]);
  });

  it('invalidates unnamed broadcasts through invalidates(), and never touches unique ones', () => {
    const q = new TransmitLimitedQueue<string>(3, () => 10);
    const finished: string[] = [];
    const topic = (v: string): QueuedBroadcast<string> => ({
      message: v,
      size: v.length,
      invalidates: (other) => other.message.startsWith('dir:'),
      finished: () => finished.push(v),
    });
    q.queueBroadcast(topic('dir:1'));
    q.queueBroadcast({
      message: 'dir:unique',
      size: 10,
      unique: true,
      finished: () => finished.push('dir:unique'),
    });
    q.queueBroadcast(named('dir:named'));
    q.queueBroadcast(topic('dir:2'));
    expect(finished).toEqual(['dir:1']);
    expect(
      q
        .orderedView()
        .map((e) => e.broadcast.message)
        .sort(),
    ).toEqual(['dir:2', 'dir:named', 'dir:unique']);
  });

  it('reset finishes everything', () => {
    const q = new TransmitLimitedQueue<string>(3, () => 10);
    let finished = 0;
    q.queueBroadcast(named('a', 'a', () => finished++));
    q.queueBroadcast(named('b', 'b', () => finished++));
    q.reset();
    expect(q.length).toBe(0);
    expect(finished).toBe(2);
    expect(q.getBroadcasts(2, 100)).toEqual([]);
  });
});
