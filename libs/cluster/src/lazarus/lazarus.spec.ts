import { describe, expect, it } from '@jest/globals';
import {
  Lazarus,
  LazarusOptionsError,
  type LazarusHost,
  type LazarusReconnection,
} from './lazarus.js';

/** Timers that run only when the test advances the clock. */
class FakeTimers {
  nowMs = 0;
  private next = 1;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();
  readonly set = (fn: () => void, delayMs: number): unknown => {
    const id = this.next++;
    this.pending.set(id, { at: this.nowMs + delayMs, fn });
    return id;
  };
  readonly clear = (handle: unknown): void => {
    this.pending.delete(handle as number);
  };
  readonly now = (): number => this.nowMs;
  get count(): number {
    return this.pending.size;
  }
  /** Advances to `nowMs + ms`, firing due timers in order and letting promises settle. */
  async advance(ms: number): Promise<void> {
    const end = this.nowMs + ms;
    for (;;) {
      const due = [...this.pending.entries()]
        .filter(([, t]) => t.at <= end)
        .sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.pending.delete(due[0]);
      this.nowMs = due[1].at;
      due[1].fn();
      await settle();
    }
    this.nowMs = end;
    await settle();
  }
}

/** Lets chained promise callbacks run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/** A node whose membership and join answers the test controls. */
class FakeHost implements LazarusHost {
  localAddress = '10.0.0.1:7946';
  alive = new Set<string>([this.localAddress]);
  /** Addresses that answer a join. */
  reachable = new Set<string>();
  joins: string[][] = [];
  /** When set, joins wait until the test releases them. */
  hold: Array<() => void> | null = null;
  aliveAddresses(): Iterable<string> {
    return this.alive;
  }
  join(seeds: readonly string[]): Promise<number> {
    this.joins.push([...seeds]);
    const answer = (): number => {
      const n = seeds.filter((s) => this.reachable.has(s)).length;
      if (n === 0) throw new Error(`failed to join any seed: ${seeds.join(', ')}`);
      for (const s of seeds) if (this.reachable.has(s)) this.alive.add(s);
      return n;
    };
    if (!this.hold) return Promise.resolve().then(answer);
    const hold = this.hold;
    return new Promise<void>((r) => hold.push(r)).then(answer);
  }
}

function setup(
  seeds: string[],
  extra: { lookup?: (host: string) => Promise<string>; enabled?: boolean } = {},
): { host: FakeHost; timers: FakeTimers; lazarus: Lazarus; events: LazarusReconnection[] } {
  const host = new FakeHost();
  const timers = new FakeTimers();
  const lazarus = new Lazarus(host, {
    seeds,
    intervalMs: 1_000,
    setTimer: timers.set,
    clearTimer: timers.clear,
    now: timers.now,
    ...extra,
  });
  const events: LazarusReconnection[] = [];
  lazarus.reconnections$.subscribe((e) => events.push(e));
  return { host, timers, lazarus, events };
}

const SEED = '10.0.0.2:7946';

