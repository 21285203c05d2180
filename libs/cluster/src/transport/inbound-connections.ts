/**
 * The inbound side of the frame transport: connections accepted from peers. After the peer's
 * preamble (see frame-handshake.ts) is checked and answered, frames are parsed incrementally
 * (frame-reader.ts), opened when sealed, and handed to the frame handler with the sender's node
 * name, in the order the sender queued them. Malformed input closes the connection and is
 * counted; nothing throws out of a socket callback.
 */
import type { Duplex } from 'node:stream';
import {
  encodePreamble,
  FRAME_HEADER_BYTES,
  openFrame,
  parsePreamble,
  SEAL_OVERHEAD_BYTES,
} from './frame-handshake.js';
import { FrameReader } from './frame-reader.js';
import type { ResolvedFrameTransportOptions } from './frame-transport-options.js';
import { setKeepAlive } from './keepalive.js';
import { BATCH_BYTES, type FrameDropCounts } from './peer-link.js';

/** What the inbound side needs from its transport. */
export interface InboundHost {
  readonly options: Pick<
    ResolvedFrameTransportOptions,
    'localName' | 'keyring' | 'sealing' | 'maxFrameBytes' | 'dialTimeoutMs'
  >;
  /** The transport's counters the inbound side adds to. */
  readonly counters: { bytesReceived: number; bytesSent: number; framesReceived: number };
  readonly drops: FrameDropCounts;
  /** Whether the transport is closed (accepted streams are then destroyed at once). */
  isClosed(): boolean;
  /** Hand a received frame to the frame handler (which may throw: counted `handler-error`). */
  deliver(from: string, frame: Uint8Array): void;
}

/** State of one accepted connection. */
interface InboundConn {
  readonly stream: Duplex;
  name: string | null;
  hello: Buffer | null;
  reader: FrameReader | null;
  timer: NodeJS.Timeout | null;
}

function noop(): void {}

/** See the file comment. */
export class InboundConnections {
  private readonly conns = new Set<InboundConn>();
  private paused = false;

  constructor(private readonly host: InboundHost) {}

  /** Stop reading from every accepted connection (TCP then pushes back on the senders). */
  pause(): void {
    this.paused = true;
    for (const c of this.conns) c.stream.pause();
  }

  /** Read again after {@link pause}. */
  resume(): void {
    this.paused = false;
    for (const c of this.conns) c.stream.resume();
  }

  /** Close the connections accepted from `peer`. */
  disconnect(peer: string): void {
    for (const conn of this.conns) if (conn.name === peer) conn.stream.destroy();
  }

  /** The accepted streams (to destroy on close). */
  streams(): Duplex[] {
    return [...this.conns].map((c) => c.stream);
  }

  /** An accepted stream whose first byte is `PLUMTREE_STREAM_FIRST_BYTE`. */
  accept(stream: Duplex): void {
    const h = this.host;
    if (h.isClosed()) {
      stream.destroy();
      return;
    }
    const conn: InboundConn = { stream, name: null, hello: null, reader: null, timer: null };
    this.conns.add(conn);
    stream.on('error', noop);
    stream.once('close', () => {
      this.conns.delete(conn);
      if (conn.timer) clearTimeout(conn.timer);
    });
    conn.timer = setTimeout(() => {
      conn.timer = null;
      h.drops['handshake-timeout']++;
      stream.destroy();
    }, h.options.dialTimeoutMs);
    conn.timer.unref();
    stream.on('data', (chunk: Buffer) => {
      try {
        this.onData(conn, chunk);
      } catch {
        h.drops['internal-error']++;
        stream.destroy();
      }
    });
    // The dispatcher paused the stream explicitly, so a 'data' listener alone does not resume it.
    if (!this.paused) stream.resume();
  }

  private onData(conn: InboundConn, chunk: Buffer): void {
    const h = this.host;
    h.counters.bytesReceived += chunk.length;
    if (conn.reader !== null) {
      if (!conn.reader.push(chunk)) this.onReaderStopped(conn);
      return;
    }
    const buf = conn.hello === null ? chunk : Buffer.concat([conn.hello, chunk]);
    const step = parsePreamble(buf, 'dialer', h.options.keyring);
    if (step.kind === 'more') {
      conn.hello = buf;
      return;
    }
    if (step.kind === 'error') {
      h.drops[step.reason]++;
      conn.stream.destroy();
      return;
    }
    conn.hello = null;
    conn.name = step.name;
    if (conn.timer) clearTimeout(conn.timer);
    conn.timer = null;
    // The SWIM transport gave accepted streams memberlist's idle timeout; a frame connection is
    // meant to idle between bursts, and its dialer decides when it ends.
    const sock = conn.stream as Duplex & { setTimeout?: (ms: number) => unknown };
    if (typeof sock.setTimeout === 'function') sock.setTimeout(0);
    setKeepAlive(conn.stream);
    const reply = encodePreamble('acceptor', h.options.localName, h.options.keyring);
    conn.stream.write(reply);
    h.counters.bytesSent += reply.length;
    // Sealed, a body is a batch: up to BATCH_BYTES of frames, or one frame of any allowed size.
    const maxBody = h.options.sealing
      ? Math.max(BATCH_BYTES, FRAME_HEADER_BYTES + h.options.maxFrameBytes) + SEAL_OVERHEAD_BYTES
      : h.options.maxFrameBytes;
    const from = step.name;
    conn.reader = new FrameReader(maxBody, (frame) => this.deliver(conn, from, frame));
    if (step.consumed < buf.length) {
      if (!conn.reader.push(buf.subarray(step.consumed))) this.onReaderStopped(conn);
    }
  }

  private deliver(conn: InboundConn, from: string, body: Buffer): boolean {
    const h = this.host;
    if (!h.options.sealing) return this.deliverFrame(conn, from, body);
    const opened = openFrame(h.options.keyring!.getKeys(), body);
    if (opened === undefined) {
      h.drops['decrypt-failed']++;
      conn.stream.destroy();
      return false;
    }
    // The opened batch is `[u32 length][frame]...`, authenticated, so a bad length is a peer bug.
    const batch = Buffer.from(opened.buffer, opened.byteOffset, opened.length);
    let off = 0;
    while (off < batch.length) {
      const len = off + FRAME_HEADER_BYTES <= batch.length ? batch.readUInt32BE(off) : -1;
      const endAt = off + FRAME_HEADER_BYTES + len;
      if (len < 0 || len > h.options.maxFrameBytes || endAt > batch.length) {
        h.drops['bad-batch']++;
        conn.stream.destroy();
        return false;
      }
      if (!this.deliverFrame(conn, from, batch.subarray(off + FRAME_HEADER_BYTES, endAt))) {
        return false;
      }
      off = endAt;
    }
    return true;
  }

  private deliverFrame(conn: InboundConn, from: string, frame: Uint8Array): boolean {
    const h = this.host;
    h.counters.framesReceived++;
    try {
      h.deliver(from, frame);
    } catch {
      // The handler's bug must not cost the connection the frames behind this one.
      h.drops['handler-error']++;
    }
    // The handler may have disconnected this peer or closed the transport.
    return !conn.stream.destroyed;
  }

  private onReaderStopped(conn: InboundConn): void {
    const h = this.host;
    if (conn.reader?.error === 'frame-too-large') h.drops['frame-too-large']++;
    conn.stream.destroy();
  }
}
