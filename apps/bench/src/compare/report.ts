/**
 * The text of `bench:compare`'s results: one table row per run, then each run's ratio to the
 * NATS run, column by column (pure, unit-tested).
 */
import { RATIO_COLUMNS, ratiosTo, type RatioColumn, type RunFigures } from './figures.js';
import type { TransportName } from './compare-options.js';

/** How each run is named in the table and the chart. */
export const RUN_LABELS: Record<TransportName, string> = {
  nats: 'NATS',
  redis: 'Redis',
  'ours-tree': 'ours, in tree',
  'ours-handoff': 'ours, hand-off',
};

const int = (v: number): string =>
  Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : 'n/a';
const ms = (v: number): string =>
  !Number.isFinite(v) ? 'n/a' : v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : int(v);
const times = (v: number): string =>
  Number.isFinite(v) ? `${v.toFixed(2)}x` : Number.isNaN(v) ? 'n/a' : 'inf';

/** Header and formatter of each table column, in order. */
const COLUMNS: ReadonlyArray<readonly [string, (r: RunFigures) => string]> = [
  ['deliveries/s', (r) => int(r.deliveriesPerSec)],
  ['p50 ms', (r) => ms(r.p50Ms)],
  ['p99 ms', (r) => ms(r.p99Ms)],
  ['max ms', (r) => ms(r.maxMs)],
  ['CPU ms/1k', (r) => int(r.cpuMsPer1k)],
  ['bytes/deliv.', (r) => int(r.bytesPerDelivery)],
  ['sub RSS MB', (r) => int(r.peakSubscriberRssMB)],
  ['lost', (r) => int(r.lost)],
  ['dups', (r) => int(r.duplicates)],
  ['emit errors', (r) => int(r.emitErrors)],
];

const RATIO_HEADERS: Record<RatioColumn, string> = {
  deliveriesPerSec: 'deliveries/s',
  p50Ms: 'p50',
  p99Ms: 'p99',
  maxMs: 'max',
  cpuMsPer1k: 'CPU/1k',
  bytesPerDelivery: 'bytes/deliv.',
  peakSubscriberRssMB: 'sub RSS',
  lost: 'lost',
};

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: readonly string[]): string =>
    cells.map((v, c) => (c === 0 ? v.padEnd(widths[c]!) : v.padStart(widths[c]!))).join('  ');
  return [line(header), ...rows.map(line)];
}

/** The results table, the ratios to NATS (when NATS ran) and one line per notable event. */
export function formatResults(title: string, results: readonly RunFigures[]): string {
  const lines = [title, ''];
  lines.push(
    ...table(
      ['run', ...COLUMNS.map(([h]) => h)],
      results.map((r) => [RUN_LABELS[r.transport], ...COLUMNS.map(([, f]) => f(r))]),
    ),
  );
  const nats = results.find((r) => r.transport === 'nats');
  const others = results.filter((r) => r.transport !== 'nats');
  if (nats !== undefined && others.length > 0) {
    lines.push('', 'ratio to NATS (same run; lower is better except deliveries/s)');
    lines.push(
      ...table(
        ['run', ...RATIO_COLUMNS.map((c) => RATIO_HEADERS[c])],
        others.map((r) => {
          const q = ratiosTo(r, nats);
          return [RUN_LABELS[r.transport], ...RATIO_COLUMNS.map((c) => times(q[c]))];
        }),
      ),
    );
  } else if (others.length > 0) {
    lines.push('', 'no NATS run in this invocation: no ratios');
  }
  const notes: string[] = [];
  for (const r of results) {
    const name = RUN_LABELS[r.transport];
    if (r.emitErrors > 0) {
      notes.push(`${name}: ${int(r.emitErrors)} emit errors, first: ${r.firstEmitError ?? '?'}`);
    }
    if (r.emitsUnsettled > 0) {
      notes.push(`${name}: ${int(r.emitsUnsettled)} emits neither completed nor failed`);
    }
    if (r.unresolvedAtEnd > 0) {
      notes.push(
        `${name}: the run ended with ${int(r.unresolvedAtEnd)} messages still being repaired or queued for delivery`,
      );
    }
    if (r.invalid > 0) notes.push(`${name}: ${int(r.invalid)} deliveries of unknown messages`);
  }
  if (notes.length > 0) lines.push('', ...notes);
  return `${lines.join('\n')}\n`;
}
