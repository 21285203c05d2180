import { describe, expect, it } from '@jest/globals';
import { checkHistory, formatViolations, type CheckerConfig, type Rule } from './checker.js';
import { History, type Fault, type HistoryEvent } from './history.js';

const CONFIG: CheckerConfig = {
  suspicionMinMs: 3_000,
  refuteSlackMs: 1_000,
  refuteGraceMs: 5_000,
  detectionBoundMs: 8_000,
  rejoinBoundMs: 10_000,
  deliveryBoundMs: 5_000,
};

const NODES = ['n0', 'n1', 'n2', 'n3'];

/** Builds histories by hand: a cluster of NODES subscribed to `plain` and durable `dur`. */
class Builder {
  readonly h = new History();
  t = 1_000_000;
  private readonly seqs = new Map<string, number>();

  constructor(nodes = NODES) {
    for (const n of nodes) this.start(n);
    this.h.record({ kind: 'recovered', at: this.tick() });
  }

  tick(ms = 1): number {
    this.t += ms;
    return this.t;
  }

  start(node: string): void {
    this.h.record({
      kind: 'start',
      at: this.tick(),
      node,
      topics: ['plain'],
      durable: ['dur'],
    });
    this.h.record({ kind: 'ready', at: this.tick(), node });
  }

  /** Publishes and acks one message; returns its id. */
  publish(node: string, topic: string, data: string): string {
    const seq = (this.seqs.get(`${node}/${topic}`) ?? 0) + 1;
    this.seqs.set(`${node}/${topic}`, seq);
    const id = `${node}/7/${seq.toString()}`;
    this.h.record({ kind: 'publish', at: this.tick(), node, topic, data });
    this.h.record({ kind: 'ack', at: this.tick(), node, topic, data, id });
    return id;
  }

  deliver(node: string, topic: string, id: string, data: string, redelivered = false): void {
    this.h.record({ kind: 'deliver', at: this.tick(), node, topic, id, data, redelivered });
  }

  /** Publishes and delivers at every node in `to` (default: all). */
  message(node: string, topic: string, data: string, to = NODES): string {
    const id = this.publish(node, topic, data);
    for (const n of to) this.deliver(n, topic, id, data);
    return id;
  }

  member(node: string, change: 'join' | 'fail' | 'suspect', member: string): void {
    this.h.record({ kind: 'member', at: this.tick(), node, change, member });
  }

  fault(f: Fault): number {
    return this.h.fault(f, this.tick());
  }

  heal(id: number): void {
    this.h.heal(id, this.tick());
  }

  recovered(): void {
    this.h.record({ kind: 'recovered', at: this.tick() });
  }

  exit(node: string, signal: string | null, code: number | null = null): void {
    this.h.record({ kind: 'exit', at: this.tick(), node, code, signal });
  }

  get events(): readonly HistoryEvent[] {
    return this.h.events;
  }
}

const rules = (events: readonly HistoryEvent[]): Rule[] =>
  checkHistory(events, CONFIG).map((v) => v.rule);

/** A clean run: 100 messages per topic from two publishers, every node gets each once. */
function cleanRun(): Builder {
  const b = new Builder();
  for (let k = 0; k < 100; k++) {
    const from = NODES[k % 2]!;
    b.message(from, 'plain', `${from}:plain:${k.toString()}`);
    b.message(from, 'dur', `${from}:dur:${k.toString()}`);
  }
  return b;
}

