/**
 * `npm run bench:cluster -- [options]`: a PlumtreeNode cluster of separate processes on loopback
 * (one publisher + N subscribers on one topic, forked workers, IPC to this process), measured as
 * Plumtree and then, in the same run, as flooding (every link eager); prints the figures and the
 * ratios plumtree/flood. `--help` lists the options; bench-options.ts says what is measured.
 * Wall-clock timing lives here and in the workers (apps/bench), never in the cores.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import {
  parseClusterBenchArgs,
  quantile,
  USAGE,
  type ClusterBenchMode,
  type ClusterBenchOptions,
} from './bench-options.js';
import {
  Phase,
  type FromWorker,
  type ToWorker,
  type WorkerConfig,
  type WorkerSnapshot,
} from './bench-protocol.js';
import { relativeMessageRedundancy } from './rmr.js';
import { exitWhenDone, runBench } from '../bench-main.js';
import { waitUntil } from '../wait-until.js';

const WORKER = fileURLToPath(new URL('./bench-worker.js', import.meta.url));
const TOPIC = 'bench.t';
/** Closed-loop time before the measured window: trees prune, JIT warms up. */
const WARMUP_MS = 1_500;
/** Length of the latency run at half the saturating rate. */
const LATENCY_RUN_MS = 3_000;
/** The fixed rate of the latency comparison in docs/performance.md, msg/s. */
const TARGET_RATE = 200;
/** How often the publisher hears the closed loop's progress. */
const ACK_INTERVAL_MS = 5;

/** One forked worker and what it reported. */
class Worker {
  readonly progress = new Map<number, number>();
  private readonly waiting = new Map<string, Array<(m: FromWorker) => void>>();
  error: string | undefined;
  private stopping = false;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    child.once('exit', (code, signal) => {
      if (!this.stopping) {
        process.stderr.write(`[${name}] exited unexpectedly (${String(code ?? signal)})\n`);
      }
    });
    child.on('message', (raw: unknown) => {
      const m = raw as FromWorker;
      if (m.type === 'progress') {
        this.progress.set(m.phase, m.count);
        return;
      }
      if (m.type === 'error') {
        this.error = m.message;
        process.stderr.write(`[${name}] ${m.message}\n`);
      }
      const ws = this.waiting.get(m.type);
      const w = ws?.shift();
      if (w !== undefined) w(m);
    });
  }

  static start(cfg: WorkerConfig): Worker {
    const child = fork(WORKER, [JSON.stringify(cfg)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    return new Worker(cfg.name, child);
  }

  send(m: ToWorker): void {
    this.child.send(m);
  }

  /** The next message of `type` from the worker; rejects after `timeoutMs` or on exit. */
  next<T extends FromWorker['type']>(
    type: T,
    timeoutMs = 30_000,
  ): Promise<Extract<FromWorker, { type: T }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${this.name}: no ${type} within ${timeoutMs.toString()} ms`));
      }, timeoutMs);
      const onExit = (code: number | null): void => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (${String(code)}) before ${type}`));
      };
      this.child.once('exit', onExit);
      let list = this.waiting.get(type);
      if (list === undefined) this.waiting.set(type, (list = []));
      list.push((m) => {
        clearTimeout(timer);
        this.child.removeListener('exit', onExit);
        resolve(m as Extract<FromWorker, { type: T }>);
      });
    });
  }

  async request<T extends FromWorker['type']>(
    m: ToWorker,
    type: T,
  ): Promise<Extract<FromWorker, { type: T }>> {
    const p = this.next(type);
    this.send(m);
    return p;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.send({ type: 'close' });
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(t);
  }
}

/** Figures of one mode. */
interface ModeResult {
  readonly mode: ClusterBenchMode;
  /** Messages/s delivered to every subscriber, closed loop. */
  readonly throughput: number;
  /** throughput * subscribers. */
  readonly deliveriesPerSec: number;
  readonly bytesPerDelivery: number;
  readonly cpuMsPerDelivery: number;
  readonly rmr: number;
  readonly gossipFramesPerMessage: number;
  readonly controlFramesPerMessage: number;
  /** Publish-to-last-delivery, ms, at `latencyRate`. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly latencyRate: number;
  /** Publish-to-last-delivery, ms, at {@link TARGET_RATE}. */
  readonly targetP50Ms: number;
  readonly targetP99Ms: number;
  /** RMR over the 200 msg/s run. */
  readonly targetRmr: number;
  /** Messages not delivered at every subscriber (saturation + latency runs). */
  readonly lost: number;
  readonly overflows: number;
  readonly demotions: number;
  readonly formationMs: number;
  /** `--burst`: the burst's size, duration and publish-to-last-delivery latencies. */
  readonly burst: BurstFigures | null;
}

