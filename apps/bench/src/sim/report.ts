import type { MinMean, ScenarioResult } from '@plumtree/sim';

/** One protocol's run as the bench reports it. */
export interface BenchRun {
  readonly result: ScenarioResult;
  /** CPU time of the process during the run (user + system), ms; NaN when runs shared the process. */
  readonly cpuMs: number;
  /** Simulated events processed per wall-clock second. */
  readonly eventsPerSecond: number;
}

const pct = (x: number): string => (Number.isFinite(x) ? `${(x * 100).toFixed(2)}%` : '-');
const num = (x: number, d = 3): string => (Number.isFinite(x) ? x.toFixed(d) : '-');
const minMean = (m: MinMean): string =>
  m.count === 0 ? '-' : `${pct(m.min)} / ${pct(m.mean)} (${m.count})`;

/** Render rows as a fixed-width table with a header rule. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The table of one scenario: one row per protocol. */
export function scenarioTable(runs: readonly BenchRun[]): string {
  const w = runs[0]!.result.config.warmup;
  const oneTopic = runs[0]!.result.config.topics === 1;
  const header = [
    'protocol',
    'reliab. min',
    'reliab. mean',
    oneTopic ? `RMR 1-${w}` : 'RMR warm-up',
    oneTopic ? `RMR ${w + 1}-end` : 'RMR steady',
    'payload/deliv',
    'LDH mean',
    'LDH max',
    'latency ms',
    'ctrl frames',
    'non-sub payload',
    'sim events',
    'events/s',
    'wall s',
    'CPU s',
  ];
  const rows = runs.map(({ result: r, eventsPerSecond, cpuMs }) => {
    const s = r.summary;
    return [
      s.protocol,
      pct(s.reliability.min),
      pct(s.reliability.mean),
      num(s.rmrWarmup),
      num(s.rmrSteady),
      num(s.payloadPerDeliverySteady),
      num(s.ldhMean, 2),
      String(s.ldhMax),
      num(s.meanLatencyMs, 1),
      String(s.counters.controlFrames),
      String(s.counters.payloadFramesAtNonSubscribers),
      String(s.counters.events),
      Math.round(eventsPerSecond).toLocaleString('en-US'),
      num(r.wallMs / 1000, 2),
      num(cpuMs / 1000, 2),
    ];
  });
  const steady = runs[0]!.result.broadcasts.filter((b) => b.steady).length;
  const note =
    `warm-up = broadcasts 1-${w}${oneTopic ? '' : " plus each topic's first"}; steady = the other ${steady}. ` +
    'RMR = payload frames / (delivering nodes - 1) - 1, mean over broadcasts; payload/deliv over steady broadcasts;\n' +
    'reliability = delivering live subscribers / live subscribers (origin excluded); LDH = hops of the last delivery; ' +
    'non-sub payload = payload frames received by non-subscribers of their topic.';
  return `${table(header, rows)}\n${note}`;
}

/** Reliability per crash phase (min / mean (broadcasts)), one row per protocol. */
export function phaseTable(runs: readonly BenchRun[]): string {
  const header = ['protocol', 'before crash', 'during detection', 'after detection'];
  const rows = runs.map(({ result: r }) => {
    const p = r.summary.reliabilityByPhase;
    return [r.summary.protocol, minMean(p.before), minMean(p.during), minMean(p.after)];
  });
  return table(header, rows);
}

/** A scenario's title line. */
export function scenarioTitle(r: ScenarioResult): string {
  const c = r.config;
  const s = r.summary;
  const parts = [
    `nodes=${c.nodes}`,
    `broadcasts=${c.broadcasts}`,
    `topics=${c.topics}`,
    `seed=${c.seed}`,
    `interval=${c.intervalMs}ms`,
    `loss=${(c.lossRate * 100).toFixed(2)}%`,
    c.failPercent > 0 ? `fail=${c.failPercent}%` : 'stable',
  ];
  if (c.latency !== undefined) {
    parts.push(`latency=${c.latency.baseMs}+${c.latency.msPerUnit}*d+U(0,${c.latency.jitterMs})ms`);
  }
  let title = `== ${parts.join(' ')}`;
  if (s.crash !== undefined) {
    title += `\n   crash: ${s.crash.nodes} nodes at t=${(s.crash.atMs / 1000).toFixed(2)}s (after broadcast ${
      c.crashAfterBroadcast ?? Math.ceil(c.broadcasts / 2)
    }), all live nodes knew by t=${(s.crash.allLearnedAtMs / 1000).toFixed(2)}s`;
  }
  return title;
}
