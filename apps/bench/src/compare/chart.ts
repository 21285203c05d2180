/**
 * The chart of `bench:compare`'s table: one panel per column, one bar per run, each bar labelled
 * with the table's value; an SVG rendered headless by Vega (a Vega-Lite spec compiled and
 * rendered without a browser). Every figure on it comes from the run's results.
 */
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { ratio, type RunFigures } from './figures.js';
import { RUN_LABELS } from './report.js';

/** The panels, top to bottom: title and value of each. */
const PANELS: ReadonlyArray<readonly [string, (r: RunFigures) => number, number]> = [
  ['deliveries/s (higher is better)', (r) => r.deliveriesPerSec, 0],
  ['p50 latency, ms', (r) => r.p50Ms, 2],
  ['p99 latency, ms', (r) => r.p99Ms, 2],
  ['max latency, ms', (r) => r.maxMs, 2],
  ['CPU ms per 1k deliveries, all processes', (r) => r.cpuMsPer1k, 0],
  ['bytes written per delivery, all processes', (r) => r.bytesPerDelivery, 0],
  ['peak subscriber RSS, MB', (r) => r.peakSubscriberRssMB, 0],
  ['lost deliveries', (r) => r.lost, 0],
];

function label(v: number, digits: number): string {
  if (!Number.isFinite(v)) return 'n/a';
  return v.toLocaleString('en-US', {
    maximumFractionDigits: Math.abs(v) >= 100 ? 0 : digits,
    minimumFractionDigits: 0,
  });
}

/** The Vega-Lite spec of the chart (exported for the spec's checks). */
export function chartSpec(
  title: string,
  subtitle: readonly string[],
  results: readonly RunFigures[],
): TopLevelSpec {
  const nats = results.find((r) => r.transport === 'nats');
  const values = PANELS.flatMap(([metric, f, digits]) =>
    results.map((r) => {
      const v = f(r);
      // Against a NATS figure of 0 (lost) a ratio says nothing: the value alone is shown.
      const base = nats !== undefined && r !== nats ? f(nats) : 0;
      const q = base !== 0 ? ratio(v, base) : Number.NaN;
      return {
        metric,
        run: RUN_LABELS[r.transport],
        ours: r.transport.startsWith('ours') ? 'ours (no broker)' : 'Nest + broker',
        value: Number.isFinite(v) ? v : 0,
        // The ratio to NATS beside each other run's value, as in the printed table.
        label: Number.isFinite(q) ? `${label(v, digits)} (${q.toFixed(2)}x)` : label(v, digits),
      };
    }),
  );
  const runs = results.map((r) => RUN_LABELS[r.transport]);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, subtitle: [...subtitle], anchor: 'start', offset: 16 },
    data: { values },
    facet: {
      row: {
        field: 'metric',
        type: 'nominal',
        sort: PANELS.map(([m]) => m),
        title: null,
        header: {
          labelAngle: 0,
          labelAlign: 'left',
          labelAnchor: 'start',
          labelOrient: 'top',
          labelPadding: 2,
          labelFontWeight: 'bold',
        },
      },
    },
    spacing: 18,
    resolve: { scale: { x: 'independent' } },
    spec: {
      width: 420,
      encoding: {
        y: { field: 'run', type: 'nominal', sort: runs, title: null },
        x: { field: 'value', type: 'quantitative', axis: null, stack: null },
      },
      layer: [
        {
          mark: 'bar',
          encoding: {
            // At least [0, 1], so a panel of zeros (lost) draws its labels at the start.
            x: {
              field: 'value',
              type: 'quantitative',
              axis: null,
              stack: null,
              scale: { domain: { unionWith: [0, 1] } },
            },
            color: {
              field: 'ours',
              type: 'nominal',
              title: null,
              scale: {
                domain: ['Nest + broker', 'ours (no broker)'],
                range: ['#4c78a8', '#2ca02c'],
              },
              legend: { orient: 'bottom' },
            },
          },
        },
        { mark: { type: 'text', align: 'left', dx: 4 }, encoding: { text: { field: 'label' } } },
      ],
    },
  };
}

/** The chart as an SVG document. */
export async function renderChart(
  title: string,
  subtitle: readonly string[],
  results: readonly RunFigures[],
): Promise<string> {
  const view = new View(parse(compile(chartSpec(title, subtitle, results)).spec), {
    renderer: 'none',
  });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
