/**
 * Convergence of several directories that change their local sets, restart without a store
 * (sometimes with a clock that went back) and exchange broadcasts and push-pull states in a
 * seeded random order with loss. Once changes stop, push-pull gossip must bring every directory
 * to the same entries, each node's entry being the one its owner holds now.
 */
import { describe, expect, it } from '@jest/globals';
import { createRng, type Rng } from '@plumtree/plumtree';
import { TopicDirectory } from './topic-directory.js';

const TOPICS = ['orders', 'orders.eu', 'orders.*', 'orders.#', 'chat.room', 'chat.*', '#', 'news'];
const T0 = 1_764_000_000_000;

interface InFlight {
  readonly to: number;
  readonly bytes: Uint8Array;
  readonly state: boolean;
}

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng.next() * xs.length)]!;
const int = (rng: Rng, n: number): number => Math.floor(rng.next() * n);

/** Everything one directory believes, in a comparable form. */
function view(d: TopicDirectory): string {
  return d
    .nodes()
    .map((n) => {
      const e = d.entry(n)!;
      return `${n}@${e.version}:${e.subscriptions.join(',')}`;
    })
    .join(' | ');
}

function run(seed: number, nodes: number): { rounds: number; restarts: number; bumps: number } {
  const rng = createRng(seed);
  const names = Array.from({ length: nodes }, (_, i) => `node-${i}`);
  const dirs = names.map((n) => new TopicDirectory(n));
  // Each node's own clock, skewed, moving forward (except across some restarts).
  const clocks = names.map(() => T0 + int(rng, 10_000));
  let restarts = 0;
  let bumps = 0;
  let flight: InFlight[] = [];

  const send = (to: number, bytes: Uint8Array, state: boolean): void => {
    // 20% loss, and delivery in random order (see deliverSome).
    if (rng.next() < 0.2) return;
    flight.push({ to, bytes, state });
  };
  const broadcast = (from: number): void => {
    for (let j = 0; j < nodes; j++) if (j !== from) send(j, dirs[from]!.encodeLocalEntry(), false);
  };
  const deliverSome = (): void => {
    const n = int(rng, flight.length + 1);
    for (let k = 0; k < n && flight.length > 0; k++) {
      const i = int(rng, flight.length);
      const m = flight[i]!;
      flight[i] = flight[flight.length - 1]!;
      flight.pop();
      const before = dirs[m.to]!.localVersion;
      if (m.state) dirs[m.to]!.mergeState(m.bytes);
      else dirs[m.to]!.applyEntry(m.bytes);
      // A previous life's entry bumped the local version: the runtime rebroadcasts.
      if (dirs[m.to]!.localVersion !== before) {
        bumps++;
        broadcast(m.to);
      }
    }
  };

  for (let step = 0; step < 400; step++) {
    const i = int(rng, nodes);
    clocks[i]! += int(rng, 50);
    const r = rng.next();
    if (r < 0.45) {
      const t = pick(rng, TOPICS);
      const changed = dirs[i]!.localSubscriptions().includes(t)
        ? dirs[i]!.unsubscribe(t, clocks[i]!)
        : dirs[i]!.subscribe(t, clocks[i]!);
      if (changed) broadcast(i);
    } else if (r < 0.7) {
      const j = (i + 1 + int(rng, nodes - 1)) % nodes;
      send(j, dirs[i]!.encodeState(), true);
      send(i, dirs[j]!.encodeState(), true);
    } else if (r < 0.75) {
      // Restart without a store; half the time the clock went back by up to 5 s, so the new
      // life starts below the old version and must learn it from the network.
      restarts++;
      if (rng.next() < 0.5) clocks[i]! -= int(rng, 5000);
      dirs[i] = new TopicDirectory(names[i]!);
      // Messages to the dead process are lost with it.
      flight = flight.filter((m) => m.to !== i);
      if (rng.next() < 0.7) {
        dirs[i]!.subscribe(pick(rng, TOPICS), clocks[i]!);
        broadcast(i);
      }
    }
    deliverSome();
  }

  // Quiescence: no more local changes; lossless push-pull rounds with random peers, in-flight
  // messages still arriving in random order.
  let rounds = 0;
  const converged = (): boolean => {
    if (flight.length > 0) return false;
    const v = view(dirs[0]!);
    if (!dirs.every((d) => view(d) === v)) return false;
    // Each entry is what its owner holds now.
    return dirs.every((d, i) => {
      const e = dirs[0]!.entry(names[i]!);
      return (
        e !== undefined &&
        e.version === d.localVersion &&
        e.subscriptions.join(',') === d.localSubscriptions().join(',')
      );
    });
  };
  while (!converged() && rounds < 100) {
    rounds++;
    for (let i = 0; i < nodes; i++) {
      const j = (i + 1 + int(rng, nodes - 1)) % nodes;
      flight.push({ to: j, bytes: dirs[i]!.encodeState(), state: true });
      flight.push({ to: i, bytes: dirs[j]!.encodeState(), state: true });
    }
    while (flight.length > 0) {
      const before = flight.length;
      deliverSome();
      // deliverSome may pick zero; force progress so the loop ends.
      if (flight.length === before) {
        const m = flight.pop()!;
        if (m.state) dirs[m.to]!.mergeState(m.bytes);
        else dirs[m.to]!.applyEntry(m.bytes);
      }
    }
  }
  expect(converged()).toBe(true);
  for (const d of dirs) expect(d.stats().drops).toEqual({});
  return { rounds, restarts, bumps };
}

describe('TopicDirectory convergence', () => {
  it('converges for 30 seeds of 8 nodes with loss, reordering and restarts', () => {
    let restarts = 0;
    let bumps = 0;
    let maxRounds = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const r = run(seed, 8);
      restarts += r.restarts;
      bumps += r.bumps;
      maxRounds = Math.max(maxRounds, r.rounds);
    }
    // The scenario really exercised restarts and previous-life bumps.
    expect(restarts).toBeGreaterThan(300);
    expect(bumps).toBeGreaterThan(100);
    expect(maxRounds).toBeLessThan(20);
  });

  it('is deterministic for a seed', () => {
    expect(run(42, 5)).toEqual(run(42, 5));
  });
});
