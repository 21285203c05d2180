/**
 * One process of `bench:cluster` (forked by main.ts, IPC to it): a PlumtreeNode on 127.0.0.1 in
 * one topic's tree. A subscriber counts deliveries per phase (reported every
 * {@link PROGRESS_INTERVAL_MS}) and records publish-to-delivery latencies in the latency phase; the
 * publisher runs the closed loop or the fixed-rate run the parent asks for. Nothing is printed per
 * message: at these rates the printing would be the benchmark.
 */
import { performance } from 'node:perf_hooks';
import { PlumtreeNode, type Delivery } from '@plumtree/cluster';
import {
  makePayload,
  Phase,
  readPayload,
  type FromWorker,
  type ToWorker,
  type WorkerConfig,
} from './bench-protocol.js';

/** How often a subscriber reports its delivery count. */
const PROGRESS_INTERVAL_MS = 10;
/** Burst: publishes between two yields to the event loop (so sockets are written, frames read). */
const BURST_SLICE = 200;

function send(m: FromWorker): void {
  process.send?.(m);
}

const now = (): number => performance.timeOrigin + performance.now();

async function run(cfg: WorkerConfig): Promise<void> {
  const node = await PlumtreeNode.start({
    name: cfg.name,
    // The bench measures the protocol; bench:store measures the store.
    persistence: false,
    bindAddr: '127.0.0.1',
    bindPort: 0,
    seeds: cfg.seeds,
    // memberlist's local timers, but LAN's stream timeout: 32 processes starting at once on 2
    // cores all push-pull with the publisher, which cannot answer each within local's 1 s.
    swim: { preset: 'local', tcpTimeoutMs: 10_000 },
    plumtree: { preset: 'lan', flood: cfg.flood },
    topics: [cfg.topic],
    keys: [...cfg.keys],
  });
  const counts = new Map<number, number>();
  const seen = new Map<number, Set<number>>();
  /** Per latency phase: sequence numbers and publish-to-delivery ms. */
  const lat = new Map<number, { seqs: number[]; latMs: number[] }>();
  let delivered = 0;
  node.subscribe(cfg.topic).subscribe({
    next: (d: Delivery) => {
      if (d.origin === cfg.name) return; // the publisher's own delivery
      const h = readPayload(d.raw);
      if (h === undefined) return;
      const at = now();
      let s = seen.get(h.phase);
      if (s === undefined) seen.set(h.phase, (s = new Set()));
      if (s.has(h.seq)) return; // never happens (at most once per id); counted once if it did
      s.add(h.seq);
      delivered++;
      counts.set(h.phase, (counts.get(h.phase) ?? 0) + 1);
      if (h.phase !== Phase.Saturate) {
        let l = lat.get(h.phase);
        if (l === undefined) lat.set(h.phase, (l = { seqs: [], latMs: [] }));
        l.seqs.push(h.seq);
        l.latMs.push(at - h.atMs);
      }
    },
  });

  if (cfg.role === 'subscriber') {
    const reported = new Map<number, number>();
    setInterval(() => {
      for (const [phase, count] of counts) {
        if (reported.get(phase) !== count) {
          reported.set(phase, count);
          send({ type: 'progress', phase: phase as Phase, count });
        }
      }
    }, PROGRESS_INTERVAL_MS);
  }

  // Publisher state.
  let loop: { phase: Phase; window: number; published: number; acked: number } | undefined;
  let rateTimer: NodeJS.Timeout | undefined;
  const publishOne = (phase: Phase, seq: number): void => {
    node.publish(cfg.topic, makePayload(cfg.payload, seq, phase, now())).catch((e: unknown) => {
      send({ type: 'error', message: `publish: ${(e as Error).message}` });
    });
  };
  const pump = (): void => {
    if (loop === undefined) return;
    while (loop.published - loop.acked < loop.window) publishOne(loop.phase, loop.published++);
  };

  process.on('message', (raw: unknown) => {
    const m = raw as ToWorker;
    switch (m.type) {
      case 'peers':
        send({ type: 'peers', view: node.stats().topics[cfg.topic]?.peers ?? 0 });
        break;
      case 'snapshot': {
        const cpu = process.cpuUsage();
        const s = node.stats();
        const t = s.topics[cfg.topic];
        send({
          type: 'snapshot',
          cpuUs: cpu.user + cpu.system,
          delivered,
          gossipReceived: s.node.framesReceived.gossip,
          duplicates: t?.duplicates ?? 0,
          bytesSent: s.transport.bytesSent,
          gossipSent: s.node.framesSent.gossip,
          controlSent: s.node.framesSent.ihave + s.node.framesSent.graft + s.node.framesSent.prune,
          eager: t?.eager ?? 0,
          lazy: t?.lazy ?? 0,
          overflows: s.transport.overflows,
          demotions: s.node.backpressureDemotions,
        });
        break;
      }
      case 'loop':
        loop = { phase: m.phase, window: m.window, published: 0, acked: 0 };
        pump();
        break;
      case 'acked':
        if (loop !== undefined) {
          loop.acked = Math.max(loop.acked, m.upTo);
          pump();
        }
        break;
      case 'stop-loop':
        if (loop !== undefined) {
          send({ type: 'published', phase: loop.phase, count: loop.published, done: true });
        }
        loop = undefined;
        break;
      case 'burst': {
        // Open loop: nothing waits for delivery; the loop yields every BURST_SLICE publishes.
        let sent = 0;
        const slice = (): void => {
          const end = Math.min(m.count, sent + BURST_SLICE);
          while (sent < end) publishOne(m.phase, sent++);
          if (sent < m.count) setImmediate(slice);
          else send({ type: 'published', phase: m.phase, count: sent, done: true });
        };
        slice();
        break;
      }
      case 'rate': {
        // Due messages are published on a 1 ms tick: count = elapsed * rate - sent.
        const start = performance.now();
        let sent = 0;
        rateTimer = setInterval(() => {
          const due = Math.min(m.count, Math.floor(((performance.now() - start) * m.rate) / 1000));
          while (sent < due) publishOne(m.phase, sent++);
          if (sent >= m.count) {
            clearInterval(rateTimer);
            send({ type: 'published', phase: m.phase, count: sent, done: true });
          }
        }, 1);
        break;
      }
      case 'latencies':
        send({
          type: 'latencies',
          seqs: lat.get(m.phase)?.seqs ?? [],
          latMs: lat.get(m.phase)?.latMs ?? [],
        });
        break;
      case 'close':
        if (rateTimer !== undefined) clearInterval(rateTimer);
        void node.close().then(() => process.exit(0));
        break;
    }
  });
  send({ type: 'ready', addr: node.address });
}

const cfg = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig;
run(cfg).catch((e: unknown) => {
  send({ type: 'error', message: String(e) });
  process.exit(1);
});
