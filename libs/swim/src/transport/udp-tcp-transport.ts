/**
 * memberlist's `NetTransport` on Node: UDP (node:dgram) and TCP (node:net) bound to ONE port.
 * Packets up to `maxPacketBytes` go out as single datagrams; accepted TCP connections get an idle
 * timeout and are routed by their first byte ({@link StreamDispatcher}); dialled connections get a
 * connect timeout and leave from the bound address when it is not a wildcard. `close()` stops both listeners and destroys every open socket.
 */
import * as dgram from 'node:dgram';
import { isIP, isIPv6 } from 'node:net';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import { joinHostPort, splitHostPort } from '../protocol/address.js';
import { DialError, type SwimTransport } from './transport.js';
import { TransportBase, type TransportLimits } from './transport-base.js';

/** Options of {@link UdpTcpTransport.bind}. */
export interface UdpTcpTransportOptions extends TransportLimits {
  /** Address to bind both sockets to. Default `0.0.0.0`. */
  readonly bindAddr?: string;
  /** Port of both sockets; 0 picks a free one for both. Default 7946. */
  readonly bindPort?: number;
}

/** Socket receive buffer asked for, as memberlist's `udpRecvBufSize` (2 MiB). */
const UDP_RECV_BUFFER_BYTES = 2 * 1024 * 1024;
/** Attempts to find a port free for both UDP and TCP when binding port 0. */
const EPHEMERAL_BIND_ATTEMPTS = 10;

/** UDP + TCP on one port. Build it with {@link UdpTcpTransport.bind}. */
export class UdpTcpTransport extends TransportBase implements SwimTransport {
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly udp: dgram.Socket,
    private readonly tcp: net.Server,
    localAddress: string,
    limits: TransportLimits,
  ) {
    super(localAddress, limits);
    udp.on('message', (msg, rinfo) => {
      this.deliver(msg, joinHostPort(rinfo.address, rinfo.port));
    });
    // A UDP socket error (e.g. ICMP unreachable on some platforms) is not fatal to the node.
    udp.on('error', () => {});
    tcp.on('connection', (socket) => this.accept(socket));
    tcp.on('error', () => {});
  }

  /**
   * Binds UDP and TCP on `bindAddr:bindPort`. With port 0 the TCP listener picks the port and UDP
   * binds the same one, retrying with a new port if UDP finds it taken (memberlist does the same).
   * (`override`: a static `bind` shadows `Function.prototype.bind` of the base class.)
   */
  static override async bind(options: UdpTcpTransportOptions = {}): Promise<UdpTcpTransport> {
    const bindAddr = options.bindAddr ?? '0.0.0.0';
    const bindPort = options.bindPort ?? 7946;
    const attempts = bindPort === 0 ? EPHEMERAL_BIND_ATTEMPTS : 1;
    let lastError: unknown;
    for (let i = 0; i < attempts; i++) {
      const tcp = net.createServer({ allowHalfOpen: false });
      try {
        await new Promise<void>((resolve, reject) => {
          tcp.once('error', reject);
          tcp.listen({ host: bindAddr, port: bindPort, exclusive: true }, () => {
            tcp.removeListener('error', reject);
            resolve();
          });
        });
      } catch (e) {
        lastError = e;
        continue;
      }
      const port = (tcp.address() as net.AddressInfo).port;
      const udp = dgram.createSocket({ type: isIPv6(bindAddr) ? 'udp6' : 'udp4' });
      try {
        await new Promise<void>((resolve, reject) => {
          udp.once('error', reject);
          udp.bind({ address: bindAddr, port, exclusive: true }, () => {
            udp.removeListener('error', reject);
            resolve();
          });
        });
      } catch (e) {
        lastError = e;
        udp.close();
        await new Promise<void>((r) => tcp.close(() => r()));
        continue;
      }
      try {
        udp.setRecvBufferSize(UDP_RECV_BUFFER_BYTES);
      } catch {
        // The OS may cap it; memberlist also only warns.
      }
      return new UdpTcpTransport(udp, tcp, joinHostPort(bindAddr, port), options);
    }
    throw new Error(
      `cannot bind UDP and TCP on ${joinHostPort(bindAddr, bindPort)}: ${String(lastError)}`,
    );
  }

  /** The bound port. */
  get port(): number {
    return splitHostPort(this.localAddress)!.port;
  }

  sendPacket(to: string, buf: Uint8Array): boolean {
    if (!this.admit(buf)) return false;
    const hp = splitHostPort(to);
    if (!hp) {
      this.counters.drops['send-error']++;
      return false;
    }
    this.countSent(buf);
    this.udp.send(buf, hp.port, hp.host, (err) => {
      if (err) this.counters.drops['send-error']++;
    });
    return true;
  }

  dial(to: string, timeoutMs: number): Promise<Duplex> {
    const hp = splitHostPort(to);
    if (!hp) return Promise.reject(new DialError(to, 'bad address'));
    if (this.closed) return Promise.reject(new DialError(to, 'transport closed'));
    return new Promise<Duplex>((resolve, reject) => {
      const socket = net.connect({
        host: hp.host,
        port: hp.port,
        allowHalfOpen: false,
        ...this.dialSource(hp.host),
      });
      this.track(socket);
      const timer = setTimeout(
        () => {
          socket.destroy();
          reject(new DialError(to, `timeout after ${timeoutMs} ms`));
        },
        Math.max(0, timeoutMs),
      );
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(new DialError(to, e.message, (e as NodeJS.ErrnoException).code === 'ECONNREFUSED'));
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.setNoDelay(true);
        this.counters.streamsDialed++;
        resolve(socket);
      });
    });
  }

  /**
   * Dial from the bound address when it is a specific one: on a host with several addresses the
   * kernel would pick the source by route, and a peer checking that a connection comes from the
   * member's advertised address (the frame transport's member gate) would refuse it. A wildcard
   * bind (`0.0.0.0`, `::`) leaves the choice to the kernel; so does a target of the other family.
   */
  private dialSource(host: string): { localAddress?: string; family?: number } {
    const bound = splitHostPort(this.localAddress)!.host;
    const family = isIP(bound);
    if (family === 0 || bound === '0.0.0.0' || bound === '::') return {};
    const target = isIP(host);
    if (target === 0) return { localAddress: bound, family }; // a name: resolved in our family
    return target === family ? { localAddress: bound } : {};
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await Promise.all([
      new Promise<void>((r) => this.tcp.close(() => r())),
      new Promise<void>((r) => {
        try {
          this.udp.close(() => r());
        } catch {
          r();
        }
      }),
    ]);
  }

  private accept(socket: net.Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.track(socket);
    this.counters.streamsAccepted++;
    socket.setNoDelay(true);
    // memberlist sets a TCPTimeout deadline on every accepted connection.
    socket.setTimeout(this.streamTimeoutMs, () => {
      this.counters.drops['stream-timeout']++;
      socket.destroy();
    });
    const from = joinHostPort(socket.remoteAddress ?? '', socket.remotePort ?? 0);
    this.route(socket, from);
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }
}
