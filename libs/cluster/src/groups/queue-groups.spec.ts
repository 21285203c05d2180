/**
 * The queue groups engine on three in-memory members wired to each other: ownership, shadows,
 * acknowledgements, takeover when a member dies, claim when an owner never acknowledges.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import type { MessageId } from '@plumtree/plumtree';
import { QueueGroups, type GroupMessage } from './queue-groups.js';

const TOPIC = 'orders.created';
const G = 'billing';

interface Member {
  readonly name: string;
  readonly engine: QueueGroups;
  /** Ids handed over, with the redelivered flag. */
  readonly handled: { id: string; redelivered: boolean }[];
}

function message(seq: number): GroupMessage {
  const id: MessageId = { origin: 'pub', epoch: 1, seq };
  return {
    topic: TOPIC,
    id,
    hops: 1,
    from: 'pub',
    headers: undefined,
    publishedAtMs: 0,
    raw: Uint8Array.of(seq & 0xff),
  };
}

/** Three members; `alive` is every member's view; frames go straight to the target. */
function group(
  names: string[],
  claimAfterMs = 60_000,
): {
  members: Map<string, Member>;
  alive: Set<string>;
  engines: QueueGroups[];
} {
  const alive = new Set(names);
  const members = new Map<string, Member>();
  for (const name of names) {
    const handled: Member['handled'] = [];
    const engine = new QueueGroups(
      {
        name,
        membersOf: () => [...alive].sort(),
        redeliver: (_g, m) => {
          handled.push({ id: `${m.id.origin}/${m.id.epoch}/${m.id.seq}`, redelivered: true });
          engine.handled(G, m.topic, m.id);
        },
        send: (peer, frame) => {
          if (alive.has(peer)) members.get(peer)!.engine.onFrame(name, frame);
        },
        countDrop: () => undefined,
      },
      { maxShadowEntries: 1_000, maxShadowBytes: 1 << 20, ackFlushMs: 60_000, claimAfterMs },
    );
    members.set(name, { name, engine, handled });
  }
  return { members, alive, engines: [...members.values()].map((m) => m.engine) };
}

/** Every member receives message `seq`; the owner handles it (acknowledging unless `hold`). */
function deliver(members: Map<string, Member>, seq: number, hold = new Set<string>()): void {
  for (const m of members.values()) {
    const msg = message(seq);
    if (m.engine.route(G, msg, 0)) {
      m.handled.push({ id: `pub/1/${seq}`, redelivered: false });
      if (!hold.has(m.name)) m.engine.handled(G, TOPIC, msg.id);
    }
  }
}

let engines: QueueGroups[] = [];
afterEach(() => {
  for (const e of engines) e.close();
});

describe('queue groups engine', () => {
  it('one member handles each message; the others drop their shadows once it acknowledges', () => {
    const g = group(['a', 'b', 'c']);
    engines = g.engines;
    for (let s = 1; s <= 300; s++) deliver(g.members, s);
    const total = [...g.members.values()].reduce((n, m) => n + m.handled.length, 0);
    expect(total).toBe(300);
    for (const m of g.members.values()) expect(m.handled.length).toBeGreaterThan(60);
    for (const e of g.engines) e.flush();
    for (const e of g.engines) {
      const c = e.counters()[G]!;
      expect(c.held).toBe(0);
      expect(c.acknowledged).toBe(c.shadowed);
    }
  });

  it("two groups of the same members pick each message's owner independently", () => {
    const g = group(['a', 'b', 'c']);
    engines = g.engines;
    let same = 0;
    for (let s = 1; s <= 300; s++) {
      const owner = (name: string) =>
        [...g.members.values()].find((m) => m.engine.route(name, message(s), 0))!.name;
      if (owner('billing') === owner('audit')) same++;
    }
    // Independent choices agree about one time in three; the same hash key would agree always.
    expect(same).toBeGreaterThan(60);
    expect(same).toBeLessThan(140);
  });

  it('the survivors take over what a dead owner did not acknowledge, flagged redelivered', () => {
    const g = group(['a', 'b', 'c']);
    engines = g.engines;
    // b handles but dies before its acknowledgement leaves.
    for (let s = 1; s <= 300; s++) deliver(g.members, s, new Set(['b']));
    for (const name of ['a', 'c']) g.members.get(name)!.engine.flush();
    const bHandled = g.members.get('b')!.handled.map((h) => h.id);
    g.alive.delete('b');
    for (const name of ['a', 'c']) g.members.get(name)!.engine.membersChanged(0);
    const redelivered = ['a', 'c'].flatMap((n) =>
      g.members
        .get(n)!
        .handled.filter((h) => h.redelivered)
        .map((h) => h.id),
    );
    expect(redelivered.sort()).toEqual([...bHandled].sort());
    // Each of b's messages went to exactly one survivor.
    expect(new Set(redelivered).size).toBe(redelivered.length);
    const takenOver = ['a', 'c'].map((n) => g.members.get(n)!.engine.counters()[G]!.takenOver);
    expect(takenOver[0]! + takenOver[1]!).toBe(bHandled.length);
  });

  it('a shadow no owner acknowledges is claimed after claimAfterMs; a duplicate is counted', () => {
    const g = group(['a', 'b'], 1_000);
    engines = g.engines;
    // b owns some messages but never acknowledges (it never got them, say).
    for (let s = 1; s <= 50; s++) deliver(g.members, s, new Set(['b']));
    const a = g.members.get('a')!;
    const bOwned = g.members.get('b')!.handled.map((h) => h.id);
    a.engine.tick(500);
    expect(a.engine.counters()[G]!.claimed).toBe(0);
    a.engine.tick(1_001);
    expect(a.engine.counters()[G]!.claimed).toBe(bOwned.length);
    expect(a.handled.filter((h) => h.redelivered).map((h) => h.id)).toEqual(bOwned);
    // b's late acknowledgement names messages a handled too: duplicates.
    for (const id of bOwned) {
      const seq = Number(id.split('/')[2]);
      g.members.get('b')!.engine.handled(G, TOPIC, { origin: 'pub', epoch: 1, seq });
    }
    g.members.get('b')!.engine.flush();
    expect(a.engine.counters()[G]!.duplicates).toBe(bOwned.length);
  });

  it('drops a malformed acknowledgement frame and counts it', () => {
    const drops: string[] = [];
    const e = new QueueGroups({
      name: 'a',
      membersOf: () => ['a'],
      redeliver: () => undefined,
      send: () => undefined,
      countDrop: (r) => drops.push(r),
    });
    engines = [e];
    e.onFrame('x', Uint8Array.of(0x85, 1, 0x61));
    expect(drops).toEqual(['group-ack-malformed']);
  });
});
