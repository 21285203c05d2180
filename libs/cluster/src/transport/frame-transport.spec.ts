/**
 * FrameTransport on in-memory transports: ordered delivery with the sender's name, connection
 * events, queueing and overflow while a peer is unreachable, redial once it is back, disconnect,
 * keyrings (matching, wrong, one-sided), refused preambles and oversized lengths, a peer that
 * answers under another name, a throwing handler, idle close and sharing the port with
 * memberlist's first bytes. Waits are bounded polls.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import type { Duplex } from 'node:stream';
import {
  Keyring,
  MEMBERLIST_STREAM_FIRST_BYTES,
  MemoryNetwork,
  type MemoryTransport,
} from '@plumtree/swim';
import { encodePlainPreamble, PLUMTREE_STREAM_FIRST_BYTE } from './frame-handshake.js';
import type { FrameTransportOptions } from './frame-transport-options.js';
import { FrameTransport } from './frame-transport.js';
import { waitFor } from '../../../../test/support/wait-for.js';

const K1 = new Uint8Array(32).fill(1);
const K2 = new Uint8Array(32).fill(2);

interface Node {
  name: string;
  swim: MemoryTransport;
  ft: FrameTransport;
  got: Array<{ from: string; frame: Uint8Array }>;
  states: Array<[string, boolean]>;
}

describe('FrameTransport (memory network)', () => {
  let net: MemoryNetwork;
  const addrs = new Map<string, string>();
  const open: FrameTransport[] = [];

  function node(name: string, opts: Partial<FrameTransportOptions> = {}, address?: string): Node {
    const swim = net.bind(address ?? '10.0.0.1:0', { streamTimeoutMs: 60_000 });
    addrs.set(name, swim.localAddress);
    const ft = new FrameTransport({
      transport: swim,
      localName: name,
      resolve: (p) => addrs.get(p),
      reconnectBackoffMs: { initial: 5, max: 20 },
      dialTimeoutMs: 1000,
      ...opts,
    });
    open.push(ft);
    const n: Node = { name, swim, ft, got: [], states: [] };
    ft.onFrame((from, frame) => n.got.push({ from, frame: Uint8Array.from(frame) }));
    ft.onPeerState((p, up) => n.states.push([p, up]));
    return n;
  }

  beforeEachSetup();
  function beforeEachSetup(): void {
    afterEach(async () => {
      await Promise.all(open.splice(0).map((t) => t.close()));
      addrs.clear();
    });
  }

  it('delivers frames in order, with the sender name, and raises up', async () => {
    net = new MemoryNetwork();
    const a = node('a');
    const b = node('b');
    for (let i = 0; i < 200; i++) {
      expect(a.ft.send('b', Uint8Array.of(i & 0xff, i >> 8))).toBe('queued');
    }
    await waitFor('200 frames', () => b.got.length === 200);
    expect(b.got.map((g) => g.frame[0]! | (g.frame[1]! << 8))).toEqual(
      Array.from({ length: 200 }, (_, i) => i),
    );
    expect(b.got.every((g) => g.from === 'a')).toBe(true);
    expect(a.states).toEqual([['b', true]]);
    expect(a.ft.isConnected('b')).toBe(true);
    const s = a.ft.stats();
    expect(s.framesSent).toBe(200);
    expect(s.peers).toBe(1);
    expect(b.ft.stats().framesReceived).toBe(200);
    await waitFor('queue drained', () => a.ft.queuedBytes('b') === 0);
  });

  it('answers unknown-peer and closed', async () => {
    net = new MemoryNetwork();
    const a = node('a');
    expect(a.ft.send('nobody', Uint8Array.of(1))).toBe('unknown-peer');
    expect(a.ft.stats().drops['unknown-peer']).toBe(1);
    await a.ft.close();
    expect(a.ft.send('a', Uint8Array.of(1))).toBe('closed');
  });

  it('queues while the peer is away, overflows at the cap, and delivers after it returns', async () => {
    net = new MemoryNetwork();
    const a = node('a', { maxQueueBytes: 10_000 });
    // 'b' resolves to an address nobody is bound to yet: dials are refused and retried.
    addrs.set('b', '10.0.0.2:7000');
    const frame = new Uint8Array(996); // 1000 bytes queued with the header
    let queued = 0;
    let overflow = 0;
    for (let i = 0; i < 15; i++) {
      frame[0] = i;
      const r = a.ft.send('b', Uint8Array.from(frame));
      if (r === 'queued') queued++;
      if (r === 'overflow') overflow++;
    }
    expect([queued, overflow]).toEqual([10, 5]);
    expect(a.ft.queuedBytes('b')).toBe(10_000);
    expect(a.ft.stats()).toMatchObject({ overflows: 5, queuedBytes: 10_000 });
    await waitFor('a few redials', () => a.ft.stats().reconnects >= 2);
    expect(a.ft.stats().drops['dial-failed']).toBeGreaterThanOrEqual(2);
    const b = node('b', {}, '10.0.0.2:7000');
    await waitFor('10 queued frames', () => b.got.length === 10);
    expect(b.got.map((g) => g.frame[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // Several refused dials, one down; then up.
    expect(a.states).toEqual([
      ['b', false],
      ['b', true],
    ]);
  });

  it('takes one frame larger than the queue cap when nothing else waits', async () => {
    net = new MemoryNetwork();
    const a = node('a', { maxQueueBytes: 1000, maxFrameBytes: 5000 });
    const b = node('b', { maxFrameBytes: 5000 });
    expect(a.ft.send('b', new Uint8Array(3000))).toBe('queued');
    expect(a.ft.send('b', new Uint8Array(1))).toBe('overflow');
    expect(a.ft.send('b', new Uint8Array(5001))).toBe('overflow');
    expect(a.ft.stats().drops['frame-too-large']).toBe(1);
    await waitFor('big frame', () => b.got.length === 1);
    expect(b.got[0]!.frame.length).toBe(3000);
  });

  it('raises down and redials when the connection breaks', async () => {
    net = new MemoryNetwork();
    const a = node('a');
    const b = node('b');
    a.ft.send('b', Uint8Array.of(1));
    await waitFor('first', () => b.got.length === 1);
    net.partition([[addrs.get('a')!], [addrs.get('b')!]]);
    await waitFor('down', () => a.states.length === 2);
    expect(a.states[1]).toEqual(['b', false]);
    a.ft.send('b', Uint8Array.of(2));
    net.heal();
    await waitFor('second after redial', () => b.got.length === 2);
    expect(a.states[2]).toEqual(['b', true]);
    expect(a.ft.stats().reconnects).toBeGreaterThanOrEqual(1);
  });

  it('disconnect drops the queue, stops redialing and closes inbound connections', async () => {
    net = new MemoryNetwork();
    const a = node('a');
    const b = node('b');
    a.ft.send('b', Uint8Array.of(1));
    b.ft.send('a', Uint8Array.of(1));
    await waitFor('both ways', () => a.got.length === 1 && b.got.length === 1);
    net.partition([[addrs.get('a')!], [addrs.get('b')!]]);
    await waitFor('down', () => a.states.length === 2);
    a.ft.send('b', Uint8Array.of(2));
    a.ft.send('b', Uint8Array.of(3));
    a.ft.disconnect('b');
    expect(a.ft.queuedBytes('b')).toBe(0);
    expect(a.ft.stats()).toMatchObject({ peers: 0 });
    expect(a.ft.stats().drops.discarded).toBe(2);
    const dials = a.swim.stats().streamsDialed;
    net.heal();
    // A fresh send after disconnect starts over and gets through.
    expect(a.ft.send('b', Uint8Array.of(4))).toBe('queued');
    await waitFor('fresh frame', () => b.got.length === 2);
    expect(b.got[1]!.frame[0]).toBe(4);
    expect(a.swim.stats().streamsDialed).toBe(dials + 1);
  });

  it('disconnect of an up peer raises down and closes its inbound connection', async () => {
    net = new MemoryNetwork();
    const a = node('a');
    const b = node('b');
    a.ft.send('b', Uint8Array.of(1));
    b.ft.send('a', Uint8Array.of(1));
    await waitFor('both ways', () => a.got.length === 1 && b.got.length === 1);
    a.ft.disconnect('b');
    expect(a.states).toEqual([
      ['b', true],
      ['b', false],
    ]);
    // b's connection into a was closed by a: b sees it go down.
    await waitFor('b sees down', () => b.states.length === 2);
  });

  it('seals with a shared keyring, rotating keys included', async () => {
    net = new MemoryNetwork();
    const ringA = new Keyring([], K1);
    const ringB = new Keyring([K2], K1);
    const a = node('a', { keyring: ringA });
    const b = node('b', { keyring: ringB });
    a.ft.send('b', Uint8Array.of(1, 2, 3));
    await waitFor('sealed frame', () => b.got.length === 1);
    expect([...b.got[0]!.frame]).toEqual([1, 2, 3]);
    // Rotate a's primary to K2, which b also holds.
    ringA.addKey(K2);
    ringA.useKey(K2);
    a.ft.send('b', Uint8Array.of(4));
    await waitFor('frame under new key', () => b.got.length === 2);
    expect(b.ft.stats().drops['decrypt-failed']).toBe(0);
  });

  it.each([
    ['a wrong key', new Keyring([], K2), 'auth-failed', 5],
    ['no keyring', null, 'encryption-mismatch', 5],
  ] as const)('refuses a dialer with %s', async (_what, ring, reason, waiting) => {
    net = new MemoryNetwork();
    const a = node('a', { keyring: ring });
    const b = node('b', { keyring: new Keyring([], K1) });
    a.ft.send('b', Uint8Array.of(1));
    await waitFor('refused twice', () => b.ft.stats().drops[reason]! >= 2);
    expect(b.got).toHaveLength(0);
    expect(a.states).toEqual([['b', false]]);
    // The frame still waits: 4-byte length + 1 byte.
    expect(a.ft.queuedBytes('b')).toBe(waiting);
  });

  async function rawDial(from: MemoryTransport, to: string, bytes: Uint8Array): Promise<Duplex> {
    const s = await from.dial(to, 1000);
    s.on('error', () => {});
    s.on('data', () => {});
    s.write(bytes);
    return s;
  }

  it('drops a garbage preamble and a huge length, and counts them', async () => {
    net = new MemoryNetwork();
    const b = node('b', { maxFrameBytes: 1000 });
    const raw = net.bind('10.0.0.9:0');
    const s1 = await rawDial(raw, addrs.get('b')!, Uint8Array.of(PLUMTREE_STREAM_FIRST_BYTE, 77));
    await waitFor('bad version', () => b.ft.stats().drops['bad-version'] === 1);
    await waitFor('closed', () => s1.destroyed);
    // A member at the raw client's address, so the gate admits it and its frames are read.
    addrs.set('x', raw.localAddress);
    const hello = encodePlainPreamble('x');
    const huge = Buffer.alloc(4);
    huge.writeUInt32BE(1001, 0);
    const s2 = await rawDial(raw, addrs.get('b')!, Buffer.concat([hello, huge]));
    await waitFor('too large', () => b.ft.stats().drops['frame-too-large'] === 1);
    await waitFor('closed', () => s2.destroyed);
    expect(b.got).toHaveLength(0);
    await raw.close();
  });

  it('holds a dialer its acceptor does not know yet, then delivers in order once it is a member', async () => {
    net = new MemoryNetwork();
    const known = new Set<string>();
    const b = node('b', { resolve: (p) => (known.has(p) ? addrs.get(p) : undefined) });
    const a = node('a');
    for (let i = 0; i < 5; i++) a.ft.send('b', Uint8Array.of(i));
    await waitFor('held', () => b.ft.stats().pendingConnections === 1);
    b.ft.membersChanged();
    expect(b.got).toHaveLength(0);
    known.add('a');
    b.ft.membersChanged();
    await waitFor('five frames', () => b.got.length === 5);
    expect(b.got.map((g) => g.frame[0])).toEqual([0, 1, 2, 3, 4]);
    expect(b.ft.stats().pendingConnections).toBe(0);
    expect(Object.values(b.ft.stats().refused).every((n) => n === 0)).toBe(true);
  });

  it('refuses a dialer that never becomes a member, and one from the wrong address', async () => {
    net = new MemoryNetwork();
    const b = node('b', { pendingMemberMs: 30, keyring: new Keyring([], K1) });
    const a = node('a', { keyring: new Keyring([], K1) });
    addrs.set('a', '10.0.0.7:1');
    a.ft.send('b', Uint8Array.of(1));
    await waitFor('wrong address', () => b.ft.stats().refused['address']! >= 1);
    addrs.delete('a');
    const c = node('c', { keyring: new Keyring([], K1) }, '10.0.0.3:0');
    addrs.delete('c');
    c.ft.send('b', Uint8Array.of(1));
    await waitFor('not a member', () => b.ft.stats().refused['not-member']! >= 1);
    expect(b.got).toHaveLength(0);
  });

  it('caps accepted connections in total', async () => {
    net = new MemoryNetwork();
    const b = node('b', { maxInboundConnections: 1 });
    const raw = net.bind('10.0.0.9:0');
    const s1 = await rawDial(raw, addrs.get('b')!, Uint8Array.of(PLUMTREE_STREAM_FIRST_BYTE));
    await waitFor('first accepted', () => b.ft.stats().inboundConnections === 1);
    const s2 = await rawDial(raw, addrs.get('b')!, Uint8Array.of(PLUMTREE_STREAM_FIRST_BYTE));
    await waitFor('second refused', () => b.ft.stats().refused['total-cap'] === 1);
    await waitFor('closed', () => s2.destroyed);
    expect(s1.destroyed).toBe(false);
    await raw.close();
  });

  it('refuses a peer that answers under another name', async () => {
    net = new MemoryNetwork();
    const a = node('a');
    const c = node('c');
    addrs.set('b', addrs.get('c')!);
    a.ft.send('b', Uint8Array.of(1));
    await waitFor('mismatch', () => a.ft.stats().drops['peer-name-mismatch']! >= 1);
    await waitFor('down', () => a.states.length === 1);
    expect(a.states).toEqual([['b', false]]);
    // c did accept the preamble, but the frame never left a's queue.
    expect(c.got).toHaveLength(0);
  });

  it('keeps the connection when the frame handler throws', async () => {
    net = new MemoryNetwork();
    const a = node('a');
    const b = node('b');
    const seen: number[] = [];
    b.ft.onFrame((_from, f) => {
      seen.push(f[0]!);
      if (f[0] === 1) throw new Error('handler bug');
    });
    for (let i = 0; i < 3; i++) a.ft.send('b', Uint8Array.of(i));
    await waitFor('all three', () => seen.length === 3);
    expect(b.ft.stats().drops['handler-error']).toBe(1);
  });

  it('closes an idle outbound connection and redials on the next send', async () => {
    net = new MemoryNetwork();
    const a = node('a', { idleTimeoutMs: 30 });
    const b = node('b');
    a.ft.send('b', Uint8Array.of(1));
    await waitFor('up', () => a.ft.isConnected('b'));
    await waitFor('idle close', () => !a.ft.isConnected('b'));
    expect(a.ft.stats().reconnects).toBe(0);
    a.ft.send('b', Uint8Array.of(2));
    await waitFor('second', () => b.got.length === 2);
    // Not a failure: no down, no backoff, and the redial is not counted as a reconnect.
    expect(a.states).toEqual([['b', true]]);
    expect(a.swim.stats().streamsDialed).toBe(2);
    expect(a.ft.stats().reconnects).toBe(0);
  });

  it('shares the port: memberlist first bytes still reach their handler', async () => {
    net = new MemoryNetwork();
    const b = node('b');
    const memberlist: number[] = [];
    b.swim.streams.register(MEMBERLIST_STREAM_FIRST_BYTES, (s) => {
      s.once('data', (c: Buffer) => memberlist.push(c[0]!));
      s.resume();
    });
    const raw = net.bind('10.0.0.9:0');
    await rawDial(raw, addrs.get('b')!, Uint8Array.of(4, 1, 2));
    await waitFor('memberlist stream', () => memberlist.length === 1);
    expect(memberlist).toEqual([4]);
    await raw.close();
  });
});
