/**
 * `npm run bench:swim -- [options]`: join propagation and failure detection of a Go memberlist
 * cluster and of a cluster of ours, same configuration (`--profile local`: memberlist
 * DefaultLocalConfig), real processes on 127.0.0.1, one cluster after the other in one run.
 * `--help` lists the options. Wall-clock timing lives here (apps/bench), never in the cores.
 *
 * A trial starts one more node joining the seed; "join" is the time from that node's `ready` line to
 * the last existing member printing its `join` line. The same node is then SIGKILLed; "detection" is
 * the time from the kill to the last member printing its `fail` line. Event times are taken when
 * this process reads each agent's stdout line, the same way for both implementations.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import {
  AgentProcess,
  detectionBoundMs,
  LOCAL_TIMERS,
  type AgentEvent,
  type AgentKind,
} from './agent-process.js';
import { median, parseSwimBenchArgs, USAGE, type SwimBenchOptions } from './bench-options.js';
import { exitWhenDone, runBench } from '../bench-main.js';
import { formOnce, type FormationMode } from './formation.js';
import { waitUntil } from '../wait-until.js';

/** Repository root: this file runs as dist/apps/bench/src/swim/main.js. */
const repoRoot = fileURLToPath(new URL('../../../../../', import.meta.url));

/** Figures of one implementation. */
interface ImplResult {
  readonly kind: AgentKind;
  /** From the last `ready` of the initial members to every member listing all alive. */
  formationMs?: number;
  readonly joinMs: number[];
  readonly detectMs: number[];
  error?: string;
}

/** Ready-line bound: ten node processes starting together on a busy 2-core machine are slow. */
const READY_TIMEOUT_MS = 60_000;

function start(kind: AgentKind, name: string, join?: string): Promise<AgentProcess> {
  return AgentProcess.startReady(
    repoRoot,
    { kind, name, profile: 'local', ...(join === undefined ? {} : { join: [join] }) },
    READY_TIMEOUT_MS,
  );
}

/** Waits until every observer printed an event matching `pred`; the latest time minus `since`. */
async function lastObserved(
  observers: readonly AgentProcess[],
  pred: (e: AgentEvent) => boolean,
  timeoutMs: number,
  what: string,
  sinceMs: number,
): Promise<number> {
  const events = await Promise.all(observers.map((o) => o.waitForEvent(pred, timeoutMs, what)));
  return Math.max(...events.map((e) => e.atMs)) - sinceMs;
}

async function runImpl(kind: AgentKind, opts: SwimBenchOptions): Promise<ImplResult> {
  const result: ImplResult = { kind, joinMs: [], detectMs: [] };
  const all: AgentProcess[] = [];
  const log = (s: string): void => {
    process.stderr.write(`[${kind}] ${s}\n`);
  };
  try {
    const seed = await start(kind, 'n0');
    all.push(seed);
    const others = await Promise.all(
      Array.from({ length: opts.nodes - 1 }, (_, i) =>
        start(kind, `n${(i + 1).toString()}`, seed.addr),
      ),
    );
    all.push(...others);
    const members = [seed, ...others];
    const names = members
      .map((m) => m.name)
      .sort()
      .join(',');
    const formed0 = performance.now();
    await Promise.all(
      members.map((m) =>
        waitUntil(
          `${m.name} to list all ${opts.nodes.toString()} alive`,
          async () => {
            const alive = await m.aliveNames();
            return alive !== undefined && [...alive].sort().join(',') === names;
          },
          { timeoutMs: 90_000, intervalMs: 100 },
        ),
      ),
    );
    result.formationMs = performance.now() - formed0;
    log(
      `cluster of ${opts.nodes.toString()} formed in ${Math.round(result.formationMs).toString()} ms`,
    );
    const bound = detectionBoundMs(LOCAL_TIMERS, opts.nodes + 1);
    for (let t = 1; t <= opts.trials; t++) {
      const name = `t${t.toString()}`;
      const joiner = await start(kind, name, seed.addr);
      all.push(joiner);
      const readyAt = joiner.events.find((e) => e.event === 'ready')?.atMs ?? performance.now();
      const joinMs = await lastObserved(
        members,
        (e) => e.event === 'join' && e.node === name,
        60_000,
        `join line for ${name}`,
        readyAt,
      );
      result.joinMs.push(joinMs);
      const killedAt = performance.now();
      await joiner.stop('SIGKILL');
      const detectMs = await lastObserved(
        members,
        (e) => e.event === 'fail' && e.node === name,
        2 * bound,
        `fail line for ${name}`,
        killedAt,
      );
      result.detectMs.push(detectMs);
      log(
        `trial ${t.toString()}: join seen by all ${Math.round(joinMs).toString()} ms, death seen by all ${Math.round(detectMs).toString()} ms`,
      );
    }
  } catch (e) {
    result.error = (e as Error).message;
    log(`FAILED: ${result.error}`);
  } finally {
    await Promise.all(all.map((a) => a.stop('SIGKILL')));
  }
  return result;
}

const ms = (v: number): string => (Number.isFinite(v) ? `${Math.round(v).toString()} ms` : 'n/a');
const ratio = (a: number, b: number): number => (b > 0 ? a / b : Number.NaN);

