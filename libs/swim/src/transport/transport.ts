/**
 * The transport contract of a SWIM node, after memberlist's `transport.go`: best-effort packets
 * (UDP) and reliable streams (TCP) are kept apart. A node sends packets by address and dials
 * streams by address; it receives packets through one handler and accepted streams through the
 * first-byte dispatch of {@link StreamDispatcher} (memberlist's streams and, later, Plumtree
 * frames share one port).
 */
import type { Duplex } from 'node:stream';

/** A received packet handler: the datagram and the sender as `host:port`. */
export type PacketHandler = (buf: Uint8Array, from: string) => void;

/**
 * An accepted stream handler. The stream arrives paused with its first bytes unshifted back, so
 * the handler reads from the very first byte; it must `resume()` (or read) and close it when done.
 * `from` is the remote `host:port`.
 */
export type StreamHandler = (stream: Duplex, from: string) => void;

/** Why a transport refused or lost something, counted in {@link TransportStats}. */
export type TransportDropReason =
  'packet-too-large' | 'send-error' | 'unknown-first-byte' | 'stream-timeout' | 'stream-too-large';

/** Counters of a transport. */
export interface TransportStats {
  packetsSent: number;
  packetsReceived: number;
  bytesSent: number;
  bytesReceived: number;
  streamsAccepted: number;
  streamsDialed: number;
  drops: Record<TransportDropReason, number>;
}

/** A fresh, zeroed {@link TransportStats}. */
export function emptyTransportStats(): TransportStats {
  return {
    packetsSent: 0,
    packetsReceived: 0,
    bytesSent: 0,
    bytesReceived: 0,
    streamsAccepted: 0,
    streamsDialed: 0,
    drops: {
      'packet-too-large': 0,
      'send-error': 0,
      'unknown-first-byte': 0,
      'stream-timeout': 0,
      'stream-too-large': 0,
    },
  };
}

/** Thrown by {@link SwimTransport.dial} when no stream could be opened. */
export class DialError extends Error {
  override readonly name = 'DialError';
  constructor(
    readonly address: string,
    readonly reason: string,
    /** The host answered that nothing listens on the port (ECONNREFUSED): the process is gone. */
    readonly refused = false,
  ) {
    super(`dial ${address}: ${reason}`);
  }
}

/** Packets and streams on one address (memberlist `Transport`). */
export interface SwimTransport {
  /** The bound `host:port` (the real port when bound to port 0). */
  readonly localAddress: string;
  /** Largest packet {@link sendPacket} accepts, in bytes. */
  readonly maxPacketBytes: number;
  /** Largest inbound stream message a reader should accept, in bytes. */
  readonly maxStreamBytes: number;
  /** Idle timeout of accepted streams, in milliseconds. */
  readonly streamTimeoutMs: number;
  /** Sets the one packet handler. */
  onPacket(handler: PacketHandler): void;
  /** The first-byte router of accepted streams: register handlers here. */
  readonly streams: StreamDispatcher;
  /**
   * Sends one datagram, best effort. Returns false (and counts a drop) when it is larger than
   * {@link maxPacketBytes}; send errors are counted, never thrown.
   */
  sendPacket(to: string, buf: Uint8Array): boolean;
  /** Opens a stream to `to`; rejects with a {@link DialError} on refusal or after `timeoutMs`. */
  dial(to: string, timeoutMs: number): Promise<Duplex>;
  /** Counters. */
  stats(): TransportStats;
  /** Stops listening and destroys every open stream. Idempotent. */
  close(): Promise<void>;
}

/**
 * The first-byte rule of the shared TCP port. memberlist's streams start with a message type
 * (0-13) or the label header byte (244); every other first byte is free for another protocol
 * (Plumtree frames register theirs). An accepted stream waits for its first chunk, is routed by
 * its first byte to the handler registered for it, and is destroyed (and counted) when no
 * handler claims the byte.
 */
export class StreamDispatcher {
  private readonly handlers = new Map<number, StreamHandler>();

  /** Routes streams whose first byte is one of `firstBytes` to `handler`; throws on a clash. */
  register(firstBytes: Iterable<number>, handler: StreamHandler): void {
    const bytes = [...firstBytes];
    for (const b of bytes) {
      if (!Number.isInteger(b) || b < 0 || b > 255) throw new RangeError(`bad first byte ${b}`);
      if (this.handlers.has(b)) throw new Error(`first byte ${b} already has a stream handler`);
    }
    for (const b of bytes) this.handlers.set(b, handler);
  }

  /** Removes the handlers of `firstBytes`. */
  unregister(firstBytes: Iterable<number>): void {
    for (const b of firstBytes) this.handlers.delete(b);
  }

  /** The handler of a first byte, if any. */
  handlerFor(firstByte: number): StreamHandler | undefined {
    return this.handlers.get(firstByte);
  }

  /**
   * Waits for the first chunk of an accepted stream and hands the stream, paused and with the
   * chunk put back, to the handler of its first byte. Calls `onUnknown` (and destroys the stream)
   * when no handler claims it.
   */
  dispatch(stream: Duplex, from: string, onUnknown: (firstByte: number) => void): void {
    const onData = (chunk: Buffer): void => {
      stream.pause();
      stream.removeListener('data', onData);
      if (chunk.length === 0) {
        stream.once('data', onData);
        stream.resume();
        return;
      }
      const handler = this.handlers.get(chunk[0]!);
      if (!handler) {
        onUnknown(chunk[0]!);
        stream.destroy();
        return;
      }
      stream.unshift(chunk);
      handler(stream, from);
    };
    stream.on('data', onData);
    // A stream that ends or fails before its first byte just goes away.
    stream.on('error', () => {});
  }
}

/** First bytes of memberlist streams: message types 0-13 and the label header 244. */
export const MEMBERLIST_STREAM_FIRST_BYTES: readonly number[] = [
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 244,
];
