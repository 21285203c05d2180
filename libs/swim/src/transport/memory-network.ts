/**
 * An in-memory network for tests, after memberlist's `mock_transport.go` and quinn's test
 * network: transports bind "host:port" addresses and route packets and streams by them. The
 * network can lose packets (a loss rate drawn from a seeded RNG), delay packets and stream bytes,
 * partition addresses into groups, and cap packet size. Given an RNG and a {@link Scheduler} it is
 * deterministic; by default it uses real timers.
 *
 * Streams behave like TCP: ordered bytes, half-close (`end()` arrives as EOF), `destroy()` of one
 * side resets the other, and a dial to an unbound address is refused (ECONNREFUSED) while a dial
 * across a partition times out.
 */
import { Duplex } from 'node:stream';
import { splitHostPort } from '../protocol/address.js';
import type { Rng } from '@plumtree/common';
import { DialError, type SwimTransport } from './transport.js';
import { TransportBase, type TransportLimits } from './transport-base.js';

/** Runs callbacks later; inject a virtual one for deterministic tests. */
export interface Scheduler {
  /** Runs `fn` after `delayMs`; returns a cancel function. */
  schedule(delayMs: number, fn: () => void): () => void;
}

/** The real-timer scheduler. */
export const realScheduler: Scheduler = {
  schedule(delayMs, fn) {
    const t = setTimeout(fn, Math.max(0, delayMs));
    return () => clearTimeout(t);
  },
};

/** Options of {@link MemoryNetwork}. */
export interface MemoryNetworkOptions {
  /** Randomness for loss; required for a loss rate above 0. */
  readonly rng?: Rng;
  /** When callbacks run. Default {@link realScheduler}. */
  readonly scheduler?: Scheduler;
  /** Probability in [0, 1] that a packet is lost. Default 0. */
  readonly lossRate?: number;
  /** One-way delay of packets and stream bytes, in milliseconds. Default 0. */
  readonly delayMs?: number;
  /** Packets above this size are dropped by the network. Default 65507 (the UDP maximum). */
  readonly maxPacketBytes?: number;
}

/** Why the network itself lost a packet. */
export type NetworkDropReason = 'loss' | 'partition' | 'too-large' | 'unbound';

/** A network of {@link MemoryTransport}s. */
export class MemoryNetwork {
  /** Probability that a packet is lost; may be changed at any time. */
  lossRate: number;
  /** One-way delay; may be changed at any time. */
  delayMs: number;
  /** Packet size cap; may be changed at any time. */
  maxPacketBytes: number;
  /** Packets the network lost, by reason. */
  readonly drops: Record<NetworkDropReason, number> = {
    loss: 0,
    partition: 0,
    'too-large': 0,
    unbound: 0,
  };
  /** Packets delivered to a handler. */
  delivered = 0;

  private readonly rng: Rng | undefined;
  private readonly scheduler: Scheduler;
  private readonly transports = new Map<string, MemoryTransport>();
  private groups: Map<string, number> | null = null;
  private nextPort = 40_000;

  constructor(options: MemoryNetworkOptions = {}) {
    this.rng = options.rng;
    this.scheduler = options.scheduler ?? realScheduler;
    this.lossRate = options.lossRate ?? 0;
    this.delayMs = options.delayMs ?? 0;
    this.maxPacketBytes = options.maxPacketBytes ?? 65_507;
    if (this.lossRate > 0 && !this.rng) {
      throw new TypeError('MemoryNetwork: a lossRate needs an rng');
    }
  }

  /**
   * Binds a transport at `address` ("host:port"); port 0 picks a free port. Throws when the
   * address is taken.
   */
  bind(address: string, options: TransportLimits = {}): MemoryTransport {
    const hp = splitHostPort(address);
    if (!hp) throw new TypeError(`MemoryNetwork: bad address ${address}`);
    let port = hp.port;
    if (port === 0) {
      while (this.transports.has(`${hp.host}:${this.nextPort}`)) this.nextPort++;
      port = this.nextPort++;
    }
    const addr = `${hp.host}:${port}`;
    if (this.transports.has(addr)) throw new Error(`MemoryNetwork: ${addr} is already bound`);
    const t = new MemoryTransport(this, addr, options);
    this.transports.set(addr, t);
    return t;
  }

  /**
   * Splits the network: addresses talk only within their group; addresses in no group form one
   * more group together. Open streams across groups are reset.
   */
  partition(groups: ReadonlyArray<readonly string[]>): void {
    const m = new Map<string, number>();
    groups.forEach((g, i) => g.forEach((a) => m.set(a, i + 1)));
    this.groups = m;
    for (const t of this.transports.values()) t.resetUnreachable();
  }

  /** Removes the partition. */
  heal(): void {
    this.groups = null;
  }

  /** Whether `a` and `b` can currently talk. */
  reachable(a: string, b: string): boolean {
    if (!this.groups) return true;
    return (this.groups.get(a) ?? 0) === (this.groups.get(b) ?? 0);
  }

  /** @internal Schedules through the network's scheduler. */
  later(delayMs: number, fn: () => void): () => void {
    return this.scheduler.schedule(delayMs, fn);
  }

