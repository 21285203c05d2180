import { describe, expect, it } from '@jest/globals';
import { rendezvousOwner, rendezvousScore } from './rendezvous.js';

const ids = Array.from({ length: 30_000 }, (_, i) => `pub-${i % 7}/1764000000000/${i + 1}`);

describe('rendezvous owner', () => {
  it('is the member with the highest score, the same whatever the order of the list', () => {
    const members = ['a', 'b', 'c', 'd'];
    for (const id of ids.slice(0, 500)) {
      const owner = rendezvousOwner(id, members)!;
      const best = Math.max(...members.map((m) => rendezvousScore(id, m)));
      expect(rendezvousScore(id, owner)).toBe(best);
      expect(rendezvousOwner(id, [...members].reverse())).toBe(owner);
    }
    expect(rendezvousOwner('x', [])).toBeUndefined();
  });

  it('spreads messages evenly: each of 3 members owns 30%..37% of 30,000 ids', () => {
    const members = ['billing-0', 'billing-1', 'billing-2'];
    const counts = new Map(members.map((m) => [m, 0]));
    for (const id of ids) {
      const o = rendezvousOwner(id, members)!;
      counts.set(o, counts.get(o)! + 1);
    }
    for (const n of counts.values()) {
      expect(n / ids.length).toBeGreaterThan(0.3);
      expect(n / ids.length).toBeLessThan(0.37);
    }
  });

  it('a member going away moves only its own messages, spread over the others', () => {
    const members = ['a', 'b', 'c'];
    const moved = new Map<string, number>([
      ['a', 0],
      ['c', 0],
    ]);
    for (const id of ids) {
      const before = rendezvousOwner(id, members);
      const after = rendezvousOwner(id, ['a', 'c'])!;
      if (before !== 'b') expect(after).toBe(before);
      else moved.set(after, moved.get(after)! + 1);
    }
    const total = moved.get('a')! + moved.get('c')!;
    expect(moved.get('a')! / total).toBeGreaterThan(0.45);
    expect(moved.get('a')! / total).toBeLessThan(0.55);
  });
});
