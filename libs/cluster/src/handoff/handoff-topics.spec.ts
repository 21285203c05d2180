import { describe, expect, it } from '@jest/globals';
import { HandoffTopics, memberHolds } from './handoff-topics.js';

describe('HandoffTopics', () => {
  const join = (): boolean => true;

  it('charges each sender at most maxPerPeer unknown topics, known ones never', () => {
    const t = new HandoffTopics(2);
    expect(t.accept('a.1', 'm', false, join)).toBe(true);
    expect(t.accept('a.2', 'm', false, join)).toBe(true);
    expect(t.accept('a.3', 'm', false, join)).toBe(false);
    expect(t.refused).toBe(1);
    // Another sender has its own allowance; a known topic is not charged.
    expect(t.accept('a.3', 'n', false, join)).toBe(true);
    expect(t.accept('a.4', 'm', true, join)).toBe(true);
    expect(t.refused).toBe(1);
  });

  it('frees a place when the topic is left, and charges nothing the join refused', () => {
    const t = new HandoffTopics(1);
    expect(t.accept('a.1', 'm', false, () => false)).toBe(false);
    expect(t.refused).toBe(0);
    expect(t.accept('a.1', 'm', false, join)).toBe(true);
    expect(t.accept('a.2', 'm', false, join)).toBe(false);
    t.left('a.1');
    expect(t.accept('a.2', 'm', false, join)).toBe(true);
    t.left('unknown');
    expect(t.refused).toBe(1);
  });

  it('finds a topic held by an alive member itself, not through a pattern or a dead member', () => {
    const subs: Record<string, string[]> = { p: ['orders.#'], q: ['orders.eu'], d: ['orders.us'] };
    const directory = {
      subscribersOf: (topic: string, isAlive: (n: string) => boolean) =>
        Object.keys(subs).filter(
          (n) => isAlive(n) && subs[n]!.some((s) => s === topic || s === 'orders.#'),
        ),
      entry: (n: string) =>
        subs[n] && { node: n, version: 1, subscriptions: subs[n], responders: [], groups: [] },
    };
    const alive = (n: string): boolean => n !== 'd';
    expect(memberHolds(directory, 'orders.eu', alive)).toBe(true);
    expect(memberHolds(directory, 'orders.us', alive)).toBe(false);
    expect(memberHolds(directory, 'orders.new', alive)).toBe(false);
  });
});