/**
 * Publishes `rate` msg/s for {@link LATENCY_RUN_MS} and returns the p50/p99 of
 * publish-to-last-delivery over the messages every subscriber delivered (the others are lost).
 */
async function latencyRun(
  pub: Worker,
  subs: readonly Worker[],
  phase: Phase,
  rate: number,
  nodes: number,
  log: (s: string) => void,
): Promise<{ p50Ms: number; p99Ms: number; lost: number }> {
  const count = Math.max(1, Math.round((rate * LATENCY_RUN_MS) / 1000));
  const done = pub.next('published', LATENCY_RUN_MS * 4 + 30_000);
  pub.send({ type: 'rate', phase, rate, count });
  await done;
  const minCount = (): number => Math.min(...subs.map((s) => s.progress.get(phase) ?? 0));
  try {
    await waitUntil(`latency run at ${rate.toString()} msg/s drained`, () => minCount() >= count, {
      timeoutMs: 15_000,
    });
  } catch {
    log(
      `${(count - minCount()).toString()} of ${count.toString()} messages at ${rate.toString()} msg/s never reached every subscriber`,
    );
  }
  return lastDeliveryLatencies(subs, phase, count, nodes);
}

/**
 * p50/p99 of publish-to-last-delivery over the first `count` messages of `phase` that every
 * subscriber delivered, and how many did not reach every subscriber (lost).
 */
async function lastDeliveryLatencies(
  subs: readonly Worker[],
  phase: Phase,
  count: number,
  nodes: number,
): Promise<{ p50Ms: number; p99Ms: number; lost: number }> {
  const lats = await Promise.all(
    subs.map((s) => s.request({ type: 'latencies', phase }, 'latencies')),
  );
  const last = new Float64Array(count).fill(Number.NaN);
  const reached = new Uint16Array(count);
  for (const l of lats) {
    for (let i = 0; i < l.seqs.length; i++) {
      const seq = l.seqs[i]!;
      if (seq >= count) continue;
      reached[seq]!++;
      const v = l.latMs[i]!;
      if (Number.isNaN(last[seq]!) || v > last[seq]!) last[seq] = v;
    }
  }
  const full: number[] = [];
  let lost = 0;
  for (let i = 0; i < count; i++) {
    if (reached[i] === nodes) full.push(last[i]!);
    else lost++;
  }
  return { p50Ms: quantile(full, 0.5), p99Ms: quantile(full, 0.99), lost };
}

function sumDelta(
  a: readonly WorkerSnapshot[],
  b: readonly WorkerSnapshot[],
  f: (s: WorkerSnapshot) => number,
): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += f(b[i]!) - f(a[i]!);
  return s;
}

/** What the saturating part of a mode (closed loop or burst) measured. */
interface Saturation {
  /** Messages/s delivered to every subscriber. */
  readonly throughput: number;
  /** Worker counters at the start and the end of the measured window. */
  readonly s0: readonly WorkerSnapshot[];
  readonly s1: readonly WorkerSnapshot[];
  /** Messages delivered to every subscriber in the window. */
  readonly messages: number;
  /** Messages of this part that never reached every subscriber. */
  readonly lost: number;
  /** Burst only: its size, time from the first publish to the last delivery, latencies. */
  readonly burst: BurstFigures | null;
}

