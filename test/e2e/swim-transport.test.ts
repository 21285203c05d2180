/**
 * UdpTcpTransport on real sockets: UDP and TCP share one ephemeral port, oversized packets are
 * refused, accepted TCP streams are routed by their first byte, idle streams time out, and a
 * transport bound to a specific address dials from it.
 */
import { connect } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import { UdpTcpTransport } from '@plumtree/swim';
import { waitFor } from '../support/wait-for.js';

describe('UdpTcpTransport', () => {
  it('binds UDP and TCP on one ephemeral port and exchanges packets', async () => {
    const a = await UdpTcpTransport.bind({
      bindAddr: '127.0.0.1',
      bindPort: 0,
      maxPacketBytes: 100,
    });
    const b = await UdpTcpTransport.bind({ bindAddr: '127.0.0.1', bindPort: 0 });
    try {
      expect(a.port).toBeGreaterThan(0);
      expect(a.localAddress).toBe(`127.0.0.1:${a.port}`);
      const got: Array<[number, string]> = [];
      b.onPacket((buf, from) => got.push([buf.length, from]));
      expect(a.sendPacket(b.localAddress, new Uint8Array(101))).toBe(false);
      expect(a.stats().drops['packet-too-large']).toBe(1);
      expect(a.sendPacket(b.localAddress, new Uint8Array(100))).toBe(true);
      await waitFor('packet', () => got.length === 1);
      // The source port of the datagram is the shared port.
      expect(got[0]).toEqual([100, a.localAddress]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('routes TCP streams by first byte on the same port', async () => {
    const t = await UdpTcpTransport.bind({ bindAddr: '127.0.0.1', bindPort: 0 });
    const seen: Array<[string, number[]]> = [];
    t.streams.register([6], (s) => {
      s.on('data', (c: Buffer) => seen.push(['memberlist', [...c]]));
      s.resume();
    });
    t.streams.register([0x80], (s) => {
      s.on('data', (c: Buffer) => {
        seen.push(['other', [...c]]);
        s.end(Uint8Array.of(0x81));
      });
      s.resume();
    });
    try {
      const c1 = await t.dial(t.localAddress, 1_000);
      c1.write(Uint8Array.of(6, 1));
      const c2 = await t.dial(t.localAddress, 1_000);
      const reply: number[] = [];
      c2.on('data', (c: Buffer) => reply.push(...c));
      c2.write(Uint8Array.of(0x80, 2));
      const c3 = await t.dial(t.localAddress, 1_000);
      c3.on('error', () => {});
      let c3Closed = false;
      c3.on('close', () => (c3Closed = true));
      c3.write(Uint8Array.of(0x42));
      await waitFor('dispatch', () => seen.length === 2 && reply.length === 1 && c3Closed);
      expect(seen).toEqual(
        expect.arrayContaining([
          ['memberlist', [6, 1]],
          ['other', [0x80, 2]],
        ]),
      );
      expect(reply).toEqual([0x81]);
      expect(t.stats().drops['unknown-first-byte']).toBe(1);
      c1.destroy();
    } finally {
      await t.close();
    }
  });

  it('closes idle accepted streams after the stream timeout', async () => {
    const t = await UdpTcpTransport.bind({
      bindAddr: '127.0.0.1',
      bindPort: 0,
      streamTimeoutMs: 100,
    });
    try {
      const sock = connect(t.port, '127.0.0.1');
      let closed = false;
      sock.on('error', () => {});
      sock.on('close', () => (closed = true));
      await waitFor('idle stream closed', () => closed);
      expect(t.stats().drops['stream-timeout']).toBe(1);
    } finally {
      await t.close();
    }
  });

  it('dials from its bound address, not the one the route picks (two loopback addresses)', async () => {
    // 127.0.0.2 is on Linux's loopback too: a connection to 127.0.0.1 would leave from 127.0.0.1.
    const a = await UdpTcpTransport.bind({ bindAddr: '127.0.0.2', bindPort: 0 });
    const b = await UdpTcpTransport.bind({ bindAddr: '127.0.0.1', bindPort: 0 });
    const wild = await UdpTcpTransport.bind({ bindAddr: '0.0.0.0', bindPort: 0 });
    const sources: string[] = [];
    b.streams.register([6], (s, from) => {
      sources.push(from.slice(0, from.lastIndexOf(':')));
      s.resume();
    });
    try {
      for (const t of [a, wild]) {
        const c = await t.dial(b.localAddress, 1_000);
        c.write(Uint8Array.of(6));
        await waitFor('the stream accepted', () => sources.length === (t === a ? 1 : 2));
        c.destroy();
      }
      expect(sources).toEqual(['127.0.0.2', '127.0.0.1']);
    } finally {
      await Promise.all([a.close(), b.close(), wild.close()]);
    }
  });

  it('rejects a dial to a closed port', async () => {
    const t = await UdpTcpTransport.bind({ bindAddr: '127.0.0.1', bindPort: 0 });
    const other = await UdpTcpTransport.bind({ bindAddr: '127.0.0.1', bindPort: 0 });
    const dead = other.localAddress;
    await other.close();
    try {
      await expect(t.dial(dead, 1_000)).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      await t.close();
    }
  });
});