describe('Lazarus', () => {
  it('probes a dead seed once per interval and counts the failures', async () => {
    const { host, timers, lazarus } = setup([SEED]);
    lazarus.start();
    await timers.advance(999);
    expect(host.joins).toEqual([]);
    await timers.advance(1);
    expect(host.joins).toEqual([[SEED]]);
    await timers.advance(2_000);
    expect(host.joins).toEqual([[SEED], [SEED], [SEED]]);
    expect(lazarus.stats()).toEqual({
      probesSent: 3,
      probeFailures: 3,
      reconnections: 0,
      roundsSkipped: 0,
      missingSeeds: [SEED],
      lastProbeAtMs: 3_000,
    });
  });

  it('does not probe a seed while it is an alive member', async () => {
    const { host, timers, lazarus } = setup([SEED]);
    host.alive.add(SEED);
    lazarus.start();
    await timers.advance(5_000);
    expect(host.joins).toEqual([]);
    expect(lazarus.stats().missingSeeds).toEqual([]);
    expect(lazarus.stats().lastProbeAtMs).toBe(5_000);
    // It dies: the next round probes it.
    host.alive.delete(SEED);
    expect(lazarus.stats().missingSeeds).toEqual([SEED]);
    await timers.advance(1_000);
    expect(host.joins).toEqual([[SEED]]);
  });

  it('counts a successful probe as a reconnection and emits it, then stops probing', async () => {
    const { host, timers, lazarus, events } = setup([SEED, '10.0.0.3:7946']);
    lazarus.start();
    await timers.advance(1_000);
    expect(events).toEqual([]);
    host.reachable.add(SEED);
    await timers.advance(1_000);
    expect(events).toEqual([{ seed: SEED, atMs: 2_000 }]);
    expect(lazarus.stats()).toMatchObject({
      probesSent: 4,
      probeFailures: 3,
      reconnections: 1,
      missingSeeds: ['10.0.0.3:7946'],
    });
    // One join per seed, so each answer is attributed to its seed.
    expect(host.joins.every((j) => j.length === 1)).toBe(true);
    await timers.advance(1_000);
    expect(host.joins.slice(4)).toEqual([['10.0.0.3:7946']]);
  });

  it('skips its own address', async () => {
    // The fake host's own address is 10.0.0.1:7946; a node usually lists itself among its seeds.
    const { host, timers, lazarus } = setup(['10.0.0.1:7946', SEED]);
    host.alive.clear();
    lazarus.start();
    await timers.advance(1_000);
    expect(host.joins).toEqual([[SEED]]);
    expect(lazarus.stats().missingSeeds).toEqual([SEED]);
  });

  it('never runs two rounds at once', async () => {
    const { host, timers, lazarus } = setup([SEED]);
    host.hold = [];
    lazarus.start();
    await timers.advance(1_000);
    expect(host.joins).toHaveLength(1);
    // Two more ticks and a manual round while the first join hangs: all join the running round.
    await timers.advance(2_000);
    const manual = lazarus.probeNow();
    expect(host.joins).toHaveLength(1);
    expect(lazarus.stats().roundsSkipped).toBe(2);
    host.reachable.add(SEED);
    for (const release of host.hold.splice(0)) release();
    await manual;
    expect(lazarus.stats()).toMatchObject({ probesSent: 1, reconnections: 1 });
    // The next tick starts a fresh round, which finds the seed alive.
    host.hold = null;
    await timers.advance(1_000);
    expect(host.joins).toHaveLength(1);
  });

  it('stops for good: no more rounds, reconnections$ completes', async () => {
    const { host, timers, lazarus } = setup([SEED]);
    let completed = false;
    lazarus.reconnections$.subscribe({ complete: () => (completed = true) });
    lazarus.start();
    expect(lazarus.running).toBe(true);
    await timers.advance(1_000);
    lazarus.stop();
    expect(lazarus.running).toBe(false);
    expect(completed).toBe(true);
    expect(timers.count).toBe(0);
    await timers.advance(10_000);
    await lazarus.probeNow();
    lazarus.start();
    expect(host.joins).toHaveLength(1);
  });

  it('does nothing on start when disabled, but probeNow still probes', async () => {
    const { host, timers, lazarus } = setup([SEED], { enabled: false });
    lazarus.start();
    expect(timers.count).toBe(0);
    await lazarus.probeNow();
    expect(host.joins).toEqual([[SEED]]);
  });

  it('resolves host names at probe time and joins the resolved address', async () => {
    const answers = new Map([['seed-a.internal', '10.0.0.2']]);
    const { host, lazarus } = setup(['seed-a.internal:7946', 'gone.internal:7946'], {
      lookup: (name) => {
        const ip = answers.get(name);
        return ip ? Promise.resolve(ip) : Promise.reject(new Error('ENOTFOUND'));
      },
    });
    host.reachable.add(SEED);
    await lazarus.probeNow();
    expect(host.joins).toEqual([[SEED]]);
    expect(lazarus.stats()).toMatchObject({
      probesSent: 2,
      probeFailures: 1,
      reconnections: 1,
      missingSeeds: ['gone.internal:7946'],
    });
    // The record moves: the next round follows it.
    answers.set('seed-a.internal', '10.0.0.9');
    await lazarus.probeNow();
    expect(host.joins.at(-1)).toEqual(['10.0.0.9:7946']);
  });

  it('matches IPv6 seeds against members whatever the spelling', async () => {
    const { host, lazarus } = setup(['[fd00:0:0::2]:7946']);
    host.alive.add('[fd00::2]:7946');
    await lazarus.probeNow();
    expect(host.joins).toEqual([]);
  });

  it('rejects invalid options with every problem at once', () => {
    const host = new FakeHost();
    let err: unknown;
    try {
      new Lazarus(host, {
        seeds: [
          '10.0.0.2',
          'bad host:1',
          '10.0.0.2:0',
          '::1:7946',
          '10.0.0.3:7946',
          '10.0.0.3:7946',
        ],
        intervalMs: 0,
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LazarusOptionsError);
    const problems = (err as LazarusOptionsError).problems;
    expect(problems).toHaveLength(6);
    expect(problems.map((p) => p.field)).toEqual([...new Array(5).fill('seeds'), 'intervalMs']);
    expect(problems.map((p) => p.message).join('\n')).toMatch(/listed twice/);
  });
});
