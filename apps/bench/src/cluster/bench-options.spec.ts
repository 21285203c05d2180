import { describe, expect, it } from '@jest/globals';
import {
  PAYLOAD_HEADER_BYTES,
  parseClusterBenchArgs,
  quantile,
  UsageError,
} from './bench-options.js';
import { makePayload, Phase, readPayload } from './bench-protocol.js';

describe('parseClusterBenchArgs', () => {
  it('has the documented defaults', () => {
    expect(parseClusterBenchArgs([])).toEqual({
      nodes: 8,
      payload: 1024,
      seconds: 5,
      window: 1000,
      burst: undefined,
      modes: ['plumtree', 'flood'],
      keys: false,
      json: undefined,
      help: false,
    });
  });

  it('reads every option', () => {
    expect(
      parseClusterBenchArgs([
        '--nodes',
        '32',
        '--payload',
        '64',
        '--seconds',
        '2',
        '--window',
        '50',
        '--modes',
        'flood',
        '--json',
        'out.json',
        '--keys',
      ]),
    ).toMatchObject({
      nodes: 32,
      payload: 64,
      seconds: 2,
      window: 50,
      modes: ['flood'],
      keys: true,
      json: 'out.json',
    });
  });

  it('lists every problem at once', () => {
    let err: unknown;
    try {
      parseClusterBenchArgs(['--nodes', '0', '--payload', '8', '--modes', 'gossipsub']);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/--nodes must be in \[1, 128\]/);
    expect(msg).toMatch(new RegExp(`--payload must be in \\[${PAYLOAD_HEADER_BYTES.toString()},`));
    expect(msg).toMatch(/--modes: expected plumtree or flood, got "gossipsub"/);
  });

  it('reads --burst, and refuses it with the closed-loop options', () => {
    expect(parseClusterBenchArgs(['--burst', '20000'])).toMatchObject({ burst: 20_000 });
    expect(() => parseClusterBenchArgs(['--burst', '0'])).toThrow(/--burst must be in \[1,/);
    expect(() => parseClusterBenchArgs(['--burst', 'many'])).toThrow(/--burst must be an integer/);
    expect(() =>
      parseClusterBenchArgs(['--burst', '10', '--window', '5', '--seconds', '2']),
    ).toThrow(
      /--window is for the closed loop, not --burst\n--seconds is for the closed loop, not --burst/,
    );
  });

  it('refuses unknown flags', () => {
    expect(() => parseClusterBenchArgs(['--bogus'])).toThrow(UsageError);
  });
});

describe('quantile (nearest rank)', () => {
  it.each([
    [[5], 0.5, 5],
    [[1, 2, 3, 4], 0.5, 2],
    [[4, 3, 2, 1], 0.99, 4],
    [Array.from({ length: 100 }, (_, i) => i + 1), 0.99, 99],
    [Array.from({ length: 100 }, (_, i) => i + 1), 0.5, 50],
  ])('quantile(%j, %d) = %d', (xs, q, want) => {
    expect(quantile(xs, q)).toBe(want);
  });

  it('is NaN for an empty sample', () => {
    expect(quantile([], 0.5)).toBeNaN();
  });
});

describe('benchmark payload header', () => {
  it('round-trips sequence, phase and time, at the requested size', () => {
    const p = makePayload(1024, 123_456, Phase.Latency, 1_795_000_000_123.25);
    expect(p.length).toBe(1024);
    expect(readPayload(p)).toEqual({
      seq: 123_456,
      phase: Phase.Latency,
      atMs: 1_795_000_000_123.25,
    });
  });

  it('reads a header from a view into a larger buffer and refuses a short one', () => {
    const p = makePayload(32, 7, Phase.Target, 1.5);
    const big = new Uint8Array(64);
    big.set(p, 16);
    expect(readPayload(big.subarray(16, 48))).toEqual({ seq: 7, phase: Phase.Target, atMs: 1.5 });
    expect(readPayload(new Uint8Array(PAYLOAD_HEADER_BYTES - 1))).toBeUndefined();
  });
});
