/**
 * What both transports (UDP + TCP, in-memory) share: their limits, the first-byte dispatch of
 * accepted streams, the packet handler, the counters and the closed flag, and the bookkeeping
 * around every packet and stream.
 */
import {
  emptyTransportStats,
  StreamDispatcher,
  type PacketHandler,
  type TransportStats,
} from './transport.js';
import type { Duplex } from 'node:stream';

/** The limits both transports take; each defaults as documented. */
export interface TransportLimits {
  /** Largest datagram sent (memberlist `UDPBufferSize`). Default 1400. */
  readonly maxPacketBytes?: number;
  /** Cap on bytes read for one inbound stream message. Default 20 MiB + 64 KiB. */
  readonly maxStreamBytes?: number;
  /** Idle timeout of accepted streams (memberlist `TCPTimeout`). Default 10 s. */
  readonly streamTimeoutMs?: number;
}

/** The shared half of a `SwimTransport`; a subclass adds sending, dialling and closing. */
export abstract class TransportBase {
  readonly streams = new StreamDispatcher();
  readonly maxPacketBytes: number;
  readonly maxStreamBytes: number;
  readonly streamTimeoutMs: number;
  protected readonly counters: TransportStats = emptyTransportStats();
  protected closed = false;
  private packetHandler: PacketHandler = () => {};

  constructor(
    readonly localAddress: string,
    limits: TransportLimits,
  ) {
    this.maxPacketBytes = limits.maxPacketBytes ?? 1400;
    this.maxStreamBytes = limits.maxStreamBytes ?? 20 * 1024 * 1024 + 64 * 1024;
    this.streamTimeoutMs = limits.streamTimeoutMs ?? 10_000;
  }

  onPacket(handler: PacketHandler): void {
    this.packetHandler = handler;
  }

  stats(): TransportStats {
    return { ...this.counters, drops: { ...this.counters.drops } };
  }

  /** Whether a datagram may go out: false when closed, or (counted) above `maxPacketBytes`. */
  protected admit(buf: Uint8Array): boolean {
    if (this.closed) return false;
    if (buf.length <= this.maxPacketBytes) return true;
    this.counters.drops['packet-too-large']++;
    return false;
  }

  /** Count a datagram handed to the network. */
  protected countSent(buf: Uint8Array): void {
    this.counters.packetsSent++;
    this.counters.bytesSent += buf.length;
  }

  /** A datagram arrived from `from`: count it and hand it to the packet handler. */
  protected deliver(buf: Uint8Array, from: string): void {
    this.counters.packetsReceived++;
    this.counters.bytesReceived += buf.length;
    this.packetHandler(buf, from);
  }

  /** Route an accepted stream by its first byte; a byte nobody registered is counted. */
  protected route(stream: Duplex, from: string): void {
    this.streams.dispatch(stream, from, () => this.counters.drops['unknown-first-byte']++);
  }
}
