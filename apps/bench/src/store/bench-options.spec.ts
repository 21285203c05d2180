import { describe, expect, it } from '@jest/globals';
import { parseStoreBenchArgs, UsageError } from './bench-options.js';

describe('bench:store options', () => {
  it('has the documented defaults', () => {
    expect(parseStoreBenchArgs([])).toEqual({
      messages: 20_000,
      payload: 1024,
      json: undefined,
      help: false,
    });
  });

  it('parses every option', () => {
    expect(
      parseStoreBenchArgs(['--messages', '500', '--payload', '64', '--json', 'out.json', '--help']),
    ).toEqual({ messages: 500, payload: 64, json: 'out.json', help: true });
  });

  it('names every problem at once', () => {
    let err: unknown;
    try {
      parseStoreBenchArgs(['--messages', '0', '--payload', 'x']);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(/--messages must be in \[1, 10000000\], got 0/);
    expect((err as Error).message).toMatch(/--payload must be an integer, got "x"/);
    expect(() => parseStoreBenchArgs(['--nope'])).toThrow(UsageError);
  });
});
