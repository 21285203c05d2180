import { describe, expect, it } from '@jest/globals';
import type { Duplex } from 'node:stream';
import { createRng } from '@plumtree/common';
import { MemoryNetwork, type Scheduler } from './memory-network.js';
import { DialError } from './transport.js';
import { waitFor } from '../../../../test/support/wait-for.js';

/** A virtual clock: callbacks run in (time, insertion) order when the test advances it. */
class VirtualScheduler implements Scheduler {
  now = 0;
  private queue: Array<{ at: number; seq: number; fn: () => void }> = [];
  private seq = 0;
  schedule(delayMs: number, fn: () => void): () => void {
    const item = { at: this.now + delayMs, seq: this.seq++, fn };
    this.queue.push(item);
    this.queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
    return () => {
      this.queue = this.queue.filter((q) => q !== item);
    };
  }
  runUntil(t: number): void {
    while (this.queue.length > 0 && this.queue[0]!.at <= t) {
      const item = this.queue.shift()!;
      this.now = item.at;
      item.fn();
    }
    this.now = t;
  }
}

/** Resolves once `stream` has emitted `n` bytes (or ended), collecting them. */
function collect(stream: Duplex): { bytes: number[]; ended: boolean; error: Error | null } {
  const out = { bytes: [] as number[], ended: false, error: null as Error | null };
  stream.on('data', (c: Buffer) => out.bytes.push(...c));
  stream.on('end', () => (out.ended = true));
  stream.on('error', (e) => (out.error = e));
  stream.resume();
  return out;
}

/** Lets stream internals (nextTick, microtasks) run. */
const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('MemoryNetwork packets', () => {
  it('routes by host:port, with delay, and assigns ephemeral ports', () => {
    const sched = new VirtualScheduler();
    const net = new MemoryNetwork({ scheduler: sched, delayMs: 5 });
    const a = net.bind('10.0.0.1:0');
    const b = net.bind('10.0.0.2:7946');
    expect(a.localAddress).toMatch(/^10\.0\.0\.1:\d+$/);
    expect(() => net.bind('10.0.0.2:7946')).toThrow(/already bound/);
    const got: Array<[number[], string]> = [];
    b.onPacket((buf, from) => got.push([[...buf], from]));
    expect(a.sendPacket(b.localAddress, Uint8Array.of(1, 2, 3))).toBe(true);
    sched.runUntil(4);
    expect(got).toEqual([]);
    sched.runUntil(5);
    expect(got).toEqual([[[1, 2, 3], a.localAddress]]);
  });

  it('loses packets at the configured rate, reproducibly from a seed', () => {
    const run = (seed: number): number => {
      const sched = new VirtualScheduler();
      const net = new MemoryNetwork({ scheduler: sched, rng: createRng(seed), lossRate: 0.3 });
      const a = net.bind('10.0.0.1:1');
      const b = net.bind('10.0.0.2:1');
      let received = 0;
      b.onPacket(() => received++);
      for (let i = 0; i < 2000; i++) a.sendPacket(b.localAddress, Uint8Array.of(i & 255));
      sched.runUntil(1);
      expect(received + net.drops.loss).toBe(2000);
      return received;
    };
    const r = run(42);
    expect(r).toBeGreaterThan(2000 * 0.65);
    expect(r).toBeLessThan(2000 * 0.75);
    expect(run(42)).toBe(r);
  });

  it('partitions into groups and heals', () => {
    const sched = new VirtualScheduler();
    const net = new MemoryNetwork({ scheduler: sched });
    const [a, b, c] = ['10.0.0.1:1', '10.0.0.2:1', '10.0.0.3:1'].map((x) => net.bind(x)) as [
      ReturnType<typeof net.bind>,
      ReturnType<typeof net.bind>,
      ReturnType<typeof net.bind>,
    ];
    const seen: string[] = [];
    for (const t of [a, b, c]) t.onPacket((_buf, from) => seen.push(`${from}->${t.localAddress}`));
    net.partition([[a.localAddress, b.localAddress]]);
    a.sendPacket(b.localAddress, Uint8Array.of(1));
    a.sendPacket(c.localAddress, Uint8Array.of(1));
    c.sendPacket(b.localAddress, Uint8Array.of(1));
    sched.runUntil(1);
    expect(seen).toEqual(['10.0.0.1:1->10.0.0.2:1']);
    expect(net.drops.partition).toBe(2);
    net.heal();
    c.sendPacket(a.localAddress, Uint8Array.of(1));
    sched.runUntil(2);
    expect(seen).toContain('10.0.0.3:1->10.0.0.1:1');
  });

  it('caps packet size at the sender and in the network', () => {
    const sched = new VirtualScheduler();
    const net = new MemoryNetwork({ scheduler: sched, maxPacketBytes: 100 });
    const a = net.bind('10.0.0.1:1', { maxPacketBytes: 200 });
    const b = net.bind('10.0.0.2:1');
    let received = 0;
    b.onPacket(() => received++);
    expect(a.sendPacket(b.localAddress, new Uint8Array(201))).toBe(false);
    expect(a.stats().drops['packet-too-large']).toBe(1);
    expect(a.sendPacket(b.localAddress, new Uint8Array(150))).toBe(true);
    expect(a.sendPacket(b.localAddress, new Uint8Array(100))).toBe(true);
    sched.runUntil(1);
    expect(received).toBe(1);
    expect(net.drops['too-large']).toBe(1);
  });
});

