/**
 * The cost of a durable topic against a plain one, measured end to end in one process: two
 * `PlumtreeNode`s on 127.0.0.1 (real UDP/TCP), each with a LevelDB store in a temp dir, both
 * subscribed to a plain topic and to a durable one. The publisher sends `messages` payloads on
 * one topic in bursts and the clock stops when the other node delivered the last one; then the
 * same on the other topic. Rounds alternate (plain, durable, plain, durable) so drift on a shared
 * machine hits both; the best round of each is reported, with every round printed.
 *
 * On the durable topic every delivery is appended to the log of each node (one LevelDB batch per
 * turn of records) before its handler runs; on the plain one it goes straight to the handler.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { waitUntil } from '../wait-until.js';
import { PlumtreeNode } from '@plumtree/cluster';

/** Waits of this bench: polled every 5 ms (some pace a measured loop), 20 s unless said. */
const POLL = { timeoutMs: 20_000, intervalMs: 5 };

/** One measured round. */
export interface OverheadRound {
  readonly topic: 'plain' | 'durable';
  readonly messages: number;
  readonly ms: number;
  readonly deliveriesPerSec: number;
}

/** The figures of the comparison. */
export interface OverheadFigures {
  readonly rounds: readonly OverheadRound[];
  readonly plainPerSec: number;
  readonly durablePerSec: number;
  /** durable / plain deliveries per second (1.0: no cost). */
  readonly ratio: number;
  /** Extra time per delivery on the durable topic, microseconds. */
  readonly overheadUsPerDelivery: number;
}

const BURST = 256;
const SWIM = { preset: 'local' } as const;

/** Runs the comparison with `messages` payloads of `payloadBytes` per round. */
export async function measureDeliveryOverhead(
  messages: number,
  payloadBytes: number,
  rounds = 2,
): Promise<OverheadFigures> {
  const root = mkdtempSync(join(tmpdir(), 'plumtree-bench-overhead-'));
  const nodes: PlumtreeNode[] = [];
  try {
    const a = await PlumtreeNode.start({
      name: 'bench-a',
      bindAddr: '127.0.0.1',
      bindPort: 0,
      swim: SWIM,
      dataDir: join(root, 'a'),
      durable: { topics: ['durable'], maxMessages: messages * (rounds + 1) * 2 },
    });
    nodes.push(a);
    const b = await PlumtreeNode.start({
      name: 'bench-b',
      bindAddr: '127.0.0.1',
      bindPort: 0,
      swim: SWIM,
      seeds: [a.address],
      dataDir: join(root, 'b'),
      durable: { topics: ['durable'], maxMessages: messages * (rounds + 1) * 2 },
    });
    nodes.push(b);
    const counts = { plain: 0, durable: 0 };
    for (const topic of ['plain', 'durable'] as const) {
      a.subscribe(topic).subscribe(() => undefined);
      b.subscribe(topic).subscribe(() => {
        counts[topic]++;
      });
    }
    // Both trees linked both ways (a plain message sent before that is lost: no catch-up).
    await waitUntil(
      'the nodes to see each other',
      () =>
        (['plain', 'durable'] as const).every(
          (t) => a.subscribersOf(t).length === 1 && b.subscribersOf(t).length === 1,
        ) &&
        a.isDurable('durable') &&
        b.isDurable('durable'),
      POLL,
    );
    const payload = new Uint8Array(payloadBytes).fill(7);
    const round = async (topic: 'plain' | 'durable', n: number): Promise<OverheadRound> => {
      const target = counts[topic] + n;
      const t0 = performance.now();
      for (let sent = 0; sent < n;) {
        const end = Math.min(n, sent + BURST);
        for (; sent < end; sent++) void a.publish(topic, payload);
        // Let the frames go out and the receiver keep up, as a steady publisher would.
        await new Promise((r) => setImmediate(r));
        await waitUntil('the receiver', () => counts[topic] >= target - n + sent - 4 * BURST, POLL);
      }
      await waitUntil(`${topic}: all ${n} delivered`, () => counts[topic] >= target, {
        ...POLL,
        timeoutMs: 120_000,
      });
      const ms = performance.now() - t0;
      return { topic, messages: n, ms, deliveriesPerSec: (n / ms) * 1000 };
    };
    // Warm-up (connections, JIT, the logs' first files), not reported.
    await round('plain', Math.min(1_000, messages));
    await round('durable', Math.min(1_000, messages));
    const measured: OverheadRound[] = [];
    for (let r = 0; r < rounds; r++) {
      measured.push(await round('plain', messages));
      measured.push(await round('durable', messages));
    }
    const best = (t: 'plain' | 'durable'): number =>
      Math.max(...measured.filter((m) => m.topic === t).map((m) => m.deliveriesPerSec));
    const plainPerSec = best('plain');
    const durablePerSec = best('durable');
    return {
      rounds: measured,
      plainPerSec,
      durablePerSec,
      ratio: durablePerSec / plainPerSec,
      overheadUsPerDelivery: (1e6 / durablePerSec - 1e6 / plainPerSec) | 0,
    };
  } finally {
    await Promise.all(nodes.map((n) => n.close()));
    rmSync(root, { recursive: true, force: true });
  }
}
