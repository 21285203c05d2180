/**
 * A {@link SwimTransport} wrapper that injects faults: it blocks addresses (a partition looks like
 * silence, not like a dead process) and loses packets at a rate drawn from an injected RNG.
 * Everything it does not filter goes to the wrapped transport unchanged. Used by tests and by the
 * CLI agent's fault switch; it works over any transport (UDP + TCP, or a {@link MemoryNetwork}).
 *
 * What "blocked" means, per kind of traffic:
 * - packets sent to a blocked address are dropped silently (`sendPacket` still returns true, as a
 *   datagram lost on the wire would); received packets from one are not handed on. UDP packets
 *   carry the sender's bind port, so `host:port` entries identify nodes exactly.
 * - `dial` to a blocked address rejects with a {@link DialError} that is NOT `refused`, after
 *   `min(timeoutMs, blockedDialDelayMs)`: the caller sees a timeout, as across a real partition,
 *   without the test waiting the whole dial timeout.
 * - accepted streams from a blocked peer are destroyed before any handler sees them.
 * - streams already open to or from an address are destroyed when it gets blocked.
 *
 * Attributing accepted streams: their `from` is the remote `host:port`, and over TCP the remote
 * port is the dialer's ephemeral port, not its bind port; on loopback every node also shares the
 * host 127.0.0.1. Neither memberlist's stream messages nor the dispatcher name the dialing node, so
 * the accepting side cannot tell nodes apart by what it receives. The approach chosen: every
 * FilteringTransport records, in a registry shared by the process, the local `host:port` of each
 * stream it dials together with its own bound address; the accepting side looks the stream's
 * `from` up there and so learns which node dialed it. This is exact for every node of one process
 * (test clusters, the in-process chat). A dialer in another process or not wrapped is matched by
 * its raw `from`: exactly on a {@link MemoryNetwork} (whose `from` is the bound address), and by a
 * bare-host entry (`block(['10.0.0.7'])`) on a real network where nodes have their own hosts.
 * Block on both sides for a partition across processes on one host: the dialer's own filter then
 * stops the stream.
 */
import type { Duplex } from 'node:stream';
import { joinHostPort, splitHostPort } from '../protocol/address.js';
import type { Rng } from '@plumtree/common';
import { realScheduler, type Scheduler } from './memory-network.js';
import {
  DialError,
  StreamDispatcher,
  type PacketHandler,
  type StreamHandler,
  type SwimTransport,
  type TransportStats,
} from './transport.js';

/** Options of {@link FilteringTransport}. */
export interface FilteringTransportOptions {
  /** Randomness for {@link FilteringTransport.lossRate}; required for a loss rate above 0. */
  readonly rng?: Rng;
  /** Initial loss rate in [0, 1]. Default 0. */
  readonly lossRate?: number;
  /**
   * Longest wait before a dial to a blocked address rejects, in ms; the caller's own `timeoutMs`
   * applies when shorter. Default 1000: long enough to look like a timeout, short enough for tests.
   */
  readonly blockedDialDelayMs?: number;
  /** When delayed rejections run. Default real timers. */
  readonly scheduler?: Scheduler;
}

/** What a {@link FilteringTransport} dropped, by kind. */
export interface FilteringStats {
  /** Packets to a blocked address, not sent. */
  blockedPacketsOut: number;
  /** Packets from a blocked address, not handed on. */
  blockedPacketsIn: number;
  /** Packets to send lost to {@link FilteringTransport.lossRate}. */
  lostPacketsOut: number;
  /** Received packets lost to {@link FilteringTransport.lossRate}. */
  lostPacketsIn: number;
  /** Dials to a blocked address, rejected. */
  blockedDials: number;
  /** Accepted streams from a blocked peer, destroyed before any handler saw them. */
  blockedStreamsAccepted: number;
  /** Open streams destroyed because their peer got blocked. */
  streamsCut: number;
}

/**
 * Local `host:port` of a stream dialed by a FilteringTransport -> the bound address of that
 * transport. Shared by the process so an accepting FilteringTransport can attribute a loopback
 * stream to the node that dialed it (see the header comment).
 */
const dialedFrom = new Map<string, string>();

