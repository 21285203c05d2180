/**
 * `npm run bench:swim-sim -- [options]`: SWIM failure detection at scale, simulated. Real
 * SwimCores on libs/sim's event heap (see `@plumtree/sim` `SwimSimulator`): N nodes, packet loss,
 * crashes at random instants; prints per-crash detection times against memberlist's bound, false
 * positives, and one lagging node's false accusations with and without Lifeguard awareness.
 * Wall-clock timing lives here, never in libs/sim.
 */
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { stringOptions } from '../bench-args.js';
import { runSwimScenario, type SwimScenarioConfig, type SwimScenarioResult } from '@plumtree/sim';

const USAGE = `Usage: npm run bench:swim-sim -- [options]

  --nodes N        cluster size (default 1000)
  --loss P         packet loss, percent (default 5); streams stay reliable
  --minutes M      simulated minutes (default 10)
  --crashes C      nodes crashed at uniform random instants after the warm-up (default 1% of N)
  --late-ms MS     lag of one extra-run node: its timers fire MS late and it handles its inbound
                   traffic MS late; runs with awareness (multiplier 8) and without (1); 0 skips
                   (default 2000)
  --late-timers-only  the lagging node's inbound traffic is handled on time (timers only)
  --warmup-s S     no crash before S seconds (start-up alive burst) (default 30)
  --preset NAME    lan | wan | local (default lan)
  --seed S         integer seed (default 1)
  --json FILE      also write every figure as JSON
  --help           this text
`;

interface Timed {
  readonly result: SwimScenarioResult;
  readonly wallMs: number;
}

function timed(cfg: SwimScenarioConfig): Timed {
  const t0 = performance.now();
  const result = runSwimScenario(cfg);
  return { result, wallMs: performance.now() - t0 };
}

function num(name: string, raw: string | undefined, def: number, min: number): number {
  if (raw === undefined) return def;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min) {
    process.stderr.write(`--${name} must be a number >= ${min}, got ${JSON.stringify(raw)}\n`);
    process.exit(2);
  }
  return v;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const s = (ms: number | null): string => (ms === null ? '-' : (ms / 1000).toFixed(2));

function report(label: string, t: Timed): void {
  const r = t.result;
  const c = r.config;
  console.log(
    `\n== ${label}: ${c.nodes} nodes, ${(c.loss * 100).toFixed(1)}% loss, ` +
      `${c.durationMs / 60_000} min, ${c.crashes} crashes, preset ${c.preset}, seed ${c.seed}` +
      (c.lateMs > 0 ? `, ${r.lateNode} lags ${c.lateMs} ms` : ''),
  );
  const b = r.bound;
  console.log(
    `bound per crash: probe ${s(b.probeMs)} s + max suspicion ${s(b.suspicionMaxMs)} s + ` +
      `dissemination ${s(b.disseminationMs)} s = ${s(b.totalMs)} s`,
  );
  if (r.crashes.length > 0) {
    console.log('crash      at(s)  1st-suspect  1st-dead  last-dead  observers  within bound');
    for (const d of r.crashes) {
      console.log(
        `${d.node.padEnd(8)} ${s(d.crashMs).padStart(7)} ${s(d.firstSuspectAfterMs).padStart(11)} ` +
          `${s(d.firstFailedAfterMs).padStart(9)} ${s(d.lastFailedAfterMs).padStart(10)} ` +
          `${`${d.observers}/${d.liveNodes}`.padStart(10)}  ${d.withinBound ? 'yes' : 'NO'}`,
      );
    }
    const last = r.crashes
      .map((d) => d.lastFailedAfterMs)
      .filter((x): x is number => x !== null)
      .sort((x, y) => x - y);
    console.log(
      `crash -> dead at every live node (s): min ${s(last[0] ?? null)}  median ${s(quantile(last, 0.5))}  ` +
        `max ${s(last[last.length - 1] ?? null)}  (bound ${s(b.totalMs)}); ` +
        `${r.crashes.filter((d) => d.withinBound).length}/${r.crashes.length} within bound`,
    );
  }
  console.log(
    `false positives (running nodes declared dead): ${r.falsePositives.length}; ` +
      `suspicions of running nodes: ${r.suspicionsOfLiveNodes}`,
  );
  for (const fp of r.falsePositives.slice(0, 5))
    console.log(`  ${fp.observer} declared ${fp.target} dead at ${s(fp.atMs)} s`);
  if (r.lateNode !== null) {
    console.log(
      `${r.lateNode}: false accusations ${r.lateNodeAccusations} (probe failures ` +
        `${r.lateNodeProbeFailures}), suspected by others ` +
        `${r.accusationsOfLateNode} times, final health score ${r.lateNodeHealthScore}`,
    );
  }
  console.log(
    `events ${r.events.toLocaleString('en-US')}, packets ${r.packetsSent.toLocaleString('en-US')} ` +
      `(${r.packetsLost.toLocaleString('en-US')} lost), wall ${(t.wallMs / 1000).toFixed(1)} s, ` +
      `${Math.round(r.events / (t.wallMs / 1000)).toLocaleString('en-US')} events/s`,
  );
}

function main(): void {
  const { values } = parseArgs({
    options: {
      ...stringOptions('nodes', 'loss', 'minutes', 'crashes', 'late-ms', 'warmup-s'),
      ...stringOptions('preset', 'seed', 'json'),
      'late-timers-only': { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const nodes = Math.floor(num('nodes', values.nodes, 1000, 3));
  const preset = values.preset ?? 'lan';
  if (preset !== 'lan' && preset !== 'wan' && preset !== 'local') {
    process.stderr.write(`--preset must be lan, wan or local, got ${preset}\n`);
    process.exit(2);
  }
  const base: SwimScenarioConfig = {
    nodes,
    seed: Math.floor(num('seed', values.seed, 1, -(2 ** 31))),
    loss: num('loss', values.loss, 5, 0) / 100,
    durationMs: num('minutes', values.minutes, 10, 0) * 60_000,
    crashes: Math.floor(num('crashes', values.crashes, Math.max(1, Math.round(nodes / 100)), 0)),
    warmupMs: num('warmup-s', values['warmup-s'], 30, 0) * 1000,
    config: { preset },
  };
  const lateMs = num('late-ms', values['late-ms'], 2000, 0);

  const runs: Record<string, Timed> = {};
  runs.crashes = timed(base);
  report('crash detection', runs.crashes);
  if (lateMs > 0) {
    const late = { ...base, lateMs, lateInbound: !values['late-timers-only'] };
    runs.lateWithAwareness = timed({ ...late, config: { preset, awarenessMaxMultiplier: 8 } });
    report('lagging node, awareness on (awarenessMaxMultiplier 8)', runs.lateWithAwareness);
    runs.lateWithoutAwareness = timed({ ...late, config: { preset, awarenessMaxMultiplier: 1 } });
    report('lagging node, awareness off (awarenessMaxMultiplier 1)', runs.lateWithoutAwareness);
    console.log(
      `\nfalse accusations by the lagging node: with awareness ` +
        `${runs.lateWithAwareness.result.lateNodeAccusations}, without ` +
        `${runs.lateWithoutAwareness.result.lateNodeAccusations}`,
    );
  }
  if (values.json) {
    writeFileSync(values.json, JSON.stringify(runs, null, 2));
    console.log(`wrote ${values.json}`);
  }
}

main();
