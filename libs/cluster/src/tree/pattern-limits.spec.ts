/**
 * The caps on topics a pattern subscriber joins on the word of remote input (docs/limits.md): a
 * Plumtree frame joins a new topic only from a sender the directory lists for it, and topics
 * joined only through a pattern stop at `limits.maxPatternTopics`, whatever names them.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { encodeFrame, FrameType, type GossipMessage } from '@plumtree/plumtree';
import { MemoryNetwork } from '@plumtree/swim';
import { encodeHandoffRequest } from '../handoff/handoff-codec.js';
import { PlumtreeNode, type Delivery, type PlumtreeNodeOptions } from '../index.js';
import type { FrameTransport } from '../transport/index.js';
import { FAST_SWIM } from '../../../../test/support/fast-swim.js';
import { waitFor } from '../../../../test/support/wait-for.js';

/** A member's frame transport: the attacker writes crafted frames on it. */
function framesOf(node: PlumtreeNode): FrameTransport {
  return (node as unknown as { parts: { frames: FrameTransport } }).parts.frames;
}

function gossip(topic: string, seq: number): GossipMessage {
  return {
    type: FrameType.Gossip,
    topic,
    id: { origin: 'mallory', epoch: 1, seq },
    hops: 0,
    publishedAtMs: Date.now(),
    payload: Uint8Array.of(1),
  };
}

describe('pattern-joined topics', () => {
  const nodes: PlumtreeNode[] = [];
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.close()));
  });

  async function start(net: MemoryNetwork, name: string, extra: Partial<PlumtreeNodeOptions> = {}) {
    const node = await PlumtreeNode.start({
      name,
      persistence: false,
      transport: net.bind(`10.0.0.${nodes.length + 1}:7946`, { streamTimeoutMs: 600_000 }),
      swim: FAST_SWIM,
      seeds: nodes.length > 0 ? [nodes[0]!.address] : [],
      seed: nodes.length + 1,
      ...extra,
    });
    nodes.push(node);
    return node;
  }

  it('joins a frame-named topic only from a listed sender, and at most maxPatternTopics', async () => {
    const net = new MemoryNetwork();
    const victim = await start(net, 'victim', { limits: { maxPatternTopics: 5 } });
    const mallory = await start(net, 'mallory');
    await waitFor('membership', () => nodes.every((n) => n.members().length === 2));
    const got: Delivery[] = [];
    victim.subscribe('orders.#').subscribe((d) => got.push(d));
    await waitFor("the pattern in mallory's directory", () =>
      mallory.subscribersOf('orders.x').includes('victim'),
    );
    await waitFor(
      'connected',
      () => framesOf(mallory).send('victim', encodeFrame(gossip('x', 1))) === 'queued',
    );
    // GOSSIP naming new topics from a member the directory does not list for them: not joined.
    for (let i = 0; i < 50; i++)
      framesOf(mallory).send('victim', encodeFrame(gossip(`orders.g${i}`, i + 1)));
    await waitFor('the frames counted', () => victim.stats().limits.unlistedTopicFrames === 50);
    expect(victim.topics()).toEqual([]);
    // Hand-offs (a publisher's own request) join, up to the cap.
    for (let i = 0; i < 20; i++) {
      framesOf(mallory).send('victim', encodeHandoffRequest(gossip(`orders.h${i}`, 100 + i)));
    }
    await waitFor('the refusals counted', () => victim.stats().limits.patternJoinsRefused === 15);
    expect(victim.topics()).toHaveLength(5);
    expect(victim.stats().limits.patternTopics).toBe(5);
    // The joined topics' messages reach the observer through the delivery queue, a turn after
    // the frames that carried them were counted.
    await waitFor('the joined topics delivered', () => got.length >= 5);
    expect(got).toHaveLength(5);
    // A concrete subscription is not a pattern join: it is never refused.
    victim.subscribe('orders.mine').subscribe();
    expect(victim.topics()).toContain('orders.mine');
  });

  it('at the cap, a new topic replaces one idle for patternTopicIdleMs', async () => {
    const net = new MemoryNetwork();
    const victim = await start(net, 'victim', {
      limits: { maxPatternTopics: 3, patternTopicIdleMs: 100 },
    });
    const mallory = await start(net, 'mallory');
    await waitFor('membership', () => nodes.every((n) => n.members().length === 2));
    victim.subscribe('orders.#').subscribe();
    const handOff = (topic: string, seq: number): string =>
      framesOf(mallory).send('victim', encodeHandoffRequest(gossip(topic, seq)));
    await waitFor('connected', () => handOff('orders.a', 1) === 'queued');
    handOff('orders.b', 2);
    handOff('orders.c', 3);
    await waitFor('the cap filled', () => victim.topics().length === 3);
    // Once one of them is idle long enough, a new topic takes its place (and only then).
    let seq = 10;
    await waitFor('the new topic joined', () => {
      handOff(`orders.new`, seq++);
      return victim.topics().includes('orders.new');
    });
    expect(victim.topics()).toHaveLength(3);
    expect(victim.topics()).not.toContain('orders.a');
    expect(victim.stats().limits.patternTopicsReplaced).toBe(1);
  });
});