/** The local `host:port` of a dialed stream, when it has one (net.Socket and MemoryStream do). */
function localEndpoint(stream: Duplex): string | null {
  const s = stream as Partial<{ localAddress: unknown; localPort: unknown }>;
  if (typeof s.localAddress !== 'string') return null;
  if (typeof s.localPort === 'number') return joinHostPort(s.localAddress, s.localPort);
  // A MemoryStream's localAddress is already `host:port`.
  return splitHostPort(s.localAddress) ? s.localAddress : null;
}

/** Hosts as the transports print them: IPv4-mapped IPv6 (`::ffff:1.2.3.4`) as plain IPv4. */
function normaliseHost(host: string): string {
  return host.startsWith('::ffff:') && host.includes('.') ? host.slice(7) : host;
}

/**
 * The wrapper's stream dispatcher: handlers registered here are installed on the wrapped
 * transport's dispatcher behind the filter, so the wrapped transport's own first-byte dispatch
 * (and its unknown-byte counting) keeps working unchanged.
 */
class FilteringDispatcher extends StreamDispatcher {
  constructor(
    private readonly inner: StreamDispatcher,
    private readonly filter: (handler: StreamHandler) => StreamHandler,
  ) {
    super();
  }

  override register(firstBytes: Iterable<number>, handler: StreamHandler): void {
    this.inner.register(firstBytes, this.filter(handler));
  }

  override unregister(firstBytes: Iterable<number>): void {
    this.inner.unregister(firstBytes);
  }

  override handlerFor(firstByte: number): StreamHandler | undefined {
    return this.inner.handlerFor(firstByte);
  }

  override dispatch(stream: Duplex, from: string, onUnknown: (firstByte: number) => void): void {
    this.inner.dispatch(stream, from, onUnknown);
  }
}

/** Wraps a {@link SwimTransport} and drops what is blocked or lost. */
export class FilteringTransport implements SwimTransport {
  readonly streams: StreamDispatcher;
  private readonly blockedSet = new Set<string>();
  /** Open streams (dialed and accepted) by the peer address they were attributed to. */
  private readonly open = new Map<Duplex, string>();
  private readonly pendingRejects = new Set<() => void>();
  private packetHandler: PacketHandler = () => {};
  private lossRateValue = 0;
  private readonly rng: Rng | undefined;
  private readonly blockedDialDelayMs: number;
  private readonly scheduler: Scheduler;
  private readonly counters: FilteringStats = {
    blockedPacketsOut: 0,
    blockedPacketsIn: 0,
    lostPacketsOut: 0,
    lostPacketsIn: 0,
    blockedDials: 0,
    blockedStreamsAccepted: 0,
    streamsCut: 0,
  };
  private closed = false;

  constructor(
    /** The transport that really sends. */
    readonly inner: SwimTransport,
    options: FilteringTransportOptions = {},
  ) {
    this.rng = options.rng;
    this.blockedDialDelayMs = options.blockedDialDelayMs ?? 1_000;
    this.scheduler = options.scheduler ?? realScheduler;
    this.lossRate = options.lossRate ?? 0;
    this.streams = new FilteringDispatcher(inner.streams, (h) => this.filterAccepted(h));
    inner.onPacket((buf, from) => this.onInnerPacket(buf, from));
  }

  get localAddress(): string {
    return this.inner.localAddress;
  }

  get maxPacketBytes(): number {
    return this.inner.maxPacketBytes;
  }

  get maxStreamBytes(): number {
    return this.inner.maxStreamBytes;
  }

  get streamTimeoutMs(): number {
    return this.inner.streamTimeoutMs;
  }

  /**
   * Probability in [0, 1] that a packet is lost, applied to each packet sent and each packet
   * received (so a packet between two nodes both set to `p` is lost with `1 - (1 - p)^2`).
   * Streams are not affected: TCP retransmits. Throws a RangeError outside [0, 1] and a TypeError
   * above 0 without an rng.
   */
  get lossRate(): number {
    return this.lossRateValue;
  }

  set lossRate(rate: number) {
    if (!(rate >= 0 && rate <= 1)) throw new RangeError(`lossRate must be in [0, 1], got ${rate}`);
    if (rate > 0 && !this.rng) throw new TypeError('FilteringTransport: a lossRate needs an rng');
    this.lossRateValue = rate;
  }

  /**
   * Blocks `host:port` addresses, or bare hosts (every port of that host), in both directions,
   * and destroys the streams already open to or from them.
   */
  block(addresses: Iterable<string>): void {
    for (const a of addresses) this.blockedSet.add(normaliseEntry(a));
    for (const [stream, peer] of this.open) {
      if (this.isBlocked(peer)) {
        this.counters.streamsCut++;
        this.open.delete(stream);
        stream.destroy();
      }
    }
  }

