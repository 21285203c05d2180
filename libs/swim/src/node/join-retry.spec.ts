/** retryJoin: memberlist's one-shot join repeated with backoff until a seed answers or time is up. */
import { describe, expect, it } from '@jest/globals';
import { JoinError, retryJoin } from './join-retry.js';

const fast = { initial: 1, max: 4 };

/** A join that fails `failures` times (no seed answered), then answers with 1. */
function flakyJoin(failures: number): { join: () => Promise<number>; calls: () => number } {
  let calls = 0;
  return {
    join: () => {
      calls++;
      return calls <= failures
        ? Promise.reject(new JoinError([`seed:7946: connection refused (${calls.toString()})`]))
        : Promise.resolve(1);
    },
    calls: () => calls,
  };
}

describe('retryJoin', () => {
  it('keeps trying while no seed answers and resolves with the attempt that got an answer', async () => {
    const f = flakyJoin(5);
    const n = await retryJoin(
      f.join,
      ['seed:7946'],
      { timeoutMs: 10_000, backoff: fast },
      new AbortController().signal,
    );
    expect(n).toBe(1);
    expect(f.calls()).toBe(6);
  });

  it('gives up once the timeout has run out, with the last errors and the attempts made', async () => {
    const f = flakyJoin(Number.POSITIVE_INFINITY);
    const err = await retryJoin(
      f.join,
      ['seed:7946'],
      { timeoutMs: 60, backoff: fast },
      new AbortController().signal,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JoinError);
    const j = err as JoinError;
    expect(j.attempts).toBe(f.calls());
    expect(j.attempts).toBeGreaterThan(1);
    expect(j.errors).toEqual([`seed:7946: connection refused (${f.calls().toString()})`]);
    expect(j.message).toMatch(/^failed to join any seed in \d+ attempts over \d+ ms: seed:7946/);
  });

  it('makes exactly one attempt with a zero timeout (memberlist Join)', async () => {
    const f = flakyJoin(1);
    await expect(
      retryJoin(
        f.join,
        ['seed:7946'],
        { timeoutMs: 0, backoff: fast },
        new AbortController().signal,
      ),
    ).rejects.toBeInstanceOf(JoinError);
    expect(f.calls()).toBe(1);
  });

  it('stops waiting at once when the node closes during a backoff pause', async () => {
    const closed = new AbortController();
    let calls = 0;
    const join = (): Promise<number> => {
      calls++;
      // The node closes while the retry waits out its (one minute) pause.
      setImmediate(() => closed.abort());
      return Promise.reject(new JoinError(['s:1: connection refused']));
    };
    const backoff = { initial: 60_000, max: 60_000 };
    const p = retryJoin(join, ['s:1'], { timeoutMs: 600_000, backoff }, closed.signal);
    await expect(p).rejects.toThrow('node closed');
    expect(calls).toBe(1);
  });

  it('does not retry other errors', async () => {
    let calls = 0;
    const boom = (): Promise<number> => {
      calls++;
      return Promise.reject(new Error('closed'));
    };
    await expect(
      retryJoin(boom, ['s:1'], { timeoutMs: 10_000, backoff: fast }, new AbortController().signal),
    ).rejects.toThrow('closed');
    expect(calls).toBe(1);
  });
});
