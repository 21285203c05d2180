/**
 * The inbound side of the frame transport: connections accepted from peers. The dialer's
 * handshake (frame-handshake.ts) is checked, then its claimed name goes to the member gate
 * (member-gate.ts): only once the gate admits it is the handshake answered and are frames read,
 * parsed incrementally (frame-reader.ts), opened when sealed, and handed to the frame handler
 * with the sender's node name, in the order the sender queued them. A conforming dialer sends no
 * frame before the answer; what a held connection sends anyway is kept, up to `maxPendingBytes`,
 * and read once admitted. Malformed input closes the connection and is counted; nothing throws
 * out of a socket callback.
 */
import type { Duplex } from 'node:stream';
import { FRAME_HEADER_BYTES, SEAL_OVERHEAD_BYTES } from './frame-handshake.js';
import type { FrameSession } from './frame-session.js';
import { FrameReader } from './frame-reader.js';
import type { ResolvedFrameTransportOptions } from './frame-transport-options.js';
import { Handshake } from './handshake-machine.js';
import { setKeepAlive } from './keepalive.js';
import { MemberGate, type Claimant } from './member-gate.js';
import { BATCH_BYTES, type FrameDropCounts } from './peer-link.js';

/** What the inbound side needs from its transport. */
export interface InboundHost {
  readonly options: ResolvedFrameTransportOptions;
  /** The transport's counters the inbound side adds to. */
  readonly counters: { bytesReceived: number; bytesSent: number; framesReceived: number };
  readonly drops: FrameDropCounts;
  /** Whether the transport is closed (accepted streams are then destroyed at once). */
  isClosed(): boolean;
  /** Hand a received frame to the frame handler (which may throw: counted `handler-error`). */
  deliver(from: string, frame: Uint8Array): void;
}

/** State of one accepted connection; a {@link Claimant} once its dialer named itself. */
interface InboundConn extends Claimant {
  readonly stream: Duplex;
  name: string;
  /** The handshake until the connection is admitted. */
  hs: Handshake | null;
  /** Set once the dialer named itself. */
  claimed: boolean;
  reader: FrameReader | null;
  session: FrameSession | null;
  /** Bytes after the handshake, before the connection was admitted. */
  early: Buffer[];
  earlyBytes: number;
  timer: NodeJS.Timeout | null;
}

function noop(): void {}

/** See the file comment. */
export class InboundConnections {
  private readonly conns = new Set<InboundConn>();
  private paused = false;
  /** The member check of accepted connections, with the refusal counts. */
  readonly gate: MemberGate;

  constructor(private readonly host: InboundHost) {
    this.gate = new MemberGate(host.options);
  }

