/**
 * `npm run bench:compare -- [options]`: our Nest transport against Nest 12's NATS and Redis
 * transports, the runs one after the other in this invocation (same conditions), each with fresh
 * processes and broker (run.ts); prints the table and the ratios to NATS (report.ts), writes the
 * SVG chart (chart.ts) and optionally the JSON. `--help` lists the options; docs/performance.md
 * documents the workload and how each figure is measured.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';
import { BrokerMissingError } from './brokers.js';
import { renderChart } from './chart.js';
import { parseCompareArgs, USAGE, UsageError, type CompareOptions } from './compare-options.js';
import { ratiosTo, type RunFigures } from './figures.js';
import { killAllOnExit } from './process-registry.js';
import { clockTicksPerSecond } from './proc-stats.js';
import { formatResults, RUN_LABELS } from './report.js';
import { QUIET_MS, REPAIR_WAIT_MS, runOnce } from './run.js';

const log = (line: string): void => {
  process.stderr.write(`bench:compare: ${line}\n`);
};

function writeFile(path: string, text: string): string {
  const abs = resolve(path);
  mkdirSync(dirname(abs), { recursive: true });
  writeFileSync(abs, text);
  return abs;
}

function describeWorkload(opts: CompareOptions): string {
  const mode =
    opts.rate === undefined ? 'burst (open loop)' : `${opts.rate.toString()} msg/s (fixed rate)`;
  const keys = opts.keys ? 'ours sealed (--keys: one keyring)' : 'ours without keys';
  return `${opts.subs.toString()} subscriber processes x ${opts.messages.toLocaleString('en-US')} messages, ${opts.payload.toString()}-byte pad, ${mode}, ${keys}`;
}

function machine(): string {
  const cpu = cpus();
  return `${cpu.length.toString()} CPUs (${cpu[0]?.model.trim() ?? '?'}), ${Math.round(totalmem() / 2 ** 30).toString()} GiB, Node ${process.version}`;
}

async function main(argv: string[]): Promise<number> {
  let opts: CompareOptions;
  try {
    opts = parseCompareArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`bench:compare: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  if (opts.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  killAllOnExit(log);
  const ticks = clockTicksPerSecond();
  const startedAt = new Date();
  const results: RunFigures[] = [];
  const brokers: Record<string, string> = {};
  const allProcessesRssMB: Record<string, number> = {};
  const failed: string[] = [];
  for (const t of opts.transports) {
    const runStart = Date.now();
    try {
      const r = await runOnce(t, opts, ticks, log);
      results.push(r.figures);
      if (r.brokerVersion !== undefined) brokers[t] = r.brokerVersion;
      allProcessesRssMB[t] = r.allProcessesRssMB;
      log(`[${t}] run took ${((Date.now() - runStart) / 1000).toFixed(1)} s`);
    } catch (e) {
      if (e instanceof BrokerMissingError) {
        log(e.message);
        continue;
      }
      failed.push(t);
      log(`[${t}] run failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const title = `bench:compare: ${describeWorkload(opts)}; 127.0.0.1; ${machine()}; ${startedAt.toISOString()}`;
  const brokerLine = Object.values(brokers).join(', ');
  const text = formatResults(
    `${title}\nbrokers: ${brokerLine === '' ? 'none' : brokerLine}; CPU and bytes written: every process of the run, broker included; lost: missing once deliveries stopped for ${(QUIET_MS / 1000).toString()} s and (ours) no node held a message being repaired or queued (at most ${(REPAIR_WAIT_MS / 1000).toString()} s after the last delivery)`,
    results,
  );
  process.stdout.write(text);
  if (results.length > 0) {
    const svg = await renderChart(
      `bench:compare: ${describeWorkload(opts)}`,
      [
        `Nest ClientProxy.emit to ${opts.subs.toString()} Nest transport servers on 127.0.0.1; ${machine()}; ${startedAt.toISOString().slice(0, 10)}`,
        `brokers: ${brokerLine === '' ? 'none' : brokerLine}; CPU and bytes: every process of the run, broker included; (0.50x): the ratio to NATS`,
      ],
      results,
    );
    process.stdout.write(`chart: ${writeFile(opts.chart, svg)}\n`);
  }
  if (opts.json !== undefined) {
    const nats = results.find((r) => r.transport === 'nats');
    const json = {
      workload: describeWorkload(opts),
      options: opts,
      machine: machine(),
      startedAt: startedAt.toISOString(),
      brokers,
      quietMs: QUIET_MS,
      repairWaitMs: REPAIR_WAIT_MS,
      results,
      allProcessesRssMB,
      ratiosToNats:
        nats === undefined
          ? null
          : Object.fromEntries(
              results
                .filter((r) => r !== nats)
                .map((r) => [RUN_LABELS[r.transport], ratiosTo(r, nats)]),
            ),
      failed,
    };
    process.stdout.write(`json: ${writeFile(opts.json, `${JSON.stringify(json, null, 2)}\n`)}\n`);
  }
  return failed.length > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    log(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exit(1);
  },
);
