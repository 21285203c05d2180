/**
 * A subscriber process of `bench:compare` (forked by main.ts): one Nest transport server with
 * one event handler for `'bench'`, registered with `server.addHandler(pattern, handler, true)`
 * for every transport, which is what `@EventPattern('bench')` registers at bootstrap. The handler
 * only records (delivery-recorder.ts); counters go to the parent every REPORT_INTERVAL_MS while
 * they change, latencies after the run.
 */
import { reportWhileChanging, runChild, serveParent, toParent } from './child-ipc.js';
import { PATTERN, REPORT_INTERVAL_MS, wallClockMs } from './compare-protocol.js';
import { DeliveryRecorder } from './delivery-recorder.js';
import { createServer, quietNestLogs } from './transports.js';

runChild(async (cfg) => {
  quietNestLogs();
  const ours = await createServer(cfg);
  const server = ours.endpoint;
  const recorder = new DeliveryRecorder(cfg.messages);
  server.addHandler(
    PATTERN,
    // Async like the handlers Nest builds for @EventPattern methods.
    async (data: unknown) => recorder.record(data, wallClockMs()),
    true,
  );
  await new Promise<void>((resolve, reject) => {
    void server.listen((err?: unknown) => (err === undefined ? resolve() : reject(err)));
  });
  const progress = reportWhileChanging(
    REPORT_INTERVAL_MS,
    () => {
      const p = recorder.progress();
      return `${p.count.toString()}/${p.dups.toString()}/${String(p.probed)}`;
    },
    () => recorder.progress(),
  );
  serveParent(
    {
      'in-flight': () => toParent(ours.inFlight()),
      view: () => toParent({ type: 'view', peers: ours.view() }),
      report: () => toParent(recorder.report()),
    },
    () => {
      clearInterval(progress);
      return server.close();
    },
  );
  toParent({ type: 'ready', addr: ours.address() });
});