/** The burst of `--burst`: size, duration and publish-to-last-delivery latencies. */
interface BurstFigures {
  readonly count: number;
  readonly elapsedMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

type Snap = () => Promise<WorkerSnapshot[]>;

/**
 * The closed loop: `--window` messages in flight, {@link WARMUP_MS} of warm-up, then
 * `--seconds` measured; the loop's messages not delivered everywhere 15 s later are lost.
 */
async function closedLoop(
  pub: Worker,
  subs: readonly Worker[],
  snap: Snap,
  opts: ClusterBenchOptions,
  log: (s: string) => void,
): Promise<Saturation> {
  const minCount = (phase: Phase): number =>
    Math.min(...subs.map((s) => s.progress.get(phase) ?? 0));
  let lastAck = -1;
  const acker = setInterval(() => {
    const m = minCount(Phase.Saturate);
    if (m !== lastAck) {
      lastAck = m;
      pub.send({ type: 'acked', upTo: m });
    }
  }, ACK_INTERVAL_MS);
  pub.send({ type: 'loop', phase: Phase.Saturate, window: opts.window });
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  const s0 = await snap();
  const m0 = minCount(Phase.Saturate);
  const w0 = performance.now();
  await new Promise((r) => setTimeout(r, opts.seconds * 1000));
  const s1 = await snap();
  const m1 = minCount(Phase.Saturate);
  const w1 = performance.now();
  const published = pub.next('published');
  pub.send({ type: 'stop-loop' });
  const satPublished = (await published).count;
  clearInterval(acker);
  const throughput = ((m1 - m0) * 1000) / (w1 - w0);
  const messages = m1 - m0;
  const after = s1;
  log(
    `saturation: ${Math.round(throughput).toString()} msg/s to all ${opts.nodes.toString()} subscribers; eager/lazy per node ${after.map((s) => `${s.eager.toString()}/${s.lazy.toString()}`).join(' ')}`,
  );
  let lost = 0;
  try {
    await waitUntil('saturation drained', () => minCount(Phase.Saturate) >= satPublished, {
      timeoutMs: 15_000,
    });
  } catch {
    lost += satPublished - minCount(Phase.Saturate);
    log(
      `${(satPublished - minCount(Phase.Saturate)).toString()} saturation messages never reached every subscriber`,
    );
  }
  return { throughput, s0, s1, messages, lost, burst: null };
}

/** Burst: the run ends this long after the last delivery when some messages are missing. */
const BURST_QUIET_MS = 5_000;
/** Burst: how often the parent looks at the subscribers' progress. */
const BURST_POLL_MS = 50;
/** Burst: a burst without any delivery for this long has failed. */
const BURST_STALL_MS = 120_000;

/**
 * The open-loop burst: `count` messages published as fast as the node accepts them; the window
 * runs from just before the publisher is told to start to the last delivery (the counters are
 * read again at each poll that saw new deliveries). Messages that did not reach every
 * subscriber {@link BURST_QUIET_MS} after the last delivery are lost.
 */
async function burstRun(
  pub: Worker,
  subs: readonly Worker[],
  snap: Snap,
  count: number,
  log: (s: string) => void,
): Promise<Saturation> {
  const delivered = (): number => subs.reduce((n, s) => n + (s.progress.get(Phase.Burst) ?? 0), 0);
  const toAll = (): number => Math.min(...subs.map((s) => s.progress.get(Phase.Burst) ?? 0));
  const s0 = await snap();
  let published = false;
  const done = pub.next('published', BURST_STALL_MS * 5).then(() => {
    published = true;
  });
  const w0 = performance.now();
  pub.send({ type: 'burst', phase: Phase.Burst, count });
  let s1 = s0;
  let w1 = w0;
  let seen = 0;
  for (;;) {
    await new Promise((r) => setTimeout(r, BURST_POLL_MS));
    const now = performance.now();
    const d = delivered();
    if (d !== seen) {
      seen = d;
      w1 = now;
      s1 = await snap();
    }
    if (published && toAll() >= count) break;
    if (published && now - w1 >= BURST_QUIET_MS) break;
    if (now - Math.max(w0, w1) >= BURST_STALL_MS) {
      throw new Error(`burst: no delivery for ${BURST_STALL_MS.toString()} ms`);
    }
  }
  await done;
  const messages = toAll();
  const lat = await lastDeliveryLatencies(subs, Phase.Burst, count, subs.length);
  const throughput = (messages * 1000) / (w1 - w0);
  log(
    `burst of ${count.toString()}: ${Math.round(throughput).toString()} msg/s to all ${subs.length.toString()} subscribers in ${Math.round(w1 - w0).toString()} ms; publish to last delivery p50 ${lat.p50Ms.toFixed(1)} ms, p99 ${lat.p99Ms.toFixed(1)} ms; ${lat.lost.toString()} never reached every subscriber; eager/lazy per node ${s1.map((s) => `${s.eager.toString()}/${s.lazy.toString()}`).join(' ')}`,
  );
  return {
    throughput,
    s0,
    s1,
    messages,
    lost: lat.lost,
    burst: { count, elapsedMs: w1 - w0, p50Ms: lat.p50Ms, p99Ms: lat.p99Ms },
  };
}

async function runMode(mode: ClusterBenchMode, opts: ClusterBenchOptions): Promise<ModeResult> {
  const log = (s: string): void => {
    process.stderr.write(`[${mode}] ${s}\n`);
  };
  const flood = mode === 'flood';
  const keys = opts.keys ? [randomBytes(32).toString('base64')] : [];
  const base = { topic: TOPIC, payload: opts.payload, flood, keys };
  const workers: Worker[] = [];
  try {
    const t0 = performance.now();
    const pub = Worker.start({ ...base, name: 'pub', role: 'publisher', seeds: [] });
    workers.push(pub);
    const { addr } = await pub.next('ready');
    const subs = Array.from({ length: opts.nodes }, (_, i) =>
      Worker.start({ ...base, name: `s${i.toString()}`, role: 'subscriber', seeds: [addr] }),
    );
    workers.push(...subs);
    await Promise.all(subs.map((s) => s.next('ready', 60_000)));
    // Every node sees every other one in the topic's view.
    for (;;) {
      const views = await Promise.all(workers.map((w) => w.request({ type: 'peers' }, 'peers')));
      if (views.every((v) => v.view === opts.nodes)) break;
      if (performance.now() - t0 > 90_000) {
        throw new Error(`views did not converge: ${views.map((v) => v.view).join(',')}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const formationMs = performance.now() - t0;
    log(
      `${(opts.nodes + 1).toString()} processes up, views complete in ${Math.round(formationMs).toString()} ms`,
    );

    const snap = (): Promise<WorkerSnapshot[]> =>
      Promise.all(workers.map((w) => w.request({ type: 'snapshot' }, 'snapshot')));
    const sat =
      opts.burst === undefined
        ? await closedLoop(pub, subs, snap, opts, log)
        : await burstRun(pub, subs, snap, opts.burst, log);
    const { throughput, s0, s1, messages } = sat;
    const deliveries = sumDelta(s0, s1, (s) => s.delivered);
    const duplicates = sumDelta(s0, s1, (s) => s.duplicates);
    let lost = sat.lost;

    // Fixed rate at half the saturating throughput, then at the Targets table's 200 msg/s.
    const half = Math.max(1, Math.round(throughput / 2));
    const atHalf = await latencyRun(pub, subs, Phase.Latency, half, opts.nodes, log);
    const t0Snap = await snap();
    const atTarget = await latencyRun(pub, subs, Phase.Target, TARGET_RATE, opts.nodes, log);
    const t1Snap = await snap();
    const targetRmr = relativeMessageRedundancy(
      sumDelta(t0Snap, t1Snap, (s) => s.duplicates),
      sumDelta(t0Snap, t1Snap, (s) => s.delivered),
    );
    lost += atHalf.lost + atTarget.lost;
    const end = await snap();
    return {
      mode,
      throughput,
      deliveriesPerSec: throughput * opts.nodes,
      bytesPerDelivery: sumDelta(s0, s1, (s) => s.bytesSent) / deliveries,
      cpuMsPerDelivery: sumDelta(s0, s1, (s) => s.cpuUs) / 1000 / deliveries,
      rmr: relativeMessageRedundancy(duplicates, deliveries),
      gossipFramesPerMessage: sumDelta(s0, s1, (s) => s.gossipSent) / messages,
      controlFramesPerMessage: sumDelta(s0, s1, (s) => s.controlSent) / messages,
      p50Ms: atHalf.p50Ms,
      p99Ms: atHalf.p99Ms,
      latencyRate: half,
      targetP50Ms: atTarget.p50Ms,
      targetP99Ms: atTarget.p99Ms,
      targetRmr,
      lost,
      overflows: end.reduce((n, s) => n + s.overflows, 0),
      demotions: end.reduce((n, s) => n + s.demotions, 0),
      formationMs,
      burst: sat.burst,
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
}

const fixed = (v: number, d: number): string => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');

async function run(opts: ClusterBenchOptions): Promise<number> {
  const results: ModeResult[] = [];
  for (const mode of opts.modes) results.push(await runMode(mode, opts));

  const cols: Array<[string, (r: ModeResult) => string]> = [
    ['msg/s to all', (r) => fixed(r.throughput, 0)],
    ['deliveries/s', (r) => fixed(r.deliveriesPerSec, 0)],
    ['p50 ms', (r) => fixed(r.p50Ms, 2)],
    ['p99 ms', (r) => fixed(r.p99Ms, 2)],
    ['@ msg/s', (r) => r.latencyRate.toString()],
    ['p50@200', (r) => fixed(r.targetP50Ms, 2)],
    ['p99@200', (r) => fixed(r.targetP99Ms, 2)],
    ['bytes/delivery', (r) => fixed(r.bytesPerDelivery, 0)],
    ['CPU ms/delivery', (r) => fixed(r.cpuMsPerDelivery, 4)],
    ['CPU ms/1k del.', (r) => fixed(r.cpuMsPerDelivery * 1000, 0)],
    ['RMR', (r) => fixed(r.rmr, 3)],
    ['RMR@200', (r) => fixed(r.targetRmr, 3)],
    ['GOSSIP/msg', (r) => fixed(r.gossipFramesPerMessage, 2)],
    ['ctrl/msg', (r) => fixed(r.controlFramesPerMessage, 2)],
    ['lost', (r) => r.lost.toString()],
  ];
  const lines = [
    `bench:cluster: 1 publisher + ${opts.nodes.toString()} subscriber processes on one topic (publisher in the tree), ${opts.payload.toString()}-byte payloads, 127.0.0.1, SWIM local, Plumtree lan, ${opts.keys ? 'sealed (--keys: one keyring)' : 'no keys (plain)'}; ${opts.burst === undefined ? `closed loop window ${opts.window.toString()}, ${opts.seconds.toString()} s measured` : `open-loop burst of ${opts.burst.toString()} messages, measured from the first publish to the last delivery`}; latency = publish to last subscriber at half the saturating rate and at 200 msg/s; bytes (frame transport wire bytes, all frame types), CPU (all worker processes) and RMR over the ${opts.burst === undefined ? 'saturation window' : 'burst'}, RMR@200 over the 200 msg/s run`,
    ['mode'.padEnd(9), ...cols.map(([h]) => h.padStart(Math.max(h.length, 9) + 2))].join(''),
  ];
  for (const r of results) {
    lines.push(
      [r.mode.padEnd(9), ...cols.map(([h, f]) => f(r).padStart(Math.max(h.length, 9) + 2))].join(
        '',
      ),
    );
  }
  const pl = results.find((r) => r.mode === 'plumtree');
  const fl = results.find((r) => r.mode === 'flood');
  const summary: Record<string, unknown> = {
    nodes: opts.nodes,
    payload: opts.payload,
    window: opts.window,
    seconds: opts.seconds,
    burst: opts.burst ?? null,
    keys: opts.keys,
    results,
  };
  if (pl !== undefined && fl !== undefined) {
    const ratio = {
      throughput: pl.throughput / fl.throughput,
      p50: pl.p50Ms / fl.p50Ms,
      p99: pl.p99Ms / fl.p99Ms,
      bytesPerDelivery: pl.bytesPerDelivery / fl.bytesPerDelivery,
      cpuPerDelivery: pl.cpuMsPerDelivery / fl.cpuMsPerDelivery,
    };
    lines.push(
      `ratio plumtree/flood: throughput ${fixed(ratio.throughput, 2)}x, p50 ${fixed(ratio.p50, 2)}x, p99 ${fixed(ratio.p99, 2)}x (each at its own half rate), bytes/delivery ${fixed(ratio.bytesPerDelivery, 2)}x, CPU/delivery ${fixed(ratio.cpuPerDelivery, 2)}x`,
    );
    summary['ratio'] = ratio;
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  if (opts.json !== undefined) writeFileSync(opts.json, `${JSON.stringify(summary, null, 2)}\n`);
  return results.some((r) => r.lost > 0) ? 1 : 0;
}

exitWhenDone('bench:cluster', runBench('bench:cluster', USAGE, parseClusterBenchArgs, run));