  /** @internal Routes one packet. */
  route(from: string, to: string, buf: Uint8Array): void {
    if (buf.length > this.maxPacketBytes) {
      this.drops['too-large']++;
      return;
    }
    if (!this.reachable(from, to)) {
      this.drops.partition++;
      return;
    }
    if (this.lossRate > 0 && this.rng!.next() < this.lossRate) {
      this.drops.loss++;
      return;
    }
    const copy = Uint8Array.from(buf);
    this.later(this.delayMs, () => {
      const target = this.transports.get(to);
      if (!target || target.isClosed) {
        this.drops.unbound++;
        return;
      }
      // A partition raised while the packet was in flight also loses it.
      if (!this.reachable(from, to)) {
        this.drops.partition++;
        return;
      }
      this.delivered++;
      target.receivePacket(copy, from);
    });
  }

  /** @internal The transport bound at `address`. */
  lookup(address: string): MemoryTransport | undefined {
    const t = this.transports.get(address);
    return t && !t.isClosed ? t : undefined;
  }

  /** @internal Frees an address. */
  unbind(address: string): void {
    this.transports.delete(address);
  }
}

/** One end of an in-memory TCP-like connection. */
export class MemoryStream extends Duplex {
  /** @internal The other end. */
  peer: MemoryStream | null = null;

  constructor(
    private readonly network: MemoryNetwork,
    /** The local `host:port`. */
    readonly localAddress: string,
    /** The remote `host:port`. */
    readonly remoteAddress: string,
  ) {
    super({ allowHalfOpen: false });
  }

  override _read(): void {}

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    const peer = this.peer;
    const copy = Buffer.from(chunk);
    this.network.later(this.network.delayMs, () => {
      if (peer && !peer.destroyed && !peer.readableEnded) peer.push(copy);
    });
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    const peer = this.peer;
    this.network.later(this.network.delayMs, () => {
      if (peer && !peer.destroyed && !peer.readableEnded) peer.push(null);
    });
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const peer = this.peer;
    this.peer = null;
    if (peer) {
      peer.peer = null;
      this.network.later(this.network.delayMs, () => {
        if (peer.destroyed) return;
        // A reset, unless this side had already sent its FIN.
        if (this.writableFinished && !error) peer.push(null);
        else peer.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
      });
    }
    callback(error);
  }
}

/** A transport on a {@link MemoryNetwork}. */
export class MemoryTransport extends TransportBase implements SwimTransport {
  private readonly open = new Set<MemoryStream>();

  /** @internal Use {@link MemoryNetwork.bind}. */
  constructor(
    private readonly network: MemoryNetwork,
    localAddress: string,
    limits: TransportLimits,
  ) {
    super(localAddress, limits);
  }

  /** Whether {@link close} was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  sendPacket(to: string, buf: Uint8Array): boolean {
    if (!this.admit(buf)) return false;
    this.countSent(buf);
    this.network.route(this.localAddress, to, buf);
    return true;
  }

  dial(to: string, timeoutMs: number): Promise<MemoryStream> {
    if (this.closed) return Promise.reject(new DialError(to, 'transport closed'));
    return new Promise<MemoryStream>((resolve, reject) => {
      if (!this.network.reachable(this.localAddress, to)) {
        // Across a partition the SYN is lost: the dial times out, as TCP would.
        this.network.later(timeoutMs, () =>
          reject(new DialError(to, `timeout after ${timeoutMs} ms`)),
        );
        return;
      }
      this.network.later(this.network.delayMs, () => {
        const target = this.network.lookup(to);
        if (!target || this.closed) {
          reject(new DialError(to, 'connect ECONNREFUSED', true));
          return;
        }
        const local = new MemoryStream(this.network, this.localAddress, to);
        const remote = new MemoryStream(this.network, to, this.localAddress);
        local.peer = remote;
        remote.peer = local;
        this.track(local);
        target.accept(remote);
        this.counters.streamsDialed++;
        resolve(local);
      });
    });
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      for (const s of this.open) s.destroy();
      this.open.clear();
      this.network.unbind(this.localAddress);
    }
    return Promise.resolve();
  }

  /** @internal A packet from the network. */
  receivePacket(buf: Uint8Array, from: string): void {
    this.deliver(buf, from);
  }

  /** @internal An inbound connection. */
  accept(stream: MemoryStream): void {
    this.track(stream);
    this.counters.streamsAccepted++;
    const cancel = this.network.later(this.streamTimeoutMs, () => {
      if (stream.destroyed) return;
      this.counters.drops['stream-timeout']++;
      stream.destroy();
    });
    stream.once('close', cancel);
    this.route(stream, stream.remoteAddress);
  }

  /** @internal Resets streams to peers a new partition cut off. */
  resetUnreachable(): void {
    for (const s of this.open) {
      if (!this.network.reachable(this.localAddress, s.remoteAddress)) {
        s.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
      }
    }
  }

  private track(stream: MemoryStream): void {
    this.open.add(stream);
    stream.once('close', () => this.open.delete(stream));
  }
}
