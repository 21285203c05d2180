/**
 * One run of `bench:compare`: a fresh broker (nats, redis) or none (ours), N subscriber
 * processes, one publisher; ready checks; the measured emit; the end of the run; every process
 * stopped in a `finally`. What is measured and when:
 * 1. ready: every subscriber got a probe message through the transport (and, ours, every node
 *    sees the whole topic), so nothing measured is set-up work;
 * 2. /proc CPU and wchar of every process (subscribers, publisher, broker) just before `go`;
 * 3. every {@link POLL_MS}, the counters the children push and /proc again; the /proc sample
 *    taken when the delivery count last changed closes the CPU and bytes window;
 * 4. the run ends when every expected delivery arrived and every emit settled, or, once the
 *    publisher emitted everything, after {@link QUIET_MS} without a delivery or a settled emit
 *    and (ours) once no node holds anything that can still become a delivery (a message being
 *    repaired, a delivery queued, bytes queued to a peer), at most {@link REPAIR_WAIT_MS} after
 *    the last delivery; what is missing then is lost;
 * 5. latencies, duplicates and the subscribers' VmHWM are read, then everything is stopped.
 */
import { waitUntil } from '../wait-until.js';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { startBroker, type Broker } from './brokers.js';
import { ChildHandle } from './child-handle.js';
import type { CompareOptions, TransportName } from './compare-options.js';
import type { ChildConfig, GivenUp, InFlight } from './compare-protocol.js';
import { computeFigures, type RunFigures } from './figures.js';
import { liveProcesses } from './process-registry.js';
import { readPeakRssBytes, readProcSample, sumDeltas, type ProcSample } from './proc-stats.js';

const SUBSCRIBER = fileURLToPath(new URL('./subscriber.js', import.meta.url));
const PUBLISHER = fileURLToPath(new URL('./publisher.js', import.meta.url));

/** How often the parent looks at the counters and /proc during the run. */
const POLL_MS = 100;
/** After the last emit: the run ends this long after deliveries and settlements stopped. */
export const QUIET_MS = 5_000;
/** Subscribers started at once (32 Node processes starting together would starve 2 cores). */
const START_BATCH = 4;
/**
 * Starts of one child before the run fails. With the local preset's 1 s stream timeout, a node
 * joining a seed that is starved of CPU (32 others starting, a loaded machine) can fail to join
 * and exit; it is started again, and the log says so.
 */
const START_ATTEMPTS = 3;
/** Bounds of the set-up steps. */
const START_TIMEOUT_MS = 60_000;
const VIEW_TIMEOUT_MS = 120_000;
const PROBE_TIMEOUT_MS = 60_000;
const PROBE_INTERVAL_MS = 200;
/** A run in which nothing at all happens for this long before the last emit has failed. */
const STALL_TIMEOUT_MS = 120_000;
/**
 * Ours: how long after the last delivery the run waits for repairs still under way (the node
 * retries a GRAFT up to 80 times, at most 1.6 s apart with the lan preset: about 2 minutes).
 */
export const REPAIR_WAIT_MS = 180_000;
/** Ours: how often the parent asks the nodes what they still hold once deliveries stopped. */
const IN_FLIGHT_INTERVAL_MS = 1_000;
/** Ours: how long a node may take to answer that question before it counts as still busy. */
const IN_FLIGHT_ANSWER_MS = 5_000;

