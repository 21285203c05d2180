/**
 * The figures of one `bench:compare` run from what was measured (pure, unit-tested): the
 * columns of the table, and their ratios to the NATS run. docs/performance.md explains each.
 */
import type { TransportName } from './compare-options.js';

/** What the parent measured during one run. */
export interface RunMeasurements {
  readonly transport: TransportName;
  readonly subs: number;
  readonly messages: number;
  /** Wall-clock ms of the first `emit` call. */
  readonly firstEmitAt: number;
  /** Per subscriber: distinct deliveries, duplicates, time of the last delivery, latencies. */
  readonly subscribers: readonly {
    readonly count: number;
    readonly dups: number;
    readonly invalid: number;
    readonly lastAt: number;
    readonly latMs: Float64Array;
  }[];
  /** CPU (ticks) and bytes written (wchar) of every process of the run, summed, over the run. */
  readonly cpuTicks: number;
  readonly ticksPerSecond: number;
  readonly wchar: number;
  /** Largest VmHWM of the subscriber processes, bytes. */
  readonly peakSubscriberRssBytes: number;
  /** `emit` Observables that errored, and those still pending when the run ended. */
  readonly emitErrors: number;
  readonly emitsUnsettled: number;
  readonly firstEmitError: string | undefined;
  /** Ours: ids still being repaired or deliveries still queued when the run ended. */
  readonly unresolvedAtEnd: number;
}

/** One row of the table. */
export interface RunFigures {
  readonly transport: TransportName;
  /** Distinct deliveries (duplicates excluded). */
  readonly deliveries: number;
  /** Deliveries over the time from the first emit to the last delivery. */
  readonly deliveriesPerSec: number;
  readonly elapsedMs: number;
  /** Publish timestamp to handler call, over every distinct delivery, ms. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** CPU ms per 1,000 deliveries, every process of the run (broker included). */
  readonly cpuMsPer1k: number;
  /** Bytes written per delivery, every process of the run (broker included). */
  readonly bytesPerDelivery: number;
  /** Largest peak resident set of a subscriber, MB (10^6 bytes). */
  readonly peakSubscriberRssMB: number;
  /** Expected deliveries (subs x messages) that never arrived. */
  readonly lost: number;
  readonly duplicates: number;
  /** Deliveries that were not a message of this run (should be 0). */
  readonly invalid: number;
  readonly emitErrors: number;
  readonly emitsUnsettled: number;
  readonly firstEmitError: string | undefined;
  readonly unresolvedAtEnd: number;
}

/** The numeric columns compared with NATS, in table order. */
export const RATIO_COLUMNS = [
  'deliveriesPerSec',
  'p50Ms',
  'p99Ms',
  'maxMs',
  'cpuMsPer1k',
  'bytesPerDelivery',
  'peakSubscriberRssMB',
  'lost',
] as const;
/** One of {@link RATIO_COLUMNS}. */
export type RatioColumn = (typeof RATIO_COLUMNS)[number];

/** Nearest-rank quantiles of the union of `samples`: p50, p99 and max (NaN when empty). */
export function latencySummary(samples: readonly Float64Array[]): {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
} {
  let n = 0;
  for (const s of samples) n += s.length;
  if (n === 0) return { p50Ms: Number.NaN, p99Ms: Number.NaN, maxMs: Number.NaN };
  const all = new Float64Array(n);
  let at = 0;
  for (const s of samples) {
    all.set(s, at);
    at += s.length;
  }
  all.sort();
  const rank = (q: number): number => all[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))]!;
  return { p50Ms: rank(0.5), p99Ms: rank(0.99), maxMs: all[n - 1]! };
}

/** The row of one run. */
export function computeFigures(m: RunMeasurements): RunFigures {
  let deliveries = 0;
  let duplicates = 0;
  let invalid = 0;
  let lastAt = Number.NaN;
  for (const s of m.subscribers) {
    deliveries += s.count;
    duplicates += s.dups;
    invalid += s.invalid;
    if (s.count > 0) lastAt = Number.isNaN(lastAt) ? s.lastAt : Math.max(lastAt, s.lastAt);
  }
  const elapsedMs = lastAt - m.firstEmitAt;
  const cpuMs = (m.cpuTicks * 1000) / m.ticksPerSecond;
  return {
    transport: m.transport,
    deliveries,
    deliveriesPerSec: deliveries > 0 ? (deliveries * 1000) / elapsedMs : 0,
    elapsedMs,
    ...latencySummary(m.subscribers.map((s) => s.latMs)),
    cpuMsPer1k: deliveries > 0 ? (cpuMs * 1000) / deliveries : Number.NaN,
    bytesPerDelivery: deliveries > 0 ? m.wchar / deliveries : Number.NaN,
    peakSubscriberRssMB: m.peakSubscriberRssBytes / 1e6,
    lost: m.subs * m.messages - deliveries,
    duplicates,
    invalid,
    emitErrors: m.emitErrors,
    emitsUnsettled: m.emitsUnsettled,
    firstEmitError: m.firstEmitError,
    unresolvedAtEnd: m.unresolvedAtEnd,
  };
}

/** `a / b`; 1 when both are 0, Infinity when only `b` is. */
export function ratio(a: number, b: number): number {
  if (b === 0) return a === 0 ? 1 : Number.POSITIVE_INFINITY;
  return a / b;
}

/** Each ratio column of `row` divided by NATS's. */
export function ratiosTo(row: RunFigures, nats: RunFigures): Record<RatioColumn, number> {
  const out = {} as Record<RatioColumn, number>;
  for (const c of RATIO_COLUMNS) out[c] = ratio(row[c], nats[c]);
  return out;
}