  /** Lifts blocks given to {@link block} (the same strings). */
  unblock(addresses: Iterable<string>): void {
    for (const a of addresses) this.blockedSet.delete(normaliseEntry(a));
  }

  /** Lifts every block. */
  unblockAll(): void {
    this.blockedSet.clear();
  }

  /** The blocked entries. */
  blocked(): string[] {
    return [...this.blockedSet];
  }

  /** Whether traffic to or from `address` (`host:port`) is blocked now. */
  isBlocked(address: string): boolean {
    if (this.blockedSet.size === 0) return false;
    if (this.blockedSet.has(address)) return true;
    const hp = splitHostPort(address);
    return hp !== null && this.blockedSet.has(normaliseHost(hp.host));
  }

  /** What was dropped, by kind. */
  filterStats(): FilteringStats {
    return { ...this.counters };
  }

  onPacket(handler: PacketHandler): void {
    this.packetHandler = handler;
  }

  sendPacket(to: string, buf: Uint8Array): boolean {
    if (this.isBlocked(to)) {
      this.counters.blockedPacketsOut++;
      return true;
    }
    if (this.lossRateValue > 0 && this.rng!.next() < this.lossRateValue) {
      this.counters.lostPacketsOut++;
      return true;
    }
    return this.inner.sendPacket(to, buf);
  }

  dial(to: string, timeoutMs: number): Promise<Duplex> {
    if (this.closed) return Promise.reject(new DialError(to, 'transport closed'));
    if (this.isBlocked(to)) {
      this.counters.blockedDials++;
      const delay = Math.max(0, Math.min(timeoutMs, this.blockedDialDelayMs));
      return new Promise<Duplex>((_resolve, reject) => {
        let cancel: (() => void) | null = null;
        const fail = (): void => {
          this.pendingRejects.delete(fail);
          cancel?.();
          reject(new DialError(to, `timeout after ${delay} ms (blocked)`));
        };
        this.pendingRejects.add(fail);
        cancel = this.scheduler.schedule(delay, fail);
      });
    }
    return this.inner.dial(to, timeoutMs).then((stream) => {
      // Blocked while the dial was under way: the stream never reaches the caller.
      if (this.isBlocked(to) || this.closed) {
        this.counters.blockedDials++;
        stream.destroy();
        throw new DialError(to, 'blocked while dialing');
      }
      const local = localEndpoint(stream);
      if (local) dialedFrom.set(local, this.localAddress);
      this.open.set(stream, to);
      stream.once('close', () => {
        this.open.delete(stream);
        if (local && dialedFrom.get(local) === this.localAddress) dialedFrom.delete(local);
      });
      return stream;
    });
  }

  stats(): TransportStats {
    return this.inner.stats();
  }

  /** Closes the wrapped transport; pending blocked dials reject at once. */
  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      for (const fail of [...this.pendingRejects]) fail();
      this.open.clear();
    }
    await this.inner.close();
  }

  private onInnerPacket(buf: Uint8Array, from: string): void {
    if (this.isBlocked(from)) {
      this.counters.blockedPacketsIn++;
      return;
    }
    if (this.lossRateValue > 0 && this.rng!.next() < this.lossRateValue) {
      this.counters.lostPacketsIn++;
      return;
    }
    this.packetHandler(buf, from);
  }

  /** `handler` behind the block check; the stream is attributed to its dialing node if known. */
  private filterAccepted(handler: StreamHandler): StreamHandler {
    return (stream, from) => {
      // By the first byte the dialer has registered its endpoint (it writes only after dial).
      const peer = dialedFrom.get(from) ?? from;
      if (this.isBlocked(peer) || this.isBlocked(from)) {
        this.counters.blockedStreamsAccepted++;
        stream.destroy();
        return;
      }
      this.open.set(stream, peer);
      stream.once('close', () => this.open.delete(stream));
      handler(stream, from);
    };
  }
}

/** A block entry as matched: `host:port` kept, a bare host normalised. */
function normaliseEntry(entry: string): string {
  return splitHostPort(entry) ? entry : normaliseHost(entry.replace(/^\[(.*)\]$/, '$1'));
}
