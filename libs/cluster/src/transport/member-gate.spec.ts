/**
 * The member gate: admit a member at its address, refuse another address at once (or admit it
 * with 'member-only'), hold an unknown name until membership says it is a member or refuse it at
 * the deadline, the caps (per name, held in total), the claim of this node's own name, and one
 * log line per refused peer. Waits are bounded polls.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { MemberGate, type Claimant, type MemberGateOptions } from './member-gate.js';
import { waitFor } from '../../../../test/support/wait-for.js';

interface TestClaim extends Claimant {
  admitted: number;
  closed: number;
}

function claim(name: string, from: string): TestClaim {
  const c: TestClaim = {
    name,
    from,
    admitted: 0,
    closed: 0,
    admit: () => c.admitted++,
    close: () => c.closed++,
  };
  return c;
}

describe('MemberGate', () => {
  const members = new Map<string, string>();
  const lines: string[] = [];
  const gates: MemberGate[] = [];

  function gate(o: Partial<MemberGateOptions> = {}): MemberGate {
    const g = new MemberGate({
      localName: 'self',
      resolve: (n) => members.get(n),
      sourceCheck: 'address',
      pendingMemberMs: 10_000,
      maxPendingConnections: 2,
      maxInboundPerPeer: 2,
      log: (l) => lines.push(l),
      ...o,
    });
    gates.push(g);
    return g;
  }

  afterEach(() => {
    for (const g of gates.splice(0)) g.close();
    members.clear();
    lines.length = 0;
  });

  it('admits a member from its advertised IP (any port, IPv4-mapped too)', () => {
    members.set('a', '10.0.0.1:7946');
    const g = gate();
    const c1 = claim('a', '10.0.0.1:51000');
    const c2 = claim('a', '[::ffff:10.0.0.1]:51001');
    g.claim(c1);
    g.claim(c2);
    expect([c1.admitted, c2.admitted, c1.closed + c2.closed]).toEqual([1, 1, 0]);
    expect(Object.values(g.refused).every((n) => n === 0)).toBe(true);
  });

  it("refuses a member's name from another IP at once, unless 'member-only'", () => {
    members.set('a', '10.0.0.1:7946');
    const g = gate();
    const c = claim('a', '10.0.0.66:51000');
    g.claim(c);
    expect([c.admitted, c.closed, g.refused.address]).toEqual([0, 1, 1]);
    const open = gate({ sourceCheck: 'member-only' });
    const c2 = claim('a', '10.0.0.66:51000');
    open.claim(c2);
    expect(c2.admitted).toBe(1);
  });

  it('holds an unknown name until it becomes a member, then admits it', () => {
    const g = gate();
    const c = claim('late', '10.0.0.2:5000');
    g.claim(c);
    expect([c.admitted, c.closed, g.heldCount]).toEqual([0, 0, 1]);
    g.recheck();
    expect(c.admitted).toBe(0);
    members.set('late', '10.0.0.2:7946');
    g.recheck();
    expect([c.admitted, c.closed, g.heldCount]).toEqual([1, 0, 0]);
  });

  it('refuses a held claim whose member appears at another address', () => {
    const g = gate();
    const c = claim('late', '10.0.0.2:5000');
    g.claim(c);
    members.set('late', '10.0.0.3:7946');
    g.recheck();
    expect([c.admitted, c.closed, g.refused.address, g.heldCount]).toEqual([0, 1, 1, 0]);
  });

  it('refuses a name that never becomes a member at the deadline, logged once', async () => {
    const g = gate({ pendingMemberMs: 20 });
    const c1 = claim('mallory', '10.0.0.9:1');
    const c2 = claim('mallory', '10.0.0.9:2');
    g.claim(c1);
    g.claim(c2);
    await waitFor('both refused', () => c1.closed === 1 && c2.closed === 1);
    expect(g.refused['not-member']).toBe(2);
    expect(g.heldCount).toBe(0);
    expect(lines).toEqual([
      "refused a frame connection from 10.0.0.9 claiming to be 'mallory': not-member",
    ]);
  });

  it("refuses this node's own name at once", () => {
    members.set('self', '10.0.0.1:7946');
    const g = gate();
    const c = claim('self', '10.0.0.1:5000');
    g.claim(c);
    expect([c.admitted, c.closed, g.refused['not-member']]).toEqual([0, 1, 1]);
  });

  it('caps claims per name and held claims in total; a released claim frees its place', () => {
    members.set('a', '10.0.0.1:7946');
    const g = gate();
    const a = [1, 2, 3].map((i) => claim('a', `10.0.0.1:${i}`));
    for (const c of a) g.claim(c);
    expect(a.map((c) => c.admitted)).toEqual([1, 1, 0]);
    expect(g.refused['peer-cap']).toBe(1);
    g.release(a[0]!);
    g.release(a[0]!);
    const again = claim('a', '10.0.0.1:4');
    g.claim(again);
    expect(again.admitted).toBe(1);
    const held = ['x', 'y', 'z'].map((n) => claim(n, '10.0.0.5:1'));
    for (const c of held) g.claim(c);
    expect(held.map((c) => c.closed)).toEqual([0, 0, 1]);
    expect([g.refused['pending-overflow'], g.heldCount]).toEqual([1, 2]);
    g.release(held[0]!);
    expect(g.heldCount).toBe(1);
  });
});