/** What a run gives back besides its figures. */
export interface RunResult {
  readonly figures: RunFigures;
  /** The broker's version line (nats, redis). */
  readonly brokerVersion: string | undefined;
  /** Sum of the peak resident sets (VmHWM) of every process of the run, broker included, MB. */
  readonly allProcessesRssMB: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Sum of `key` over the nodes that answered. */
/** Ours, after a run that lost deliveries: every node's counters of ids given up, summed. */
async function sayGivenUp(
  children: readonly ChildHandle[],
  say: (line: string) => void,
): Promise<void> {
  const held = await Promise.all(
    children.map((c) =>
      c.request({ type: 'in-flight' }, 'in-flight', IN_FLIGHT_ANSWER_MS).catch(() => undefined),
    ),
  );
  const total = (key: keyof GivenUp): string =>
    held.reduce((n, h) => n + (h?.givenUp[key] ?? 0), 0).toString();
  say(
    `ids given up, summed over the nodes: GRAFTs unanswered ${total('graftsFailed')}, GRAFTs for ids no longer cached ${total('graftsMissed')}, missing ids evicted at the cap ${total('missingEvicted')}, announcements over an announcer's budget ${total('missingOverBudget')}`,
  );
}

function sumOf(
  held: readonly (InFlight | undefined)[],
  key: 'missing' | 'queuedDeliveries' | 'queuedBytes',
): number {
  return held.reduce((n, h) => n + (h?.[key] ?? 0), 0);
}

/** Runs `transport` once with fresh processes; see the file comment. */
export async function runOnce(
  transport: TransportName,
  opts: CompareOptions,
  ticksPerSecond: number,
  log: (line: string) => void,
): Promise<RunResult> {
  const say = (line: string): void => log(`[${transport}] ${line}`);
  const ours = transport === 'ours-tree' || transport === 'ours-handoff';
  let broker: Broker | undefined;
  /** Every child forked, for the cleanup (a restarted one included). */
  const started: ChildHandle[] = [];
  try {
    const t0 = Date.now();
    if (!ours) broker = await startBroker(transport);
    const keys = opts.keys ? [randomBytes(32).toString('base64')] : [];
    const config = (role: ChildConfig['role'], name: string, seeds: string[]): ChildConfig => ({
      role,
      name,
      transport,
      messages: opts.messages,
      payload: opts.payload,
      rate: opts.rate,
      broker: broker?.address,
      seeds,
      keys,
    });
    /** Forks a child and waits for it; one that fails to start is started again (see START_ATTEMPTS). */
    const start = async (script: string, cfg: ChildConfig): Promise<ChildHandle> => {
      for (let attempt = 1; ; attempt++) {
        const c = ChildHandle.fork(script, cfg, say);
        started.push(c);
        try {
          await c.next('ready', START_TIMEOUT_MS);
          return c;
        } catch (e) {
          await c.stop();
          if (attempt >= START_ATTEMPTS) throw e;
          say(
            `${cfg.name} did not start (${(e as Error).message}); starting it again (attempt ${(attempt + 1).toString()} of ${START_ATTEMPTS.toString()})`,
          );
        }
      }
    };
    // The first subscriber is every other process's seed (ours).
    const subs = [await start(SUBSCRIBER, config('subscriber', 'sub-0', []))];
    const seedAddr = subs[0]!.addr;
    const seeds = seedAddr !== undefined ? [seedAddr] : [];
    for (let i = 1; i < opts.subs; i += START_BATCH) {
      const batch: Promise<ChildHandle>[] = [];
      for (let j = i; j < Math.min(opts.subs, i + START_BATCH); j++) {
        batch.push(start(SUBSCRIBER, config('subscriber', `sub-${j.toString()}`, seeds)));
      }
      subs.push(...(await Promise.all(batch)));
    }
    const pub = await start(PUBLISHER, config('publisher', 'pub', seeds));
    const children = [...subs, pub];

    if (ours) {
      // Each subscriber sees the others (and an in-tree publisher); the publisher sees them all.
      const want = (c: ChildHandle): number =>
        c === pub ? opts.subs : opts.subs - 1 + (transport === 'ours-tree' ? 1 : 0);
      await waitUntil(
        'every node sees the whole topic',
        async () => {
          const views = await Promise.all(
            children.map((c) => c.request({ type: 'view' }, 'view', 10_000)),
          );
          return views.every((v, k) => v.peers >= want(children[k]!));
        },
        { timeoutMs: VIEW_TIMEOUT_MS, intervalMs: 200 },
      );
    }
    await waitUntil(
      'a probe message reaches every subscriber',
      () => {
        pub.send({ type: 'probe' });
        return subs.every((s) => s.progress?.probed === true);
      },
      { timeoutMs: PROBE_TIMEOUT_MS, intervalMs: PROBE_INTERVAL_MS },
    );
    // The last probes may still be in flight: let them land before the window opens.
    await sleep(PROBE_INTERVAL_MS);
    say(
      `${(opts.subs + 1).toString()} processes${broker !== undefined ? ` + ${broker.version}` : ''} ready in ${(Date.now() - t0).toString()} ms`,
    );

    const pids = [...children.map((c) => c.pid), ...(broker !== undefined ? [broker.pid] : [])];
    const sample = (): ProcSample[] => pids.map(readProcSample);
    const before = sample();
    let atLastDelivery = before;
    const startCounts = subs.map((s) => s.progress?.count ?? 0);
    if (startCounts.some((n) => n !== 0)) throw new Error('deliveries before the first emit');
    pub.send({ type: 'go' });

    const expected = opts.subs * opts.messages;
    let lastTotal = 0;
    let lastSettled = 0;
    let lastActivity = Date.now();
    let lastInFlightAsk = 0;
    /** Ours: ids being repaired or deliveries queued when the run ended. */
    let unresolved = 0;
    for (;;) {
      await sleep(POLL_MS);
      const dead = children.find((c) => c.exited);
      if (dead !== undefined) throw new Error(`${dead.name} exited during the run`);
      const now = sample();
      const total = subs.reduce((n, s) => n + (s.progress?.count ?? 0), 0);
      const p = pub.pubProgress;
      const settled = p?.settled ?? 0;
      if (total !== lastTotal) atLastDelivery = now;
      if (total !== lastTotal || settled !== lastSettled) lastActivity = Date.now();
      lastTotal = total;
      lastSettled = settled;
      const emittedAll = p !== undefined && p.emitted === opts.messages;
      const settledAll = emittedAll && p.settled === p.emitted;
      if (total >= expected && settledAll) break;
      const quiet = Date.now() - lastActivity;
      if (emittedAll && quiet >= QUIET_MS) {
        if (!ours) break;
        if (Date.now() - lastInFlightAsk < IN_FLIGHT_INTERVAL_MS) continue;
        lastInFlightAsk = Date.now();
        // A node too busy to answer within the bound still has work: it is not done.
        const held = await Promise.all(
          children.map((c) =>
            c
              .request({ type: 'in-flight' }, 'in-flight', IN_FLIGHT_ANSWER_MS)
              .catch(() => undefined),
          ),
        );
        unresolved = sumOf(held, 'missing') + sumOf(held, 'queuedDeliveries');
        const idle = held.every((h) => h !== undefined && h.queuedBytes === 0);
        if (unresolved === 0 && idle) break;
        if (quiet >= REPAIR_WAIT_MS) {
          say(
            `ended ${(REPAIR_WAIT_MS / 1000).toString()} s after the last delivery with ${sumOf(held, 'missing').toString()} ids still being repaired, ${sumOf(held, 'queuedDeliveries').toString()} deliveries queued, ${sumOf(held, 'queuedBytes').toString()} bytes queued to peers; ${held.filter((h) => h === undefined).length.toString()} node(s) too busy to answer`,
          );
          break;
        }
        continue;
      }
      if (quiet >= STALL_TIMEOUT_MS) {
        throw new Error(
          `nothing happened for ${STALL_TIMEOUT_MS.toString()} ms (emitted ${String(p?.emitted ?? 0)} of ${opts.messages.toString()})`,
        );
      }
    }
    const delta = sumDeltas(before, atLastDelivery);
    const reports = await Promise.all(
      subs.map((s) => s.request({ type: 'report' }, 'report', 120_000)),
    );
    const p = pub.pubProgress!;
    const figures = computeFigures({
      transport,
      subs: opts.subs,
      messages: opts.messages,
      firstEmitAt: p.firstEmitAt,
      subscribers: reports,
      cpuTicks: delta.cpuTicks,
      ticksPerSecond,
      wchar: delta.wchar,
      peakSubscriberRssBytes: Math.max(...subs.map((s) => readPeakRssBytes(s.pid))),
      emitErrors: p.errors,
      emitsUnsettled: p.emitted - p.settled,
      firstEmitError: p.firstError,
      unresolvedAtEnd: unresolved,
    });
    if (ours && figures.lost > 0) await sayGivenUp(children, say);
    const allProcessesRssMB = pids.reduce((n, pid) => n + readPeakRssBytes(pid), 0) / 1e6;
    say(
      `${figures.deliveries.toString()} of ${expected.toString()} deliveries in ${Math.round(figures.elapsedMs).toString()} ms; peak RSS of the ${pids.length.toString()} processes summed: ${Math.round(allProcessesRssMB).toString()} MB`,
    );
    return { figures, brokerVersion: broker?.version, allProcessesRssMB };
  } finally {
    await Promise.all(started.map((c) => c.stop()));
    await broker?.stop();
    if (liveProcesses() > 0)
      say(`${liveProcesses().toString()} process(es) still running after the run`);
  }
}