describe('MemoryNetwork streams', () => {
  it('carries ordered bytes and a half-close like TCP', async () => {
    const net = new MemoryNetwork();
    const a = net.bind('10.0.0.1:1');
    const b = net.bind('10.0.0.2:1');
    let server: ReturnType<typeof collect> | null = null;
    b.streams.register([7], (s) => {
      server = collect(s);
      s.write(Uint8Array.of(99));
      s.end();
    });
    const s = await a.dial(b.localAddress, 100);
    const client = collect(s);
    s.write(Uint8Array.of(7, 1));
    s.write(Uint8Array.of(2, 3));
    s.end();
    await waitFor('both ends to end', () => client.ended && server !== null && server.ended);
    expect(server!.bytes).toEqual([7, 1, 2, 3]);
    expect(client.bytes).toEqual([99]);
    expect(client.ended).toBe(true);
    await Promise.all([a.close(), b.close()]);
  });

  it('refuses a dial to an unbound address and times out across a partition', async () => {
    const sched = new VirtualScheduler();
    const net = new MemoryNetwork({ scheduler: sched });
    const a = net.bind('10.0.0.1:1');
    const b = net.bind('10.0.0.2:1');
    const refused = a.dial('10.0.0.9:1', 100);
    sched.runUntil(0);
    await expect(refused).rejects.toThrow(/ECONNREFUSED/);
    net.partition([[a.localAddress]]);
    let settled = false;
    const cut = a.dial(b.localAddress, 100);
    cut.catch(() => (settled = true));
    sched.runUntil(99);
    await flush();
    expect(settled).toBe(false);
    sched.runUntil(100);
    await expect(cut).rejects.toBeInstanceOf(DialError);
  });

  it('resets open streams when a partition cuts them', async () => {
    const net = new MemoryNetwork();
    const a = net.bind('10.0.0.1:1');
    const b = net.bind('10.0.0.2:1');
    let server: ReturnType<typeof collect> | null = null;
    b.streams.register([1], (s) => (server = collect(s)));
    const s = await a.dial(b.localAddress, 100);
    const client = collect(s);
    s.write(Uint8Array.of(1));
    await waitFor('the accepted stream', () => server !== null);
    net.partition([[a.localAddress]]);
    await waitFor('both ends to be reset', () => client.error !== null && server!.error !== null);
    expect((client.error as NodeJS.ErrnoException | null)?.code).toBe('ECONNRESET');
    expect((server!.error as NodeJS.ErrnoException | null)?.code).toBe('ECONNRESET');
    await Promise.all([a.close(), b.close()]);
  });
});

describe('first-byte dispatch', () => {
  it('routes each stream to the handler of its first byte and drops unknown ones', async () => {
    const net = new MemoryNetwork();
    const a = net.bind('10.0.0.1:1');
    const b = net.bind('10.0.0.2:1');
    const got: Array<[string, number[]]> = [];
    b.streams.register([6, 244], (s) => {
      s.on('data', (c: Buffer) => got.push(['memberlist', [...c]]));
      s.resume();
    });
    b.streams.register([0x50], (s) => {
      s.on('data', (c: Buffer) => got.push(['plumtree', [...c]]));
      s.resume();
    });
    expect(() => b.streams.register([6], () => {})).toThrow(/already/);
    for (const first of [6, 0x50, 0x99]) {
      const s = await a.dial(b.localAddress, 100);
      s.on('error', () => {});
      s.write(Uint8Array.of(first, 1, 2));
    }
    await waitFor(
      'two streams routed and one dropped',
      () => got.length >= 2 && b.stats().drops['unknown-first-byte'] >= 1,
    );
    expect(got).toEqual(
      expect.arrayContaining([
        ['memberlist', [6, 1, 2]],
        ['plumtree', [0x50, 1, 2]],
      ]),
    );
    expect(got).toHaveLength(2);
    expect(b.stats().drops['unknown-first-byte']).toBe(1);
    await Promise.all([a.close(), b.close()]);
  });
});
