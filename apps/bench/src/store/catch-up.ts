/**
 * End-to-end catch-up of a durable topic, measured in one process: node A (publisher, durable)
 * and node B (durable subscriber, LevelDB store) on 127.0.0.1. B leaves; A publishes `messages`
 * payloads; B starts again on its store and the clock runs from B's start until its handler has
 * had all of them, pulled from A's log in paged catch-up requests (every page appended to B's
 * log in one batch before its handler sees it). The figure includes B's start and join.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { waitUntil } from '../wait-until.js';
import { PlumtreeNode, type PlumtreeNodeOptions } from '@plumtree/cluster';

/** Waits of this bench: polled every 5 ms (some pace a measured loop), 20 s unless said. */
const POLL = { timeoutMs: 20_000, intervalMs: 5 };

/** What one catch-up took. */
export interface CatchUpFigures {
  readonly messages: number;
  /** From B's start to its last delivery. */
  readonly ms: number;
  readonly messagesPerSec: number;
  /** Catch-up pages B pulled them in. */
  readonly catchups: number;
  readonly recordsPulled: number;
}

const TOPIC = 'ledger';

/** Runs the measurement with `messages` payloads of `payloadBytes`. */
export async function measureCatchUp(
  messages: number,
  payloadBytes: number,
): Promise<CatchUpFigures> {
  const root = mkdtempSync(join(tmpdir(), 'plumtree-bench-catchup-'));
  const open: PlumtreeNode[] = [];
  const durable = { topics: [TOPIC], maxMessages: messages * 2 };
  try {
    const a = await PlumtreeNode.start({
      name: 'catchup-a',
      bindAddr: '127.0.0.1',
      bindPort: 0,
      swim: { preset: 'local' },
      dataDir: join(root, 'a'),
      durable,
    });
    open.push(a);
    a.subscribe(TOPIC).subscribe(() => undefined);
    const bOptions: PlumtreeNodeOptions = {
      name: 'catchup-b',
      bindAddr: '127.0.0.1',
      bindPort: 0,
      swim: { preset: 'local' },
      seeds: [a.address],
      dataDir: join(root, 'b'),
      durable,
    };
    const b1 = await PlumtreeNode.start(bOptions);
    open.push(b1);
    b1.subscribe(TOPIC).subscribe(() => undefined);
    await waitUntil('A to see B', () => a.subscribersOf(TOPIC).length === 1, POLL);
    // Gracefully: A drops B from the tree, so nothing is queued for B's next life.
    await b1.leave();
    open.splice(open.indexOf(b1), 1);
    await waitUntil('A to see B leave', () => a.subscribersOf(TOPIC).length === 0, POLL);
    const payload = new Uint8Array(payloadBytes).fill(3);
    for (let i = 0; i < messages; i++) {
      await a.publish(TOPIC, payload);
      if (i % 256 === 255) await new Promise((r) => setImmediate(r));
    }
    await a.durableIdle(TOPIC);
    let got = 0;
    const t0 = performance.now();
    const b2 = await PlumtreeNode.start(bOptions);
    open.push(b2);
    b2.subscribe(TOPIC).subscribe(() => {
      got++;
    });
    await waitUntil(`B to catch up ${messages.toString()}`, () => got >= messages, {
      ...POLL,
      timeoutMs: 300_000,
    });
    const ms = performance.now() - t0;
    const st = b2.stats().durable.topics[TOPIC];
    return {
      messages,
      ms,
      messagesPerSec: (messages / ms) * 1000,
      catchups: st?.catchupsCompleted ?? 0,
      recordsPulled: st?.recordsPulled ?? 0,
    };
  } finally {
    await Promise.all(open.map((n) => n.close()));
    rmSync(root, { recursive: true, force: true });
  }
}