async function run(opts: SwimBenchOptions): Promise<number> {
  if (opts.impls.includes('go')) {
    execFileSync('sh', [`${repoRoot}test/go/build.sh`, 'peer'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  const results: ImplResult[] = [];
  for (const kind of opts.impls) results.push(await runImpl(kind, opts));

  const lines = [
    `bench:swim: ${opts.nodes.toString()}-node clusters, ${opts.trials.toString()} trials each, --profile local on both (memberlist DefaultLocalConfig: probe 1 s, suspicion mult 3, max mult 6), 127.0.0.1`,
    `${'impl'.padEnd(6)}${'formation'.padStart(12)}${'join seen by all (median)'.padStart(28)}${'SIGKILL -> dead at all (median)'.padStart(34)}   trials (join / detection, ms)`,
  ];
  const summary: Record<string, unknown> = {
    nodes: opts.nodes,
    trials: opts.trials,
    profile: 'local',
  };
  for (const r of results) {
    const jm = median(r.joinMs);
    const dm = median(r.detectMs);
    lines.push(
      `${r.kind.padEnd(6)}${ms(r.formationMs ?? Number.NaN).padStart(12)}${ms(jm).padStart(28)}${ms(dm).padStart(34)}   ${r.joinMs
        .map((x) => Math.round(x).toString())
        .join(
          ',',
        )} / ${r.detectMs.map((x) => Math.round(x).toString()).join(',')}${r.error === undefined ? '' : `  FAILED: ${r.error}`}`,
    );
    summary[r.kind] = {
      formationMs: r.formationMs ?? null,
      joinMs: r.joinMs,
      joinMedianMs: Number.isFinite(jm) ? jm : null,
      detectMs: r.detectMs,
      detectMedianMs: Number.isFinite(dm) ? dm : null,
      error: r.error ?? null,
    };
  }
  const go = results.find((r) => r.kind === 'go');
  const ours = results.find((r) => r.kind === 'ours');
  if (go !== undefined && ours !== undefined) {
    const j = ratio(median(ours.joinMs), median(go.joinMs));
    const d = ratio(median(ours.detectMs), median(go.detectMs));
    lines.push(`ratio ours/Go: join ${j.toFixed(2)}x, detection ${d.toFixed(2)}x`);
    summary['ratio'] = {
      join: Number.isFinite(j) ? j : null,
      detection: Number.isFinite(d) ? d : null,
    };
  }
  if (opts.formationTrials > 0) {
    const formation = await runFormations(opts);
    lines.push(...formation.lines);
    summary['formation'] = formation.json;
    if (formation.failed)
      results.push({ kind: 'ours', joinMs: [], detectMs: [], error: 'formation' });
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  if (opts.json !== undefined) writeFileSync(opts.json, `${JSON.stringify(summary, null, 2)}\n`);
  return results.some((r) => r.error !== undefined) ? 1 : 0;
}

/**
 * {@link formOnce}, again (up to 3 times) when an agent could not bind its port: a free port is
 * probed, then bound by the agent, and another process on the machine may take it in between.
 */
async function formOnceRetryingBind(
  kind: AgentKind,
  n: number,
  mode: FormationMode,
  trial: number,
): Promise<{ formationMs: number }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await formOnce(repoRoot, kind, n, mode, trial);
    } catch (e) {
      if (attempt >= 3 || !/EADDRINUSE|address already in use/.test((e as Error).message)) throw e;
    }
  }
}

/** Formation trials of every implementation and start mode: table lines and JSON figures. */
async function runFormations(
  opts: SwimBenchOptions,
): Promise<{ lines: string[]; json: unknown[]; failed: boolean }> {
  const n = opts.formationNodes;
  const rows: [AgentKind, FormationMode][] = [];
  for (const kind of opts.impls) {
    rows.push([kind, 'seed-first']);
    if (kind === 'ours') rows.push([kind, 'all-at-once']);
  }
  const lines = [
    `formation of ${n.toString()} started at once: from the last node joined to every node's join line for every other (then /members: all ${n.toString()} alive), ${opts.formationTrials.toString()} trials`,
    `${'impl'.padEnd(6)}${'start'.padEnd(13)}${'p50'.padStart(10)}${'max'.padStart(10)}   trials (ms)`,
  ];
  const json: unknown[] = [];
  let failed = false;
  for (const [kind, mode] of rows) {
    const trials: number[] = [];
    let error: string | undefined;
    for (let t = 1; t <= opts.formationTrials && error === undefined; t++) {
      try {
        trials.push((await formOnceRetryingBind(kind, n, mode, t)).formationMs);
        process.stderr.write(
          `[${kind}] formation ${mode} trial ${t.toString()}: ${Math.round(trials.at(-1)!).toString()} ms\n`,
        );
      } catch (e) {
        error = (e as Error).message;
        failed = true;
      }
    }
    const max = trials.length > 0 ? Math.max(...trials) : Number.NaN;
    lines.push(
      `${kind.padEnd(6)}${mode.padEnd(13)}${ms(median(trials)).padStart(10)}${ms(max).padStart(10)}   ${trials
        .map((x) => Math.round(x).toString())
        .join(',')}${error === undefined ? '' : `  FAILED: ${error}`}`,
    );
    json.push({
      kind,
      mode,
      nodes: n,
      trialsMs: trials,
      p50Ms: median(trials),
      maxMs: max,
      error: error ?? null,
    });
  }
  return { lines, json, failed };
}

exitWhenDone('bench:swim', runBench('bench:swim', USAGE, parseSwimBenchArgs, run));