describe('checkHistory', () => {
  it('finds nothing wrong in a clean run', () => {
    expect(checkHistory(cleanRun().events, CONFIG)).toEqual([]);
  });

  it('catches one delivery in a hundred dropped, naming each node and message', () => {
    // What a build that loses one delivery in a hundred would print.
    let n = 0;
    const dropped: string[] = [];
    const events = cleanRun().events.filter((e) => {
      if (e.kind !== 'deliver' || ++n % 100 !== 50) return true;
      dropped.push(`${e.node} never delivered ${e.id} on ${e.topic}`);
      return false;
    });
    expect(dropped).toHaveLength(8);
    const v = checkHistory(events, CONFIG);
    expect(v.map((x) => x.rule).sort()).toEqual([
      ...Array(4).fill('durable-missing'),
      ...Array(4).fill('missing'),
    ]);
    expect(
      v.map((x) => x.message.replace(' durable topic ', ' ').replace(/,.*| in any.*/, '')).sort(),
    ).toEqual(dropped.sort());
    // The excerpt of a plain one: n's start, the publish, the ack and a delivery elsewhere.
    const plain = v.find((x) => x.rule === 'missing')!;
    expect(plain.excerpt.map((e) => e.kind)).toEqual(['start', 'publish', 'ack', 'deliver']);
  });

  it('catches a dropped durable delivery, across every life of the node', () => {
    const b = cleanRun();
    const id = b.publish('n1', 'dur', 'late');
    for (const n of ['n0', 'n1', 'n2']) b.deliver(n, 'dur', id, 'late');
    const v = checkHistory(b.events, CONFIG);
    expect(v.map((x) => [x.rule, x.message])).toEqual([
      ['durable-missing', `n3 never delivered ${id} on durable topic dur in any of its 1 lives`],
    ]);
  });

  it('catches a duplicate, and allows a flagged redelivery only in a later life', () => {
    const b = new Builder();
    const p = b.message('n0', 'plain', 'a');
    b.deliver('n2', 'plain', p, 'a');
    const d = b.message('n0', 'dur', 'b');
    b.deliver('n2', 'dur', d, 'b', true); // same life: not allowed even when flagged
    // The second copy of the durable one also breaks its stream's order.
    expect(rules(b.events)).toEqual(['duplicate', 'duplicate', 'order']);

    const ok = new Builder();
    const id = ok.message('n0', 'dur', 'x');
    const f = ok.fault({ type: 'kill', node: 'n2' });
    ok.exit('n2', 'SIGKILL');
    ok.start('n2');
    ok.deliver('n2', 'dur', id, 'x', true);
    ok.heal(f);
    ok.recovered();
    expect(rules(ok.events)).toEqual([]);
    // The same copy without the flag is a duplicate.
    const unflagged = ok.events.map((e) =>
      e.kind === 'deliver' && e.redelivered ? { ...e, redelivered: false } : e,
    );
    expect(rules(unflagged)).toEqual(['duplicate']);
  });

  it('catches an out-of-order durable delivery', () => {
    const b = new Builder();
    const a = b.publish('n0', 'dur', 'a');
    const c = b.publish('n0', 'dur', 'c');
    for (const n of NODES) {
      const [first, second] = n === 'n2' ? [c, a] : [a, c];
      b.deliver(n, 'dur', first, first === a ? 'a' : 'c');
      b.deliver(n, 'dur', second, second === a ? 'a' : 'c');
    }
    const v = checkHistory(b.events, CONFIG);
    expect(v.map((x) => x.message)).toEqual([
      `n2 delivered ${a} after ${c} (durable per-origin order)`,
    ]);
    expect(v[0]!.excerpt.map((e) => (e.kind === 'deliver' ? e.id : ''))).toEqual([c, a]);
  });

  it('catches a delivery never published, and one whose data differs from the ack', () => {
    const b = cleanRun();
    b.deliver('n2', 'plain', 'n0/7/999', 'made up');
    b.deliver('n3', 'plain', 'n0/7/1', 'tampered');
    expect(rules(b.events)).toEqual(['corrupt', 'phantom', 'duplicate']);
  });

  it('accepts an unacked message whose origin was asked to publish it (killed before its ack)', () => {
    const b = new Builder();
    b.h.record({ kind: 'publish', at: b.tick(), node: 'n1', topic: 'dur', data: 'z' });
    const f = b.fault({ type: 'kill', node: 'n1' });
    b.exit('n1', 'SIGKILL');
    b.deliver('n0', 'dur', 'n1/7/1', 'z');
    b.start('n1');
    b.heal(f);
    b.recovered();
    expect(rules(b.events)).toEqual([]);
  });

  it('does not require plain messages across a partition until it recovered, but within a side', () => {
    const b = new Builder();
    const f = b.fault({
      type: 'partition',
      sides: [
        ['n0', 'n1'],
        ['n2', 'n3'],
      ],
    });
    b.message('n0', 'plain', 'p1', ['n0', 'n1']);
    b.heal(f);
    // Healed but not yet recovered: still not required on the other side.
    b.message('n0', 'plain', 'p2', ['n0', 'n1']);
    b.recovered();
    b.tick(10_000);
    expect(rules(b.events)).toEqual([]);
    // Within a side it is required.
    const lost = new Builder();
    const g = lost.fault({
      type: 'partition',
      sides: [
        ['n0', 'n1'],
        ['n2', 'n3'],
      ],
    });
    lost.message('n0', 'plain', 'p1', ['n0', 'n2', 'n3']);
    lost.heal(g);
    lost.recovered();
    expect(checkHistory(lost.events, CONFIG).map((v) => v.message)).toEqual([
      'n1 never delivered n0/7/1 on plain, though it was up, subscribed and connected to n0 from the publish until 5000 ms after its ack',
    ]);
  });

  it('does not require plain messages at a member the publisher holds dead (until it joins again)', () => {
    const b = new Builder();
    const f = b.fault({
      type: 'partition',
      sides: [
        ['n0', 'n1'],
        ['n2', 'n3'],
      ],
    });
    b.t += 4_000;
    // n0's stale death of n3 crosses as the partition heals: n2 holds its own side's n3 dead.
    b.member('n2', 'fail', 'n3');
    b.message('n2', 'plain', 'while-dead', ['n0', 'n1', 'n2']);
    b.heal(f);
    b.member('n2', 'join', 'n3');
    b.recovered();
    b.t += 6_000;
    expect(rules(b.events)).toEqual([]);
    // Once n2 holds it alive again, it is required.
    b.message('n2', 'plain', 'after', ['n0', 'n1', 'n2']);
    b.t += 6_000;
    expect(rules(b.events)).toEqual(['missing']);
  });

  it('requires plain messages at a node cut off one way from the publisher: the tree goes around', () => {
    const b = new Builder();
    const f = b.fault({ type: 'oneway', from: 'n0', to: 'n1' });
    b.message('n0', 'plain', 'x', ['n0', 'n2', 'n3']);
    b.heal(f);
    b.recovered();
    expect(rules(b.events)).toEqual(['missing']);
  });

  it('checks the suspicion bound: dead only after suspicionMinMs of a long enough fault', () => {
    const pause = (lastMs: number, deadAfterMs: number): Rule[] => {
      const b = new Builder();
      const f = b.fault({ type: 'pause', node: 'n2' });
      const start = b.t;
      if (deadAfterMs < lastMs) {
        b.t = start + deadAfterMs;
        for (const n of ['n0', 'n1', 'n3']) b.member(n, 'fail', 'n2');
      }
      b.t = start + lastMs;
      b.heal(f);
      if (deadAfterMs < lastMs) for (const n of ['n0', 'n1', 'n3']) b.member(n, 'join', 'n2');
      b.recovered();
      return rules(b.events);
    };
    expect(pause(10_000, 4_500)).toEqual([]);
    // Declared dead 2.5 s into the pause: sooner than the 3 s bound.
    expect(pause(10_000, 2_500)).toEqual(Array(3).fill('unjustified-death'));
    // A 10 s pause nobody noticed.
    expect(pause(10_000, Infinity)).toEqual(Array(3).fill('undetected-pause'));
    // A 1.5 s pause is refuted in time: declaring it dead (even late) is wrong.
    const short = new Builder();
    const f = short.fault({ type: 'pause', node: 'n2' });
    short.t += 1_500;
    short.heal(f);
    short.t += 2_000;
    short.member('n0', 'fail', 'n2');
    short.member('n0', 'join', 'n2');
    expect(rules(short.events)).toEqual(['unjustified-death']);
  });

  it('accepts the death of a member that a cut-off member suspected (a stale suspicion)', () => {
    const stale = (cut: boolean): Rule[] => {
      const b = new Builder();
      const f = b.fault({ type: 'link-down', node: 'n3' });
      b.t += 1_000;
      if (!cut) {
        b.heal(f);
        b.recovered();
      }
      b.member('n3', 'suspect', 'n1');
      if (cut) {
        b.t += 2_000;
        b.heal(f);
        b.recovered();
      }
      // Within refuteGraceMs (5 s) of the suspicion.
      b.t += 2_000;
      for (const n of ['n0', 'n2', 'n3']) b.member(n, 'fail', 'n1');
      return rules(b.events);
    };
    expect(stale(true)).toEqual([]);
    // Suspected by n3 after its link was back: nothing excuses the death.
    expect(stale(false)).toEqual(Array(3).fill('unjustified-death'));
  });

  it('catches a death without any fault, and one under packet loss only', () => {
    const b = new Builder();
    const f = b.fault({ type: 'loss', node: 'n3', percent: 20 });
    b.t += 5_000;
    b.member('n0', 'fail', 'n3');
    b.member('n0', 'fail', 'n2');
    b.heal(f);
    expect(rules(b.events)).toEqual(['unjustified-death', 'unjustified-death']);
  });

  it('requires a member declared dead to be alive again at the declarer after the heal', () => {
    const b = new Builder();
    const f = b.fault({ type: 'link-down', node: 'n1' });
    b.t += 4_000;
    b.member('n0', 'fail', 'n1');
    b.member('n2', 'fail', 'n1');
    b.heal(f);
    b.member('n0', 'join', 'n1');
    b.t += 11_000;
    b.member('n2', 'join', 'n1');
    b.recovered();
    const v = checkHistory(b.events, CONFIG);
    expect(v.map((x) => x.rule)).toEqual(['no-rejoin']);
    expect(v[0]!.message).toMatch(
      /^n2 declared n1 dead and saw it again only 1100\d ms after the heal/,
    );
  });

  it('catches a process that died without a kill fault', () => {
    const b = new Builder();
    b.exit('n3', null, 1);
    expect(rules(b.events)).toEqual(['crash']);
  });

  it('prints each violation with its excerpt, times relative to the first event', () => {
    const b = cleanRun();
    b.deliver('n2', 'plain', 'n0/7/999', 'made up');
    const text = formatViolations(b.events, checkHistory(b.events, CONFIG));
    expect(text).toBe(
      [
        '1 violation(s): phantom 1',
        'VIOLATION phantom: n2 delivered n0/7/999 ("made up" on plain), which n0 was never asked to publish',
        '  +1.209s n2 deliver plain n0/7/999 "made up"',
      ].join('\n'),
    );
  });
});