  /** Accepted connections open now. */
  get size(): number {
    return this.conns.size;
  }

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
    for (const conn of this.conns) if (conn.claimed && conn.name === peer) conn.stream.destroy();
  }

  /** The accepted streams (to destroy on close); stops the gate's deadlines. */
  streams(): Duplex[] {
    this.gate.close();
    return [...this.conns].map((c) => c.stream);
  }

  /** An accepted stream whose first byte is `PLUMTREE_STREAM_FIRST_BYTE`, from `host:port`. */
  accept(stream: Duplex, from: string): void {
    const h = this.host;
    if (h.isClosed()) {
      stream.destroy();
      return;
    }
    if (this.conns.size >= h.options.maxInboundConnections) {
      this.gate.refuseUnclaimed('total-cap', null, from);
      stream.destroy();
      return;
    }
    const conn: InboundConn = {
      stream,
      from,
      name: '',
      hs: new Handshake(
        'acceptor',
        h.options.localName,
        h.options.sealing ? h.options.keyring : null,
      ),
      claimed: false,
      reader: null,
      session: null,
      early: [],
      earlyBytes: 0,
      timer: null,
      admit: () => this.admit(conn),
      close: () => stream.destroy(),
    };
    this.conns.add(conn);
    stream.on('error', noop);
    stream.once('close', () => {
      this.conns.delete(conn);
      if (conn.timer) clearTimeout(conn.timer);
      this.gate.release(conn);
    });
    conn.timer = setTimeout(() => {
      conn.timer = null;
      h.drops['handshake-timeout']++;
      this.gate.refuseUnclaimed('handshake-failed', null, from);
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
    } else if (conn.claimed) {
      this.keepEarly(conn, chunk);
    } else {
      this.onHandshake(conn, chunk);
    }
  }

  private onHandshake(conn: InboundConn, chunk: Buffer): void {
    const h = this.host;
    const step = conn.hs!.push(chunk);
    if (step.kind === 'error') {
      h.drops[step.reason]++;
      this.gate.refuseUnclaimed('handshake-failed', null, conn.from);
      conn.stream.destroy();
      return;
    }
    if (step.kind === 'more') {
      if (step.write !== undefined) this.write(conn, step.write);
      return;
    }
    if (conn.timer) clearTimeout(conn.timer);
    conn.timer = null;
    conn.name = step.name;
    conn.claimed = true;
    // The SWIM transport gave accepted streams memberlist's idle timeout; from here the gate's
    // deadline bounds the wait for the member, and an admitted frame connection is meant to idle
    // between bursts, its dialer deciding when it ends.
    const sock = conn.stream as Duplex & { setTimeout?: (ms: number) => unknown };
    if (typeof sock.setTimeout === 'function') sock.setTimeout(0);
    if (step.rest.length > 0) {
      if (!this.keepEarly(conn, Buffer.from(step.rest))) return;
    }
    this.gate.claim(conn);
  }

  /** Keeps bytes a connection sent before it was admitted; false when over the cap (refused). */
  private keepEarly(conn: InboundConn, chunk: Buffer): boolean {
    conn.earlyBytes += chunk.length;
    if (conn.earlyBytes > this.host.options.maxPendingBytes) {
      conn.early = [];
      if (this.gate.isHeld(conn)) this.gate.refuse(conn, 'pending-overflow');
      else {
        this.gate.refuseUnclaimed('pending-overflow', conn.name, conn.from);
        conn.stream.destroy();
      }
      return false;
    }
    conn.early.push(chunk);
    return true;
  }

  private write(conn: InboundConn, bytes: Uint8Array): void {
    conn.stream.write(bytes);
    this.host.counters.bytesSent += bytes.length;
  }

  /** The gate admitted the connection: answer the handshake and read the frames. */
  private admit(conn: InboundConn): void {
    const h = this.host;
    if (conn.stream.destroyed) return;
    const reply = conn.hs!.reply();
    if (reply === undefined) {
      // The keyring lost every key: nothing to prove with, and the dialer would refuse plain.
      conn.stream.destroy();
      return;
    }
    conn.session = conn.hs!.session;
    conn.hs = null;
    setKeepAlive(conn.stream);
    this.write(conn, reply);
    // Sealed, a body is a batch: up to BATCH_BYTES of frames, or one frame of any allowed size.
    const maxBody = h.options.sealing
      ? Math.max(BATCH_BYTES, FRAME_HEADER_BYTES + h.options.maxFrameBytes) + SEAL_OVERHEAD_BYTES
      : h.options.maxFrameBytes;
    conn.reader = new FrameReader(maxBody, (frame) => this.deliver(conn, frame));
    const early = conn.early;
    conn.early = [];
    for (const chunk of early) {
      if (!conn.reader.push(chunk)) {
        this.onReaderStopped(conn);
        return;
      }
    }
  }

  private deliver(conn: InboundConn, body: Buffer): boolean {
    const h = this.host;
    if (conn.session === null) return this.deliverFrame(conn, body);
    const opened = conn.session.open(h.options.keyring!.getKeys(), body);
    if (opened === undefined) {
      h.drops['decrypt-failed']++;
      this.gate.refuse(conn, 'replay');
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
      if (!this.deliverFrame(conn, batch.subarray(off + FRAME_HEADER_BYTES, endAt))) {
        return false;
      }
      off = endAt;
    }
    return true;
  }

  private deliverFrame(conn: InboundConn, frame: Uint8Array): boolean {
    const h = this.host;
    h.counters.framesReceived++;
    try {
      h.deliver(conn.name, frame);
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
