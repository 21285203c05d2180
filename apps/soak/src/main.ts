/**
 * `npm run soak -- --minutes 30 [--out DIR] [--cache-ttl-s T] [--warmup-s S] [--heap-slope-mb-per-min B]`
 *
 * `--cache-ttl-s` sets every agent's message cache TTL (default: the node's, 120 s); the warm-up
 * defaults to that TTL plus 10 s, the time the caches take to fill (soak.ts).
 *
 * Runs the soak (soak.ts) as root on Linux, then writes to DIR (default `.soak/`):
 * `soak-<minutes>m.svg` (RSS solid and heap dashed of every node over time, faults marked),
 * `soak-<minutes>m.json` (every sample and figure) and `soak-<minutes>m.md` (the figures printed
 * below, for docs). Exits 1 when the checker found a violation or a node's heap grew faster than
 * the bound after warm-up, 2 on bad flags.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { lineChartSvg, type Series } from './chart.js';
import { runSoak, type SoakResult } from './soak.js';

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];
const MB = 1024 * 1024;
/** The node's default message cache TTL (`messageCacheTtlMs`), in seconds. */
const DEFAULT_CACHE_TTL_S = 120;

/** The chart: per node RSS (solid) and heap after GC (dashed), MB over minutes. */
export function soakChart(r: SoakResult): string {
  const nodes = [...new Set(r.samples.map((s) => s.node))].sort();
  const series: Series[] = [];
  nodes.forEach((node, k) => {
    const mine = r.samples.filter((s) => s.node === node);
    for (const [what, pick, dashed] of [
      ['RSS', (s: (typeof mine)[number]) => s.rssBytes, false],
      ['heap', (s: (typeof mine)[number]) => s.heapUsedBytes, true],
    ] as const) {
      const points: { x: number; y: number | null }[] = [];
      mine.forEach((s, j) => {
        // A new life (restart after a kill) breaks the line.
        if (j > 0 && mine[j - 1]!.life !== s.life) points.push({ x: s.t / 60_000, y: null });
        points.push({ x: s.t / 60_000, y: pick(s) / MB });
      });
      series.push({ label: `${node} ${what}`, color: COLORS[k % COLORS.length]!, dashed, points });
    }
  });
  return lineChartSvg({
    title: `Soak, ${r.minutes.toString()} min: RSS (solid) and heap after GC (dashed) per node`,
    xLabel: 'minutes',
    yLabel: 'MB',
    series,
    marks: r.faults.map((f) => ({ x: f.t / 60_000, label: f.label })),
  });
}

/** Median and max of the load samples. */
function loadFigures(load: readonly number[]): string {
  if (load.length === 0) return 'n/a';
  const sorted = [...load].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  return `median ${median.toFixed(1)}, max ${sorted.at(-1)!.toFixed(1)}`;
}

