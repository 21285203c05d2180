/**
 * `npm run bench:sim -- [options]`: the simulator benchmark (paper metrics for Plumtree, eager
 * flooding and a gossipsub-style mesh on the same topology and failure schedule). `--help` lists
 * the options; `npm run bench:sim -- --demo` is the short comparison. Wall-clock timing lives
 * here, never in libs/sim.
 *
 * With `--jobs 2` (default on a machine with 2+ cores) runs go to worker threads, two at a time;
 * each run's wall time is then measured inside its worker and CPU time per run is not available
 * (Node 20 has no per-thread CPU clock), so the total CPU time of the process is printed instead.
 */
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { ScenarioConfig } from '@plumtree/sim';
import { runBench } from '../bench-main.js';
import { parseSimBenchArgs, USAGE, type SimBenchOptions } from './cli-options.js';
import { phaseTable, scenarioTable, scenarioTitle, type BenchRun } from './report.js';
import { runTask, type RunOutcome, type RunTask } from './run-task.js';

function runInWorker(task: RunTask): Promise<RunOutcome> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./run-worker.js', import.meta.url), { workerData: task });
    worker.once('message', (m: RunOutcome) => resolve(m));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`simulation worker exited with code ${code}`));
    });
  });
}

/** Run tasks, at most `jobs` at a time, reporting each as it finishes; results in task order. */
async function runAll(
  tasks: readonly RunTask[],
  jobs: number,
  done: (i: number, o: RunOutcome) => void,
): Promise<RunOutcome[]> {
  const out: RunOutcome[] = new Array<RunOutcome>(tasks.length);
  if (jobs <= 1) {
    tasks.forEach((t, i) => {
      out[i] = runTask(t, true);
      done(i, out[i]);
    });
    return out;
  }
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < tasks.length) {
      const i = next++;
      out[i] = await runInWorker(tasks[i]!);
      done(i, out[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, tasks.length) }, lane));
  return out;
}

function scenarioConfig(o: SimBenchOptions, failPercent: number): RunTask['config'] {
  return {
    nodes: o.nodes,
    broadcasts: o.broadcasts,
    seed: o.seed,
    intervalMs: o.intervalMs,
    topics: o.topics,
    topicChoice: o.topicChoice,
    lossRate: o.lossRate,
    failPercent,
    warmup: o.warmup,
    latency: o.latency,
    detection: { detectionDelayMs: o.detectionDelayMs, detectionJitterMs: o.detectionJitterMs },
  } satisfies Partial<ScenarioConfig>;
}

async function run(o: SimBenchOptions): Promise<number> {
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  const tasks: RunTask[] = [];
  for (const failPercent of o.fail) {
    for (const protocol of o.protocols)
      tasks.push({ protocol, preset: o.preset, config: scenarioConfig(o, failPercent) });
  }
  process.stdout.write(
    `bench:sim: ${tasks.length} run(s), ${o.jobs > 1 ? `${o.jobs} worker threads` : 'one thread'}, Plumtree preset ${o.preset}\n`,
  );
  const outcomes = await runAll(tasks, o.jobs, (i, { result, cpuMs }) => {
    const t = tasks[i]!;
    const cpu = Number.isFinite(cpuMs) ? ` (${(cpuMs / 1000).toFixed(2)} s CPU)` : '';
    process.stdout.write(
      `   ${t.protocol}, fail=${t.config.failPercent ?? 0}%: ${(result.wallMs / 1000).toFixed(2)} s wall${cpu}, ` +
        `${(result.summary.simEndMs / 1000).toFixed(1)} s simulated\n`,
    );
  });
  const scenarios: { config: RunTask['config']; runs: BenchRun[] }[] = [];
  for (let s = 0; s < o.fail.length; s++) {
    const runs = o.protocols.map((_, p) => {
      const { result, cpuMs } = outcomes[s * o.protocols.length + p]!;
      return {
        result,
        cpuMs,
        eventsPerSecond: result.summary.counters.events / (result.wallMs / 1000),
      };
    });
    process.stdout.write(`\n${scenarioTitle(runs[0]!.result)}\n${scenarioTable(runs)}\n`);
    if (o.fail[s]! > 0)
      process.stdout.write(
        `\nreliability min / mean (broadcasts) by phase:\n${phaseTable(runs)}\n`,
      );
    scenarios.push({ config: tasks[s * o.protocols.length]!.config, runs });
  }
  const totalMs = performance.now() - started;
  const totalCpu = process.cpuUsage(cpuStart);
  process.stdout.write(
    `\ntotal wall time: ${(totalMs / 1000).toFixed(2)} s (process CPU ${((totalCpu.user + totalCpu.system) / 1e6).toFixed(2)} s)\n`,
  );
  if (o.json !== undefined) {
    const doc = {
      generatedBy: 'bench:sim',
      options: o,
      totalWallMs: totalMs,
      scenarios: scenarios.map((s) => ({
        config: s.config,
        runs: s.runs.map((r) => ({
          protocol: r.result.summary.protocol,
          wallMs: r.result.wallMs,
          cpuMs: Number.isFinite(r.cpuMs) ? r.cpuMs : null,
          eventsPerSecond: r.eventsPerSecond,
          summary: r.result.summary,
          broadcasts: r.result.broadcasts,
        })),
      })),
    };
    const json = JSON.stringify(
      doc,
      (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v),
      2,
    );
    writeFileSync(o.json, json);
    process.stdout.write(`wrote ${o.json}\n`);
  }
  return 0;
}

process.exitCode = await runBench('bench:sim', USAGE, parseSimBenchArgs, run);
