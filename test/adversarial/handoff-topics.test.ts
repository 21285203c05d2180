/**
 * A member's hand-offs cannot fill a pattern subscriber's topics (handoff-topics.ts): a member
 * outside every tree publishes on many distinct topics under `orders.#`, each handed off to the
 * only subscriber, a pattern subscriber. The subscriber joins at most
 * `limits.maxHandoffTopicsPerPeer` of them for that member and answers NACK for the rest
 * (`stats().limits.handoffTopicsRefused`); a topic the directory holds is still joined on a
 * hand-off, and once a charged topic is left the member may hand off a new one.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { MemoryNetwork } from '@plumtree/swim';
import { NoSubscribersError } from '@plumtree/cluster';
import { memoryNodes } from '../support/memory-nodes.js';
import { waitFor } from '../support/wait-for.js';

const CAP = 5;

describe("a member's hand-offs to many topics", () => {
  const { nodes, start, closeAll } = memoryNodes({ handoffMaxAttempts: 1 });
  afterAll(closeAll);

  it('joins at most maxHandoffTopicsPerPeer topics for one sender, beyond those the directory holds', async () => {
    const net = new MemoryNetwork();
    const victim = await start(net, 'victim', { limits: { maxHandoffTopicsPerPeer: CAP } });
    const mallory = await start(net, 'mallory');
    const alice = await start(net, 'alice');
    await waitFor('membership', () => nodes.every((n) => n.members().length === 3));
    const delivered: string[] = [];
    const sub = victim.subscribe('orders.#').subscribe((d) => delivered.push(d.topic));
    // alice subscribes to one orders topic itself: the directory holds it.
    alice.subscribe('orders.held').subscribe();
    await waitFor('the directory', () => mallory.subscribersOf('orders.t0').includes('victim'));
    await waitFor('orders.held listed', () =>
      victim.subscribersOf('orders.held').includes('alice'),
    );

    const outcomes: Array<'ok' | 'refused'> = [];
    for (let i = 0; i < CAP + 3; i++) {
      outcomes.push(
        await mallory.publish(`orders.t${i.toString()}`, i).then(
          () => 'ok' as const,
          (e: unknown) => {
            expect(e).toBeInstanceOf(NoSubscribersError);
            return 'refused' as const;
          },
        ),
      );
    }
    expect(outcomes).toEqual([
      ...Array<'ok'>(CAP).fill('ok'),
      ...Array<'refused'>(3).fill('refused'),
    ]);
    const joined = victim.topics().filter((t) => t.startsWith('orders.t'));
    expect(joined).toHaveLength(CAP);
    expect(victim.stats().limits.handoffTopicsRefused).toBe(3);
    expect(victim.stats().node.handoffs.topicsRefused).toBe(3);

    // A topic the directory holds is not charged: still taken at the cap.
    await mallory.publish('orders.held', 'held');
    // A topic the victim is in already is not charged either.
    await mallory.publish('orders.t0', 'again');
    await waitFor('deliveries', () => delivered.length === CAP + 2);
    expect(victim.stats().limits.handoffTopicsRefused).toBe(3);

    // Once a charged topic is left, mallory may hand off a new one.
    sub.unsubscribe();
    await waitFor('the pattern topics left', () => victim.topics().length === 0);
    victim.subscribe('orders.#').subscribe();
    await mallory.publish('orders.new', 'new');
    expect(victim.topics()).toContain('orders.new');
  }, 60_000);
});
