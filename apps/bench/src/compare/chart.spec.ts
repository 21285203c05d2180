import { describe, expect, it } from '@jest/globals';
import { chartSpec, renderChart } from './chart.js';
import type { RunFigures } from './figures.js';

const row = (transport: RunFigures['transport'], deliveriesPerSec: number): RunFigures => ({
  transport,
  deliveries: 100,
  deliveriesPerSec,
  elapsedMs: 1,
  p50Ms: 1.5,
  p99Ms: 9,
  maxMs: Number.NaN,
  cpuMsPer1k: 40,
  bytesPerDelivery: 1_268,
  peakSubscriberRssMB: 120,
  lost: 0,
  duplicates: 0,
  invalid: 0,
  emitErrors: 0,
  emitsUnsettled: 0,
  firstEmitError: undefined,
  unresolvedAtEnd: 0,
});

describe('chart', () => {
  const results = [row('nats', 48_943), row('ours-handoff', 1_201)];

  it('has one bar per run and column, labelled with the table value', () => {
    const data = (chartSpec('t', [], results) as { data: { values: Record<string, unknown>[] } })
      .data.values;
    expect(data).toHaveLength(2 * 8);
    expect(data).toContainEqual({
      metric: 'deliveries/s (higher is better)',
      run: 'NATS',
      ours: 'Nest + broker',
      value: 48_943,
      label: '48,943',
    });
    // Other runs show their ratio to NATS, as the table does.
    expect(data).toContainEqual(
      expect.objectContaining({
        metric: 'p99 latency, ms',
        run: 'ours, hand-off',
        label: '9 (1.00x)',
      }),
    );
    // A figure that could not be measured is drawn as an empty bar labelled n/a.
    expect(data).toContainEqual(
      expect.objectContaining({
        metric: 'max latency, ms',
        run: 'ours, hand-off',
        value: 0,
        label: 'n/a',
      }),
    );
  });

  it('renders an SVG document with the runs, the values and the title', async () => {
    const svg = await renderChart('bench:compare: title', ['subtitle'], results);
    expect(svg.startsWith('<svg')).toBe(true);
    for (const s of [
      'bench:compare: title',
      'subtitle',
      'NATS',
      'ours, hand-off',
      '48,943',
      '1,201',
    ]) {
      expect(svg).toContain(s);
    }
  });
});
