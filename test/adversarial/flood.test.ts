/**
 * Issue 13's memory attack, by a member: about 2 MB of crafted frames on one connection to a
 * node subscribed to `orders.#` (GOSSIP naming 20,000 distinct `orders.*` topics, then IHAVE
 * floods announcing ids nobody has) must leave its heap within 32 MB of where it was, join no
 * topic its directory does not list a subscriber of, move the caps' counters (docs/limits.md),
 * and leave it delivering legitimate messages. The IHAVE flood's unknown ids are tracked only
 * within mallory's budget of new missing ids (`plumtree.newMissingPerPeerBurst`, refilled at
 * `newMissingPerPeerPerSecond`): the rest cost the victim a counter, not a timer and a GRAFT.
 *
 * The attacker is a real member (a PlumtreeNode that SWIM knows), writing frames built with the
 * real encoders on its own frame connection: after issue 13 item 1 a non-member gets nothing in
 * at all, so a member is the strongest position the attack can have.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  encodeFrame,
  FrameType,
  type GossipMessage,
  type IHaveEntry,
  type IHaveMessage,
} from '@plumtree/plumtree';
import { MemoryNetwork } from '@plumtree/swim';
import { PlumtreeNode } from '@plumtree/cluster';
import { memoryNodes } from '../support/memory-nodes.js';
import { waitFor } from '../support/wait-for.js';

/** The collector, exposed for this process (jest runs without --expose-gc). */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapUsed(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

const TOPICS = 20_000;
const MiB = 1024 * 1024;

/** A member's frame transport (the attacker writes on its own connection). */
interface FrameWriter {
  send(peer: string, frame: Uint8Array): string;
}
function framesOf(node: PlumtreeNode): FrameWriter {
  return (node as unknown as { parts: { frames: FrameWriter } }).parts.frames;
}

function gossip(topic: string, seq: number): GossipMessage {
  return {
    type: FrameType.Gossip,
    topic,
    id: { origin: 'mallory', epoch: 9, seq },
    hops: 0,
    publishedAtMs: 0,
    payload: Uint8Array.of(seq & 0xff),
  };
}

/**
 * IHAVEs on `topic` for ids nobody has: distinct origins, and long seq ranges (one entry in 64
 * announces 4,096 ids: a frame stays under the decoder's 65,536 ids).
 */
function ihaveFlood(topic: string, from: number, n: number): Uint8Array {
  const entries: IHaveEntry[] = [];
  for (let i = from; i < from + n; i++) {
    entries.push({
      id: { origin: `o${i}`, epoch: 1, seq: 1 },
      hops: 1,
      count: i % 64 === 0 ? 4_096 : 1,
    });
  }
  const msg: IHaveMessage = { type: FrameType.IHave, topic, entries };
  return encodeFrame(msg);
}

describe('a member floods a pattern subscriber', () => {
  // Local timers, not the tests' fast ones: the three nodes share one event loop, which the
  // victim's work on the flood holds for seconds; 50 ms probe timeouts would declare every node
  // dead and measure SWIM, not the caps (memoryNodes uses the local preset).
  const { nodes, start, closeAll } = memoryNodes({}, { streamTimeoutMs: 600_000 });
  afterAll(closeAll);

  /** Write `frames` on mallory's connection to the victim, waiting while its queue is full. */
  async function flood(mallory: PlumtreeNode, frames: Uint8Array[]): Promise<number> {
    let bytes = 0;
    for (const f of frames) {
      if (framesOf(mallory).send('victim', f) !== 'queued') {
        await waitFor('room in the queue', () => framesOf(mallory).send('victim', f) === 'queued');
      }
      bytes += f.length;
    }
    return bytes;
  }

  it('keeps the heap, the topics and the missing map bounded, and still delivers', async () => {
    const net = new MemoryNetwork();
    const victim = await start(net, 'victim');
    const mallory = await start(net, 'mallory', { limits: { maxPatternTopics: 1 } });
    const alice = await start(net, 'alice');
    await waitFor('membership', () => nodes.every((n) => n.members().length === 3));
    let delivered = 0;
    const legit: string[] = [];
    victim.subscribe('orders.#').subscribe(() => delivered++);
    victim.subscribe('alerts').subscribe((d) => legit.push(d.id));
    await waitFor('the directory', () => alice.subscribersOf('alerts').includes('victim'));

    // Frames built before the baseline: the attacker's own memory is not the victim's growth.
    const topicFrames = Array.from({ length: TOPICS }, (_, i) =>
      encodeFrame(gossip(`orders.t${i}`, i + 1)),
    );
    const before = heapUsed();

    // 1. Mallory is a member but subscribes to nothing: the directory lists it for no topic.
    let sent = await flood(mallory, topicFrames);
    await waitFor('every frame read', () => victim.stats().limits.unlistedTopicFrames === TOPICS, {
      timeoutMs: 60_000,
    });
    expect(victim.topics()).toEqual(['alerts']);

    // 2. Mallory subscribes to `orders.#` too: every orders topic now lists it. The same frames
    // join at most maxPatternTopics (default 1,000) topics.
    mallory.subscribe('orders.#').subscribe();
    await waitFor('mallory listed', () => victim.subscribersOf('orders.t1').includes('mallory'));
    sent += await flood(mallory, topicFrames);
    topicFrames.length = 0;
    await waitFor(
      'the joins refused',
      () => victim.stats().limits.patternJoinsRefused >= TOPICS - 1_000,
      { timeoutMs: 60_000 },
    );
    const joined = victim.topics().filter((t) => t !== 'alerts');
    expect(joined.length).toBeLessThanOrEqual(1_000);
    // Every topic joined has a subscriber other than the victim in its directory.
    for (const t of joined) expect(victim.subscribersOf(t).length).toBeGreaterThan(0);

    // 3. IHAVE floods on the joined topics for ids nobody has (distinct origins, long ranges).
    const ihaves: Uint8Array[] = [];
    let announced = 0;
    for (let i = 0; sent + ihaves.reduce((n, f) => n + f.length, 0) < 2 * MiB; i++) {
      ihaves.push(ihaveFlood(joined[i % joined.length]!, i * 200, 200));
      for (let k = i * 200; k < i * 200 + 200; k++) announced += k % 64 === 0 ? 4_096 : 1;
    }
    const target = victim.stats().transport.framesReceived + ihaves.length;
    const floodStart = performance.now();
    sent += await flood(mallory, ihaves);
    ihaves.length = 0;
    await waitFor(
      'every flood frame read',
      () =>
        victim.stats().transport.framesReceived >= target &&
        mallory.stats().transport.queuedBytes === 0,
      { timeoutMs: 120_000 },
    );
    const floodSeconds = (performance.now() - floodStart) / 1000;
    const stats = victim.stats();
    expect(stats.core.missing).toBeLessThanOrEqual(20_000);
    // Tracked at most: the budget's 20,000, and 10,000 a second while the flood was read.
    const tracked = announced - stats.limits.missingOverBudget;
    expect(tracked).toBeGreaterThan(0);
    expect(tracked).toBeLessThanOrEqual(20_000 + 10_000 * Math.ceil(floodSeconds + 1));
    expect(sent).toBeGreaterThanOrEqual(2 * MiB);

    // 4. Still serving: a legitimate publish reaches the victim (once alice sees it alive: the
    // flood's work may have made it late to answer probes).
    await waitFor(
      'the victim alive to alice',
      () => alice.members().some((m) => m.name === 'victim' && m.state === 'alive'),
      { timeoutMs: 60_000 },
    );
    const id = await alice.publish('alerts', 'still here');
    await waitFor('the legitimate delivery', () => legit.includes(id));

    const growth = heapUsed() - before;
    console.log(
      `flood: ${(sent / MiB).toFixed(2)} MiB sent; victim joined ${joined.length} topics, ` +
        `missing ${stats.core.missing}, seen ${stats.core.seen}, delivered ${delivered}; ` +
        `IHAVE flood: ${announced} ids in ${floodSeconds.toFixed(1)} s, ${tracked} tracked; ` +
        `heap growth ${(growth / MiB).toFixed(1)} MiB; limits ${JSON.stringify(stats.limits)}`,
    );
    expect(growth).toBeLessThan(32 * MiB);
  }, 180_000);
});
