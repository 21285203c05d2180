import { afterEach, describe, expect, it } from '@jest/globals';
import type { Duplex } from 'node:stream';
import type { SwimConfigInput } from '../config/swim-config.js';
import { SwimNode } from '../node/swim-node.js';
import { createRng } from '@plumtree/common';
import { FilteringTransport } from './filtering-transport.js';
import { MemoryNetwork, type Scheduler } from './memory-network.js';
import { DialError, type SwimTransport } from './transport.js';
import { UdpTcpTransport } from './udp-tcp-transport.js';
import { waitFor } from '../../../../test/support/wait-for.js';

const FAST: SwimConfigInput = {
  preset: 'local',
  probeIntervalMs: 100,
  probeTimeoutMs: 50,
  gossipIntervalMs: 30,
  pushPullIntervalMs: 1_000,
};

/** Records the delays asked for; runs nothing until `runAll`. */
class RecordingScheduler implements Scheduler {
  readonly delays: number[] = [];
  private readonly fns: Array<() => void> = [];
  schedule(delayMs: number, fn: () => void): () => void {
    this.delays.push(delayMs);
    this.fns.push(fn);
    return () => {};
  }
  runAll(): void {
    for (const fn of this.fns.splice(0)) fn();
  }
}

/** Resolves when the stream closes. */
function closed(stream: Duplex): Promise<void> {
  stream.on('error', () => {});
  return stream.closed ? Promise.resolve() : new Promise((r) => stream.once('close', () => r()));
}

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('FilteringTransport packets and dials', () => {
  it('drops packets to and from a blocked address, both ways, and counts them', async () => {
    const net = new MemoryNetwork();
    const a = new FilteringTransport(net.bind('10.0.0.1:7946'));
    const b = new FilteringTransport(net.bind('10.0.0.2:7946'));
    const atA: number[] = [];
    const atB: number[] = [];
    a.onPacket((buf) => atA.push(buf[0]!));
    b.onPacket((buf) => atB.push(buf[0]!));

    a.block([b.localAddress]);
    expect(a.blocked()).toEqual(['10.0.0.2:7946']);
    expect(a.sendPacket(b.localAddress, Uint8Array.of(1))).toBe(true);
    b.sendPacket(a.localAddress, Uint8Array.of(2));
    await waitFor('b to send', () => net.delivered === 1);
    expect(atA).toEqual([]);
    expect(atB).toEqual([]);
    expect(a.filterStats()).toMatchObject({ blockedPacketsOut: 1, blockedPacketsIn: 1 });

    a.unblock([b.localAddress]);
    a.sendPacket(b.localAddress, Uint8Array.of(3));
    b.sendPacket(a.localAddress, Uint8Array.of(4));
    await waitFor('both packets', () => atA.length === 1 && atB.length === 1);
    expect(atA).toEqual([4]);
    expect(atB).toEqual([3]);
    await Promise.all([a.close(), b.close()]);
  });

  it('blocks every port of a bare host', () => {
    const net = new MemoryNetwork();
    const a = new FilteringTransport(net.bind('10.0.0.1:7946'));
    a.block(['10.0.0.2']);
    expect(a.isBlocked('10.0.0.2:7946')).toBe(true);
    expect(a.isBlocked('10.0.0.2:55555')).toBe(true);
    expect(a.isBlocked('10.0.0.3:7946')).toBe(false);
    a.block(['[::1]']);
    expect(a.isBlocked('[::1]:7946')).toBe(true);
  });

  it('loses packets at the configured rate, reproducibly for one seed', () => {
    const run = (): number => {
      const net = new MemoryNetwork();
      const a = new FilteringTransport(net.bind('10.0.0.1:7946'), {
        rng: createRng(7),
        lossRate: 0.3,
      });
      for (let i = 0; i < 2_000; i++) a.sendPacket('10.0.0.2:7946', Uint8Array.of(i & 0xff));
      expect(a.stats().packetsSent + a.filterStats().lostPacketsOut).toBe(2_000);
      return a.filterStats().lostPacketsOut;
    };
    const lost = run();
    expect(lost).toBe(run());
    // 2000 draws at p = 0.3: the mean is 600, the standard deviation about 20.
    expect(lost).toBeGreaterThan(500);
    expect(lost).toBeLessThan(700);
  });

  it('rejects a loss rate outside [0, 1] or without an rng', () => {
    const net = new MemoryNetwork();
    expect(() => new FilteringTransport(net.bind('10.0.0.1:1'), { lossRate: 0.1 })).toThrow(
      TypeError,
    );
    const t = new FilteringTransport(net.bind('10.0.0.1:2'), { rng: createRng(1) });
    expect(() => (t.lossRate = 1.5)).toThrow(RangeError);
    expect(() => (t.lossRate = Number.NaN)).toThrow(RangeError);
  });

  it('fails a dial to a blocked address like a timeout, after the capped delay', async () => {
    const net = new MemoryNetwork();
    const sched = new RecordingScheduler();
    const a = new FilteringTransport(net.bind('10.0.0.1:7946'), {
      scheduler: sched,
      blockedDialDelayMs: 250,
    });
    const b = net.bind('10.0.0.2:7946');
    a.block([b.localAddress]);
    const long = a.dial(b.localAddress, 10_000).catch((e: unknown) => e);
    const short = a.dial(b.localAddress, 40).catch((e: unknown) => e);
    expect(sched.delays).toEqual([250, 40]);
    sched.runAll();
    for (const err of [await long, await short]) {
      expect(err).toBeInstanceOf(DialError);
      expect((err as DialError).refused).toBe(false);
      expect((err as DialError).message).toMatch(/timeout/);
    }
    expect(a.filterStats().blockedDials).toBe(2);
    // Unblocked, the dial goes through to the wrapped transport.
    a.unblockAll();
    const s = await a.dial(b.localAddress, 1_000);
    s.destroy();
    await a.close();
    await b.close();
  });

  it('rejects pending blocked dials at once on close', async () => {
    const net = new MemoryNetwork();
    const sched = new RecordingScheduler();
    const a = new FilteringTransport(net.bind('10.0.0.1:7946'), { scheduler: sched });
    a.block(['10.0.0.2:7946']);
    const pending = a.dial('10.0.0.2:7946', 5_000).catch((e: unknown) => e);
    await a.close();
    expect(await pending).toBeInstanceOf(DialError);
    await expect(a.dial('10.0.0.3:7946', 100)).rejects.toThrow(/closed/);
  });
});

