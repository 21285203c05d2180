import { describe, expect, it } from '@jest/globals';
import type { RunFigures } from './figures.js';
import { formatResults } from './report.js';

const row = (over: Partial<RunFigures>): RunFigures => ({
  transport: 'nats',
  deliveries: 160_000,
  deliveriesPerSec: 48_943.4,
  elapsedMs: 3_269,
  p50Ms: 606.2,
  p99Ms: 948,
  maxMs: 1_012.5,
  cpuMsPer1k: 40.2,
  bytesPerDelivery: 1_268.4,
  peakSubscriberRssMB: 120.3,
  lost: 0,
  duplicates: 0,
  invalid: 0,
  emitErrors: 0,
  emitsUnsettled: 0,
  firstEmitError: undefined,
  unresolvedAtEnd: 0,
  ...over,
});

describe('formatResults', () => {
  it('prints one row per run and the ratios to NATS', () => {
    const text = formatResults('title', [
      row({}),
      row({
        transport: 'ours-handoff',
        deliveriesPerSec: 12_975,
        p50Ms: 2.371,
        p99Ms: 48.2,
        lost: 8,
        emitErrors: 225,
        firstEmitError: 'NoSubscribersError: none acknowledged',
      }),
    ]);
    const lines = text.split('\n');
    expect(lines[0]).toBe('title');
    expect(lines[2]).toMatch(/^run\s+deliveries\/s\s+p50 ms\s+p99 ms\s+max ms\s+CPU ms\/1k/);
    expect(lines[3]).toMatch(/^NATS\s+48,943\s+606\s+948\s+1,013\s+40\s+1,268\s+120\s+0\s+0\s+0$/);
    expect(lines[4]).toMatch(
      /^ours, hand-off\s+12,975\s+2\.37\s+48\.2\s+1,013\s+40\s+1,268\s+120\s+8\s+0\s+225$/,
    );
    expect(text).toContain('ratio to NATS');
    expect(text).toMatch(
      /ours, hand-off\s+0\.27x\s+0\.00x\s+0\.05x\s+1\.00x\s+1\.00x\s+1\.00x\s+1\.00x\s+inf/,
    );
    expect(text).toContain(
      'ours, hand-off: 225 emit errors, first: NoSubscribersError: none acknowledged',
    );
  });

  it('says when a run ended with messages still being repaired', () => {
    const text = formatResults('t', [
      row({ transport: 'ours-tree', lost: 12, unresolvedAtEnd: 3 }),
    ]);
    expect(text).toContain(
      'ours, in tree: the run ended with 3 messages still being repaired or queued for delivery',
    );
  });

  it('says so when there is no NATS run to compare with', () => {
    const text = formatResults('t', [row({ transport: 'ours-tree', p50Ms: Number.NaN })]);
    expect(text).toContain('no NATS run in this invocation: no ratios');
    expect(text).toMatch(/ours, in tree\s+48,943\s+n\/a/);
  });
});
