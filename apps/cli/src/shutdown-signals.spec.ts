import { afterEach, describe, expect, it } from '@jest/globals';
import { onShutdownSignals, SHUTDOWN_SIGNALS } from './shutdown-signals.js';

describe('onShutdownSignals', () => {
  let dispose: (() => void) | undefined;
  const stderrWrite = process.stderr.write;

  afterEach(() => {
    dispose?.();
    dispose = undefined;
    process.stderr.write = stderrWrite;
  });

  /** Installs the handlers with recorders; stderr lines are kept instead of printed. */
  function install(): { leaves: string[]; exits: number[]; stderr: string[] } {
    const rec = { leaves: [] as string[], exits: [] as number[], stderr: [] as string[] };
    process.stderr.write = ((chunk: string) => {
      rec.stderr.push(chunk);
      return true;
    }) as typeof process.stderr.write;
    dispose = onShutdownSignals(
      (s) => rec.leaves.push(s),
      (code) => rec.exits.push(code),
    );
    return rec;
  }

  it.each(SHUTDOWN_SIGNALS)('the first %s starts the leave and does not exit', (signal) => {
    const rec = install();
    process.emit(signal, signal);
    expect(rec.leaves).toEqual([signal]);
    expect(rec.exits).toEqual([]);
    expect(rec.stderr.join('')).toContain('leaving the cluster');
  });

  it.each([
    ['SIGTERM', 'SIGTERM', 143],
    ['SIGTERM', 'SIGINT', 130],
    ['SIGINT', 'SIGINT', 130],
    ['SIGINT', 'SIGTERM', 143],
  ] as const)('%s then %s exits at once with %i', (first, second, code) => {
    const rec = install();
    process.emit(first, first);
    process.emit(second, second);
    expect(rec.leaves).toEqual([first]);
    expect(rec.exits).toEqual([code]);
  });

  it('removes its listeners when disposed', () => {
    const before = SHUTDOWN_SIGNALS.map((s) => process.listenerCount(s));
    install();
    expect(SHUTDOWN_SIGNALS.map((s) => process.listenerCount(s))).toEqual(before.map((n) => n + 1));
    dispose!();
    dispose = undefined;
    expect(SHUTDOWN_SIGNALS.map((s) => process.listenerCount(s))).toEqual(before);
  });
});