describe('FilteringTransport streams over real TCP on loopback', () => {
  async function bind(): Promise<FilteringTransport> {
    const t = new FilteringTransport(
      await UdpTcpTransport.bind({ bindAddr: '127.0.0.1', bindPort: 0 }),
    );
    cleanups.push(() => t.close());
    return t;
  }

  /** Registers first byte 99 on `t` and records who reached the handler. */
  function listen(t: SwimTransport): Duplex[] {
    const got: Duplex[] = [];
    t.streams.register([99], (s) => {
      got.push(s);
      s.resume();
    });
    return got;
  }

  it('destroys an accepted stream from a blocked node although it comes from an ephemeral port', async () => {
    const a = await bind();
    const b = await bind();
    const c = await bind();
    const atA = listen(a);
    // One-sided: only A blocks B; B's own filter lets the dial out.
    a.block([b.localAddress]);
    const fromB = await b.dial(a.localAddress, 1_000);
    fromB.write(Uint8Array.of(99, 1));
    await closed(fromB);
    expect(a.filterStats().blockedStreamsAccepted).toBe(1);
    // C shares B's host but is another node: its stream passes.
    const fromC = await c.dial(a.localAddress, 1_000);
    fromC.write(Uint8Array.of(99, 2));
    await waitFor('C to reach the handler', () => atA.length === 1);
    expect(a.filterStats().blockedStreamsAccepted).toBe(1);
    fromC.destroy();
  });

  it('cuts streams already open to and from an address when it gets blocked', async () => {
    const a = await bind();
    const b = await bind();
    const atB = listen(b);
    const atA = listen(a);
    const dialed = await a.dial(b.localAddress, 1_000);
    dialed.write(Uint8Array.of(99));
    const accepted = await b.dial(a.localAddress, 1_000);
    accepted.write(Uint8Array.of(99));
    await waitFor('both streams accepted', () => atA.length === 1 && atB.length === 1);
    a.block([b.localAddress]);
    await Promise.all([closed(dialed), closed(atA[0]!), closed(accepted), closed(atB[0]!)]);
    expect(a.filterStats().streamsCut).toBe(2);
  });
});

describe('FilteringTransport under SwimNodes', () => {
  it('partitions a node until both sides mark each other dead, and heals after unblock + join', async () => {
    const net = new MemoryNetwork({ delayMs: 1 });
    const nodes: SwimNode[] = [];
    const transports: FilteringTransport[] = [];
    cleanups.push(() => Promise.all(nodes.map((n) => n.close())));
    for (let i = 0; i < 3; i++) {
      const t = new FilteringTransport(net.bind(`10.0.0.${i + 1}:7946`), {
        blockedDialDelayMs: 100,
      });
      transports.push(t);
      nodes.push(
        await SwimNode.start({
          name: `f${i}`,
          transport: t,
          config: FAST,
          seed: i + 1,
          ...(i > 0 ? { seeds: ['10.0.0.1:7946'] } : {}),
        }),
      );
    }
    const [a, b, c] = nodes as [SwimNode, SwimNode, SwimNode];
    const [ta, tb, tc] = transports as [FilteringTransport, FilteringTransport, FilteringTransport];
    await waitFor('3 members everywhere', () => nodes.every((n) => n.numMembers() === 3));

    // C is cut off from A and B, blocked on C's side only: its filter stops both directions.
    tc.block([a.boundAddress, b.boundAddress]);
    await waitFor(
      'A and B to mark C dead, and C to mark them dead',
      () =>
        a.member('f2')?.state === 'dead' &&
        b.member('f2')?.state === 'dead' &&
        c.member('f0')?.state === 'dead' &&
        c.member('f1')?.state === 'dead',
      { timeoutMs: 15_000 },
    );
    expect(a.member('f1')?.state).toBe('alive');
    const dropped = tc.filterStats();
    expect(dropped.blockedPacketsOut).toBeGreaterThan(0);
    expect(dropped.blockedPacketsIn).toBeGreaterThan(0);
    expect(ta.filterStats().blockedPacketsOut + tb.filterStats().blockedPacketsOut).toBe(0);

    tc.unblockAll();
    await c.join([a.boundAddress]);
    await waitFor(
      'every node to see every other alive',
      () => nodes.every((n) => n.members().filter((m) => m.state === 'alive').length === 3),
      { timeoutMs: 10_000 },
    );
  });
});
