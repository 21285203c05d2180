/**
 * The publisher process of `bench:compare` (forked by main.ts): one Nest `ClientProxy`
 * (connected before the run, as Nest does at the first call) calling
 * `emit('bench', { t, i, pad })`, subscribing to each returned Observable the way a Nest user
 * does and counting its errors. Burst: open loop, a `setImmediate` every {@link BURST_SLICE}
 * emits so the event loop breathes (sockets are written, answers read). `--rate R`: due
 * messages emitted on a 1 ms tick (count due = elapsed * R).
 */
import { performance } from 'node:perf_hooks';
import type { Observer } from 'rxjs';
import { errorText, reportWhileChanging, runChild, serveParent, toParent } from './child-ipc.js';
import {
  PATTERN,
  REPORT_INTERVAL_MS,
  wallClockMs,
  type BenchMessage,
  type ChildConfig,
  type PublisherProgress,
} from './compare-protocol.js';
import { createClient, quietNestLogs } from './transports.js';

/** Emits between two yields of the burst loop. */
const BURST_SLICE = 200;

runChild(async (cfg: ChildConfig) => {
  quietNestLogs();
  const ours = await createClient(cfg);
  const client = ours.endpoint;
  await client.connect();
  const pad = 'x'.repeat(cfg.payload);
  const state = {
    emitted: 0,
    settled: 0,
    errors: 0,
    firstError: undefined as string | undefined,
    firstEmitAt: Number.NaN,
    lastEmitAt: Number.NaN,
  };
  const observer: Partial<Observer<unknown>> = {
    complete: () => {
      state.settled++;
    },
    error: (e: unknown) => {
      state.settled++;
      state.errors++;
      state.firstError ??= errorText(e);
    },
  };
  const emitOne = (i: number): void => {
    const t = wallClockMs();
    if (state.emitted === 0) state.firstEmitAt = t;
    state.lastEmitAt = t;
    state.emitted++;
    const m: BenchMessage = { t, i, pad };
    client.emit(PATTERN, m).subscribe(observer);
  };
  const burst = async (): Promise<void> => {
    for (let i = 0; i < cfg.messages; i++) {
      emitOne(i);
      if (i % BURST_SLICE === BURST_SLICE - 1) await new Promise((r) => setImmediate(r));
    }
  };
  const atRate = (rate: number): Promise<void> =>
    new Promise((resolve) => {
      const start = performance.now();
      let i = 0;
      const tick = setInterval(() => {
        const due = Math.min(
          cfg.messages,
          Math.floor(((performance.now() - start) * rate) / 1000) + 1,
        );
        while (i < due) emitOne(i++);
        if (i >= cfg.messages) {
          clearInterval(tick);
          resolve();
        }
      }, 1);
    });

  const progress = (): PublisherProgress => ({ type: 'pub-progress', ...state });
  const reporter = reportWhileChanging(
    REPORT_INTERVAL_MS,
    () => `${state.emitted.toString()}/${state.settled.toString()}`,
    progress,
  );
  serveParent(
    {
      'in-flight': () => toParent(ours.inFlight()),
      view: () => toParent({ type: 'view', peers: ours.view() }),
      // Probe errors (no subscriber known yet) are expected while the run gets ready.
      probe: () =>
        client.emit(PATTERN, { t: wallClockMs(), i: -1, pad: '' }).subscribe({ error: () => {} }),
      go: () =>
        void (cfg.rate === undefined ? burst() : atRate(cfg.rate)).then(() => toParent(progress())),
    },
    () => {
      clearInterval(reporter);
      return client.close();
    },
  );
  toParent({ type: 'ready', addr: ours.address() });
});