/** The figures as markdown lines (what the run prints). */
export function soakSummary(r: SoakResult): string[] {
  const fmt = (n: number | undefined, d = 2): string => (n === undefined ? 'n/a' : n.toFixed(d));
  const c = r.counts;
  const lines = [
    `Soak of ${r.minutes.toString()} min, started ${new Date(r.startedAt).toISOString()}: 5 agents in network namespaces, 64 messages/s on 4 topics (2 durable), one fault a minute.`,
    '',
    `- publish requests ${String(c['publish'] ?? 0)}, acknowledged ${String(c['ack'] ?? 0)}, deliveries ${String((c['deliver'] ?? 0) + (c['redelivered'] ?? 0))} (redelivered after a crash: ${String(c['redelivered'] ?? 0)}), faults ${String(c['fault'] ?? 0)}, membership events ${String(c['member'] ?? 0)}`,
    `- checker: ${r.violationText.split('\n')[0]!}`,
    `- heap trend after ${(r.warmupMs / 1000).toString()} s of warm-up per life (message cache TTL ${r.cacheTtlMs === undefined ? `${DEFAULT_CACHE_TTL_S.toString()} s, the default` : `${(r.cacheTtlMs / 1000).toString()} s`}), bound ${r.bound.toString()} MB/min: ${r.heapPassed ? 'PASS' : 'FAIL'}`,
    `- machine load (1-minute average, ${r.cpus.toString()} CPUs, shared with other work): ${loadFigures(r.machineLoad)}`,
    '',
    '| node | life | samples after warm-up | heap slope MB/min | RSS slope MB/min | RSS MB first / last / max | heap MB first / last | fds min / max |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const t of r.trends) {
    const s = r.samples.filter((x) => x.node === t.node && x.life === t.life);
    const rss = s.map((x) => x.rssBytes / MB);
    const heap = s.map((x) => x.heapUsedBytes / MB);
    const fds = s.map((x) => x.fds);
    lines.push(
      `| ${t.node} | ${t.life.toString()} | ${t.samples.toString()} | ${fmt(t.heapSlopeMbPerMin, 3)} | ${fmt(t.rssSlopeMbPerMin, 3)} | ${fmt(rss[0], 1)} / ${fmt(rss.at(-1), 1)} / ${fmt(Math.max(...rss), 1)} | ${fmt(heap[0], 1)} / ${fmt(heap.at(-1), 1)} | ${Math.min(...fds).toString()} / ${Math.max(...fds).toString()} |`,
    );
  }
  lines.push('', 'Faults (minute: what):', '');
  for (const f of r.faults) lines.push(`- ${(f.t / 60_000).toFixed(2)}: ${f.label}`);
  return lines;
}

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        minutes: { type: 'string', default: '30' },
        out: { type: 'string', default: '.soak' },
        'cache-ttl-s': { type: 'string' },
        'warmup-s': { type: 'string' },
        'heap-slope-mb-per-min': { type: 'string', default: '1' },
      },
      strict: true,
    }));
  } catch (e) {
    process.stderr.write(`soak: ${(e as Error).message}\n`);
    return 2;
  }
  const minutes = Number(values.minutes);
  const ttlS = values['cache-ttl-s'] === undefined ? undefined : Number(values['cache-ttl-s']);
  const warmupS = Number(values['warmup-s'] ?? (ttlS ?? DEFAULT_CACHE_TTL_S) + 10);
  const bound = Number(values['heap-slope-mb-per-min']);
  if (
    !Number.isInteger(minutes) ||
    minutes < 2 ||
    (ttlS !== undefined && !(Number.isInteger(ttlS) && ttlS >= 1)) ||
    !(warmupS >= 0) ||
    !(bound > 0)
  ) {
    process.stderr.write(
      'soak: --minutes must be an integer >= 2, --cache-ttl-s an integer >= 1, --warmup-s >= 0, --heap-slope-mb-per-min > 0\n',
    );
    return 2;
  }
  const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
  const r = await runSoak({
    minutes,
    repoRoot,
    warmupMs: warmupS * 1000,
    heapSlopeBoundMbPerMin: bound,
    ...(ttlS !== undefined ? { cacheTtlMs: ttlS * 1000 } : {}),
    log: (l) => process.stderr.write(`${l}\n`),
  });
  const out = values.out;
  mkdirSync(out, { recursive: true });
  const base = join(out, `soak-${minutes.toString()}m`);
  writeFileSync(`${base}.svg`, soakChart(r));
  const { history, ...figures } = r;
  writeFileSync(`${base}.json`, `${JSON.stringify(figures, null, 1)}\n`);
  if (r.violations.length > 0) history.writeJsonl(`${base}-history.jsonl`);
  const summary = soakSummary(r);
  writeFileSync(`${base}.md`, `${summary.join('\n')}\n`);
  process.stdout.write(`${summary.join('\n')}\n\nchart: ${base}.svg\n`);
  if (r.violations.length > 0) {
    process.stdout.write(`${r.violationText}\nhistory: ${base}-history.jsonl\n`);
  }
  return r.passed ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`soak: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
