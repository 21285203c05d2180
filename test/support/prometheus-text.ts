/**
 * Parsing Prometheus text exposition in tests, with parse-prometheus-text-format (a parser ported
 * from the Prometheus Python client), typed here: the package ships no types.
 */
import parsePrometheusTextFormatUntyped from 'parse-prometheus-text-format';

/** One sample of a family (counters, gauges: `value`; histograms: buckets, count, sum). */
export interface PromSample {
  readonly value?: string;
  readonly labels?: Record<string, string>;
  readonly buckets?: Record<string, string>;
  readonly count?: string;
  readonly sum?: string;
}

/** One metric family as the parser returns it. */
export interface PromFamily {
  readonly name: string;
  readonly help: string;
  readonly type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  readonly metrics: readonly PromSample[];
}

const parse = parsePrometheusTextFormatUntyped as unknown as (text: string) => PromFamily[];

/** The families of `text` by name; throws when the text is not valid exposition format. */
export function parsePrometheusText(text: string): Map<string, PromFamily> {
  return new Map(parse(text).map((f) => [f.name, f]));
}

/** The value of the sample of `family` whose labels include `labels` (NaN when none). */
export function sampleValue(
  family: PromFamily | undefined,
  labels: Record<string, string> = {},
): number {
  const s = family?.metrics.find((m) =>
    Object.entries(labels).every(([k, v]) => m.labels?.[k] === v),
  );
  return s?.value === undefined ? Number.NaN : Number(s.value);
}
