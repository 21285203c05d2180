/**
 * Plumtree frames over persistent TCP connections on the SWIM node's port.
 *
 * One outbound connection per peer carries frames from this node to it, dialed lazily on the
 * first {@link FrameTransport.send}; connections accepted from peers only carry frames to this
 * node. Each direction thus has exactly one owner and two nodes that start sending to each other
 * at once never race to pick one of two connections.
 *
 * Sending: frames queued in one turn of the event loop go out together in a `setImmediate`
 * flush (small frames copied into one batch buffer, large ones written by reference under
 * cork; with a keyring each batch is sealed as one AES-GCM message, so the cipher setup is paid
 * per batch, not per frame), the socket's backpressure is obeyed (the next batch is written on
 * 'drain'), and each peer's queue is capped in bytes (queued + still in the socket): a frame
 * that would pass the cap is refused with `'overflow'`.
 * A failed connection keeps its queue and is redialed with exponential backoff.
 *
 * Receiving: the stream dispatcher hands over accepted streams whose first byte is
 * {@link PLUMTREE_STREAM_FIRST_BYTE}; after the preamble (see frame-handshake.ts) frames are
 * parsed incrementally and handed to the frame handler with the sender's node name. Malformed
 * input closes the connection and is counted; nothing throws out of a socket callback.
 */
import type { Duplex } from 'node:stream';
import type { Keyring, SwimTransport } from '@plumtree/swim';
import {
  encodePreamble,
  FRAME_HEADER_BYTES,
  openFrame,
  parsePreamble,
  PLUMTREE_STREAM_FIRST_BYTE,
  PREAMBLE_HEADER_BYTES,
  SEAL_OVERHEAD_BYTES,
  sealFrame,
  validateNodeName,
} from './frame-handshake.js';
import { FrameReader } from './frame-reader.js';
import { reconnectDelayMs, type BackoffBounds } from './reconnect-backoff.js';

/** Options of a {@link FrameTransport}. */
export interface FrameTransportOptions {
  /** The SWIM node's transport: frames share its TCP port. */
  readonly transport: SwimTransport;
  /** This node's name, sent in the preamble of every connection it dials. */
  readonly localName: string;
  /** Peer name to `host:port` (the SWIM member address); undefined for an unknown peer. */
  readonly resolve: (peer: string) => string | undefined;
  /**
   * Seal frames (and the preamble) with the primary key, open with any key. Null or empty:
   * plain. Both ends must agree, and each end checks the other's preamble, so a new key must be
   * installed on every node before any node makes it primary (memberlist's rotation order).
   * Whether to seal is decided at construction.
   */
  readonly keyring?: Keyring | null;
  /** Cap on one peer's queue in bytes (queued + in the socket), default 4 MiB. */
  readonly maxQueueBytes?: number;
  /** Largest frame sent or accepted, in bytes, default 8 MiB + 64 KiB. */
  readonly maxFrameBytes?: number;
  /** Bound on connecting and on the preamble exchange, in milliseconds, default 5000. */
  readonly dialTimeoutMs?: number;
  /** Redial delay bounds after a failure, in milliseconds, default 50 .. 5000. */
  readonly reconnectBackoffMs?: { initial: number; max: number };
  /**
   * Close an outbound connection nothing was written to for this long (it is redialed on the
   * next send). Default: never.
   */
  readonly idleTimeoutMs?: number;
}

/** What {@link FrameTransport.send} did with a frame. */
export type SendResult = 'queued' | 'overflow' | 'closed' | 'unknown-peer';

/** Counters of a {@link FrameTransport}. */
export interface FrameTransportStats {
  /** Frames written to sockets. */
  framesSent: number;
  /** Frames received and handed to the frame handler. */
  framesReceived: number;
  /** Bytes written to sockets: preambles, length headers and (sealed) bodies. */
  bytesSent: number;
  /** Bytes read from accepted connections, preambles included. */
  bytesReceived: number;
  /** Frames refused because a peer's queue was full (also in `drops.overflow`). */
  overflows: number;
  /** Dials after a failed dial, refused preamble or broken connection (not after an idle close). */
  reconnects: number;
  /**
   * Socket writes of frame data: one per batch of small frames, one per large frame (its header
   * is corked with it). `framesSent / writes` is the batching factor.
   */
  writes: number;
  /** Dropped frames and refused connections, by reason (see {@link FrameDropReason}). */
  drops: Record<string, number>;
  /** Peers with outbound state (a queue, a connection or a pending redial). */
  peers: number;
  /** Bytes waiting over all peers (queued + in sockets). */
  queuedBytes: number;
}

/**
 * Why a frame or a connection was dropped:
 * - `overflow`: a peer's queue was full; `frame-too-large`: a frame above `maxFrameBytes` was
 *   sent or announced; `unknown-peer`: `resolve` knew no address; `discarded`: frames still queued
 *   when a peer was disconnected, became unknown, or the transport closed;
 * - `bad-preamble`, `bad-version`, `encryption-mismatch` (one end sealed, the other not),
 *   `auth-failed` (no key opened the name), `bad-name`: refused preambles;
 *   `peer-name-mismatch`: the dialed address answered with another node's name;
 *   `handshake-timeout`: no preamble within `dialTimeoutMs`; `dial-failed`: connect failed;
 * - `decrypt-failed`: a sealed batch no key opened; `bad-batch`: an opened batch whose frame
 *   lengths do not add up; `handler-error`: the frame handler threw;
 *   `internal-error`: a bug caught at a socket callback.
 */
export type FrameDropReason =
  | 'overflow'
  | 'frame-too-large'
  | 'unknown-peer'
  | 'discarded'
  | 'bad-preamble'
  | 'bad-version'
  | 'encryption-mismatch'
  | 'auth-failed'
  | 'bad-name'
  | 'peer-name-mismatch'
  | 'handshake-timeout'
  | 'dial-failed'
  | 'decrypt-failed'
  | 'bad-batch'
  | 'handler-error'
  | 'internal-error';

const DROP_REASONS: readonly FrameDropReason[] = [
  'overflow',
  'frame-too-large',
  'unknown-peer',
  'discarded',
  'bad-preamble',
  'bad-version',
  'encryption-mismatch',
  'auth-failed',
  'bad-name',
  'peer-name-mismatch',
  'handshake-timeout',
  'dial-failed',
  'decrypt-failed',
  'bad-batch',
  'handler-error',
  'internal-error',
];

/** Defaults of {@link FrameTransportOptions}. */
export const FRAME_TRANSPORT_DEFAULTS = {
  /** Per-peer queue cap: 4 MiB. */
  maxQueueBytes: 4 * 1024 * 1024,
  /** Frame cap: 8 MiB + 64 KiB (an 8 MiB payload plus frame headers). */
  maxFrameBytes: 8 * 1024 * 1024 + 64 * 1024,
  /** Dial and preamble timeout. */
  dialTimeoutMs: 5000,
  /** Redial backoff bounds. */
  reconnectBackoffMs: { initial: 50, max: 5000 } as BackoffBounds,
} as const;

// Frames below this are copied into a shared batch buffer (one write for many frames: the copy of
// a small frame costs less than a write request of its own); larger ones are written in place.
const COPY_BELOW_BYTES = 16 * 1024;
// Bytes gathered into one batch buffer; also about what one flush hands the socket before it
// waits for 'drain'.
const BATCH_BYTES = 128 * 1024;
// TCP keepalive so a peer that vanished without FIN/RST is noticed on idle connections.
const KEEPALIVE_DELAY_MS = 15_000;

type Phase = 'idle' | 'dialing' | 'up' | 'backoff';

/** Outbound state of one peer. */
class PeerLink {
  phase: Phase = 'idle';
  socket: Duplex | null = null;
  /** Frames waiting; slots before `head` are already written. */
  queue: Array<Uint8Array | undefined> = [];
  head = 0;
  /** Bytes in `queue` from `head` on, length headers included. */
  queuedBytes = 0;
  /** Consecutive failed connections; reset by a completed preamble exchange. */
  failures = 0;
  timer: NodeJS.Timeout | null = null;
  /** A write returned false: wait for 'drain'. */
  blocked = false;
  flushScheduled = false;
  /** Set when the idle check ends the connection on purpose: no backoff; redial only if frames wait. */
  /** The state last raised to the peer-state handler. */
  reported: 'unknown' | 'up' | 'down' = 'unknown';
  idleClosing = false;
  lastWriteMs = 0;

  constructor(readonly name: string) {}

  get pendingFrames(): number {
    return this.queue.length - this.head;
  }

  /** Bytes waiting for this peer: queued plus accepted by the socket but not yet sent. */
  get waitingBytes(): number {
    return this.queuedBytes + (this.socket ? this.socket.writableLength : 0);
  }

  clearQueue(): number {
    const n = this.pendingFrames;
    this.queue = [];
    this.head = 0;
    this.queuedBytes = 0;
    return n;
  }
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

/**
 * Frames over persistent TCP connections on the SWIM port: see the file comment. Build one per
 * node on `swimNode.streamTransport`; call {@link close} before closing the SWIM node.
 */
export class FrameTransport {
  private readonly transport: SwimTransport;
  private readonly localName: string;
  private readonly resolve: (peer: string) => string | undefined;
  private readonly keyring: Keyring | null;
  private readonly sealing: boolean;
  private readonly maxQueueBytes: number;
  private readonly maxFrameBytes: number;
  private readonly dialTimeoutMs: number;
  private readonly backoff: BackoffBounds;
  private readonly idleTimeoutMs: number | undefined;

  private readonly links = new Map<string, PeerLink>();
  private readonly inbound = new Set<InboundConn>();
  private dirty: PeerLink[] = [];
  private flushArmed = false;
  private idleTimer: NodeJS.Timeout | null = null;
  private inboundPaused = false;
  private closed = false;
  private frameHandler: (from: string, frame: Uint8Array) => void = noop;
  private peerStateHandler: (peer: string, up: boolean) => void = noop;
  private readonly counters = {
    framesSent: 0,
    framesReceived: 0,
    bytesSent: 0,
    bytesReceived: 0,
    overflows: 0,
    reconnects: 0,
    writes: 0,
  };
  private readonly drops: Record<FrameDropReason, number>;

  /**
   * Registers {@link PLUMTREE_STREAM_FIRST_BYTE} on `options.transport.streams`. Throws a
   * RangeError for invalid options (an empty name or one over 226 UTF-8 bytes, a non-positive
   * cap) and an Error when another handler owns the first byte.
   */
  constructor(options: FrameTransportOptions) {
    validateNodeName(options.localName);
    this.transport = options.transport;
    this.localName = options.localName;
    this.resolve = options.resolve;
    this.keyring = options.keyring ?? null;
    // Decided once: both ends must agree on sealing for the preamble exchange to succeed, so a
    // keyring emptied later must not silently switch this node to plain frames.
    this.sealing = this.keyring?.enabled === true;
    this.maxQueueBytes = options.maxQueueBytes ?? FRAME_TRANSPORT_DEFAULTS.maxQueueBytes;
    this.maxFrameBytes = options.maxFrameBytes ?? FRAME_TRANSPORT_DEFAULTS.maxFrameBytes;
    this.dialTimeoutMs = options.dialTimeoutMs ?? FRAME_TRANSPORT_DEFAULTS.dialTimeoutMs;
    this.backoff = options.reconnectBackoffMs ?? FRAME_TRANSPORT_DEFAULTS.reconnectBackoffMs;
    this.idleTimeoutMs = options.idleTimeoutMs;
    const positive: Array<[string, number | undefined]> = [
      ['maxQueueBytes', this.maxQueueBytes],
      ['maxFrameBytes', this.maxFrameBytes],
      ['dialTimeoutMs', this.dialTimeoutMs],
      ['reconnectBackoffMs.initial', this.backoff.initial],
      ['reconnectBackoffMs.max', this.backoff.max],
      ['idleTimeoutMs', this.idleTimeoutMs],
    ];
    for (const [field, v] of positive) {
      if (v !== undefined && !(Number.isFinite(v) && v > 0)) {
        throw new RangeError(`FrameTransport: ${field} must be a positive number, got ${v}`);
      }
    }
    if (this.maxFrameBytes > 0xffffffff - FRAME_HEADER_BYTES - SEAL_OVERHEAD_BYTES) {
      throw new RangeError('FrameTransport: maxFrameBytes must fit a u32 length');
    }
    this.drops = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<
      FrameDropReason,
      number
    >;
    this.transport.streams.register([PLUMTREE_STREAM_FIRST_BYTE], (stream) => this.accept(stream));
    if (this.idleTimeoutMs !== undefined) {
      this.idleTimer = setInterval(() => this.closeIdle(), Math.max(10, this.idleTimeoutMs / 2));
      this.idleTimer.unref();
    }
  }

  // ------------------------------------------------------------------ sending

  /**
   * Queues one frame (opaque bytes) for `peer`; never throws. `'overflow'` when the peer's queue
   * would pass `maxQueueBytes` (or the frame passes `maxFrameBytes`): the frame is not queued.
   * A frame larger than the queue cap is still taken when nothing else waits for the peer, so
   * the largest frame can always be sent. The transport keeps a reference to `frame` until it is
   * written (the next event-loop turn, or later under backpressure): do not modify it after
   * sending.
   */
  send(peer: string, frame: Uint8Array): SendResult {
    if (this.closed) return 'closed';
    if (frame.length > this.maxFrameBytes) {
      this.drops['frame-too-large']++;
      return 'overflow';
    }
    let link = this.links.get(peer);
    if (link === undefined) {
      if (this.resolve(peer) === undefined) {
        this.drops['unknown-peer']++;
        return 'unknown-peer';
      }
      link = new PeerLink(peer);
      this.links.set(peer, link);
    }
    const cost = FRAME_HEADER_BYTES + frame.length;
    const waiting = link.waitingBytes;
    if (waiting > 0 && waiting + cost > this.maxQueueBytes) {
      this.counters.overflows++;
      this.drops.overflow++;
      return 'overflow';
    }
    link.queue.push(frame);
    link.queuedBytes += cost;
    if (link.phase === 'up') this.scheduleFlush(link);
    else if (link.phase === 'idle') this.dial(link);
    return 'queued';
  }

  /** Bytes waiting for `peer`: queued plus accepted by its socket but not yet sent. */
  queuedBytes(peer: string): number {
    return this.links.get(peer)?.waitingBytes ?? 0;
  }

  /** Whether the outbound connection to `peer` is up (preamble exchange completed). */
  isConnected(peer: string): boolean {
    return this.links.get(peer)?.phase === 'up';
  }

  /**
   * Drops the queue and the connections of a peer (member dead or left): its outbound
   * connection and redials stop, its inbound connections are closed. A later {@link send}
   * starts afresh. Raises a down event when the outbound connection was up.
   */
  disconnect(peer: string): void {
    const link = this.links.get(peer);
    if (link !== undefined) {
      this.links.delete(peer);
      this.drops.discarded += link.clearQueue();
      if (link.timer) clearTimeout(link.timer);
      link.timer = null;
      link.phase = 'idle';
      const s = link.socket;
      link.socket = null;
      s?.destroy();
      if (link.reported === 'up') this.emitPeerState(peer, false);
    }
    for (const conn of this.inbound) if (conn.name === peer) conn.stream.destroy();
  }

  private scheduleFlush(link: PeerLink): void {
    if (link.flushScheduled) return;
    link.flushScheduled = true;
    this.dirty.push(link);
    if (!this.flushArmed) {
      this.flushArmed = true;
      // setImmediate rather than nextTick: it runs after every I/O callback of this loop turn,
      // so frames produced while handling several received chunks leave in one write.
      setImmediate(this.flushDirty);
    }
  }

  private readonly flushDirty = (): void => {
    const list = this.dirty;
    this.dirty = [];
    this.flushArmed = false;
    for (const link of list) {
      link.flushScheduled = false;
      try {
        this.flush(link);
      } catch {
        this.drops['internal-error']++;
        link.socket?.destroy();
      }
    }
  };

  /**
   * Writes queued frames until the queue is empty or the socket asks to wait for 'drain'.
   * Plain: small frames are copied into batch buffers, large ones written by reference. Sealed:
   * the frames of a batch are sealed together, one AES-GCM seal per batch instead of per frame.
   */
  private flush(link: PeerLink): void {
    const s = link.socket;
    if (link.phase !== 'up' || s === null || link.blocked || link.pendingFrames === 0) return;
    const q = link.queue;
    let ok = true;
    let frames = 0;
    let consumed = 0;
    let wire = 0;
    let writes = 0;
    s.cork();
    while (ok && link.head < q.length) {
      const first = q[link.head]!;
      if (!this.sealing && first.length >= COPY_BELOW_BYTES) {
        const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
        header.writeUInt32BE(first.length, 0);
        s.write(header);
        ok = s.write(first);
        writes++;
        q[link.head++] = undefined;
        frames++;
        consumed += FRAME_HEADER_BYTES + first.length;
        wire += FRAME_HEADER_BYTES + first.length;
        continue;
      }
      // The first frame always joins (a sealed large frame makes a batch of its own).
      let total = FRAME_HEADER_BYTES + first.length;
      let end = link.head + 1;
      while (end < q.length) {
        const f = q[end]!;
        if (!this.sealing && f.length >= COPY_BELOW_BYTES) break;
        if (total + FRAME_HEADER_BYTES + f.length > BATCH_BYTES) break;
        total += FRAME_HEADER_BYTES + f.length;
        end++;
      }
      const batch = Buffer.allocUnsafe(total);
      let off = 0;
      for (let i = link.head; i < end; i++) {
        const f = q[i]!;
        batch.writeUInt32BE(f.length, off);
        batch.set(f, off + FRAME_HEADER_BYTES);
        off += FRAME_HEADER_BYTES + f.length;
        q[i] = undefined;
      }
      const batchFrames = end - link.head;
      link.head = end;
      consumed += total;
      if (this.sealing) {
        const key = this.keyring!.getPrimaryKey();
        if (key === undefined) {
          // The keyring lost every key after start: nothing to seal with, and the peer would
          // refuse plain frames.
          this.drops.discarded += batchFrames;
          continue;
        }
        const sealed = sealFrame(key, batch);
        const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
        header.writeUInt32BE(sealed.length, 0);
        s.write(header);
        ok = s.write(sealed);
        wire += FRAME_HEADER_BYTES + sealed.length;
      } else {
        ok = s.write(batch);
        wire += total;
      }
      frames += batchFrames;
      writes++;
    }
    link.queuedBytes -= consumed;
    if (link.head === q.length) {
      link.queue = [];
      link.head = 0;
    } else if (link.head > 1024 && link.head * 2 > q.length) {
      link.queue = q.slice(link.head);
      link.head = 0;
    }
    this.counters.framesSent += frames;
    this.counters.bytesSent += wire;
    this.counters.writes += writes;
    link.lastWriteMs = Date.now();
    if (!ok) link.blocked = true;
    s.uncork();
  }

  // ------------------------------------------------------------------ dialing

  private dial(link: PeerLink): void {
    const addr = this.resolve(link.name);
    if (addr === undefined) {
      // The member is gone: what waits for it can never be delivered.
      this.drops['unknown-peer']++;
      this.drops.discarded += link.clearQueue();
      this.links.delete(link.name);
      link.phase = 'idle';
      if (link.reported === 'up') this.emitPeerState(link.name, false);
      return;
    }
    link.phase = 'dialing';
    if (link.failures > 0) this.counters.reconnects++;
    this.transport.dial(addr, this.dialTimeoutMs).then(
      (socket) => {
        try {
          this.onDialed(link, socket);
        } catch {
          this.drops['internal-error']++;
          socket.destroy();
        }
      },
      () => {
        if (this.links.get(link.name) !== link || link.phase !== 'dialing') return;
        this.drops['dial-failed']++;
        this.onLinkFailed(link);
      },
    );
  }

  private onDialed(link: PeerLink, socket: Duplex): void {
    if (this.closed || this.links.get(link.name) !== link || link.phase !== 'dialing') {
      socket.destroy();
      return;
    }
    link.socket = socket;
    socket.on('error', noop);
    socket.once('close', () => this.onSocketClosed(link, socket));
    socket.on('drain', () => {
      if (link.socket !== socket) return;
      link.blocked = false;
      // Write the next batch at once rather than in the next loop turn: on loopback a write
      // completes synchronously, so this keeps the kernel buffer full instead of one batch per turn.
      try {
        this.flush(link);
      } catch {
        this.drops['internal-error']++;
        socket.destroy();
      }
    });
    setKeepAlive(socket);
    const hello = encodePreamble('dialer', this.localName, this.keyring);
    socket.write(hello);
    this.counters.bytesSent += hello.length;
    const timer = setTimeout(() => {
      this.drops['handshake-timeout']++;
      socket.destroy();
    }, this.dialTimeoutMs);
    timer.unref();
    let got: Buffer | null = null;
    const onData = (chunk: Buffer): void => {
      try {
        got = got === null ? chunk : Buffer.concat([got, chunk]);
        const step = parsePreamble(got, 'acceptor', this.keyring);
        if (step.kind === 'more') {
          if (got.length > PREAMBLE_HEADER_BYTES + 255) socket.destroy();
          return;
        }
        clearTimeout(timer);
        socket.removeListener('data', onData);
        // Acceptors write nothing after their preamble; keep reading so a FIN is seen.
        socket.on('data', noop);
        if (step.kind === 'error') {
          this.drops[step.reason]++;
          socket.destroy();
          return;
        }
        if (step.name !== link.name) {
          // The address now belongs to another node (restarted under a new name).
          this.drops['peer-name-mismatch']++;
          socket.destroy();
          return;
        }
        if (link.socket !== socket) return;
        link.phase = 'up';
        link.failures = 0;
        link.lastWriteMs = Date.now();
        if (link.reported !== 'up') {
          link.reported = 'up';
          this.emitPeerState(link.name, true);
        }
        if (link.socket === socket) this.flush(link);
      } catch {
        this.drops['internal-error']++;
        socket.destroy();
      }
    };
    socket.on('data', onData);
    socket.once('close', () => clearTimeout(timer));
    socket.resume();
  }

  private onSocketClosed(link: PeerLink, socket: Duplex): void {
    if (link.socket !== socket) return;
    link.socket = null;
    link.blocked = false;
    if (this.closed || this.links.get(link.name) !== link) {
      link.phase = 'idle';
      return;
    }
    if (link.idleClosing) {
      link.idleClosing = false;
      link.phase = 'idle';
      if (link.pendingFrames > 0) this.dial(link);
    } else {
      this.onLinkFailed(link);
    }
  }

  /** A dial, a preamble exchange or an established connection failed: redial after a backoff. */
  private onLinkFailed(link: PeerLink): void {
    link.failures++;
    link.phase = 'backoff';
    const delay = reconnectDelayMs(link.failures, this.backoff, Math.random());
    link.timer = setTimeout(() => {
      link.timer = null;
      if (this.closed || this.links.get(link.name) !== link) return;
      // Redial only when something waits; otherwise the next send dials.
      if (link.pendingFrames > 0) this.dial(link);
      else link.phase = 'idle';
    }, delay);
    link.timer.unref();
    if (link.reported !== 'down') {
      link.reported = 'down';
      this.emitPeerState(link.name, false);
    }
  }

  private closeIdle(): void {
    const now = Date.now();
    for (const link of this.links.values()) {
      if (
        link.phase === 'up' &&
        link.socket !== null &&
        link.waitingBytes === 0 &&
        now - link.lastWriteMs >= this.idleTimeoutMs!
      ) {
        link.idleClosing = true;
        link.socket.end();
      }
    }
  }

  // ---------------------------------------------------------------- receiving

  /**
   * Sets the handler of received frames: the sender's node name (from the connection's
   * preamble) and the frame bytes, in the order the sender queued them. The bytes are a view
   * into a larger read buffer (a socket chunk of up to 64 KiB, or an opened sealed batch of up to
   * 128 KiB) and are not reused by the transport: patching them in place is safe, but a frame kept
   * long (a message cache) should be copied, or it pins the whole buffer. A throwing handler is
   * counted (`handler-error`) and the next frame is still delivered.
   */
  onFrame(handler: (from: string, frame: Uint8Array) => void): void {
    this.frameHandler = handler;
  }

  /**
   * Sets the handler of a peer's reachability over its outbound connection, raised on changes
   * only: up once a connection to `peer` completed its preamble exchange; down when a connection
   * attempt failed (dial refused or timed out, preamble refused) or an established connection
   * broke, and when {@link disconnect} drops an up peer. Redials that keep failing raise one down;
   * an idle close raises nothing (the next send redials). Not raised by {@link close}.
   */
  onPeerState(handler: (peer: string, up: boolean) => void): void {
    this.peerStateHandler = handler;
  }

  /**
   * Stops reading from accepted connections (TCP then pushes back on the senders) until
   * {@link resumeInbound}. For tests and for shedding load.
   */
  pauseInbound(): void {
    this.inboundPaused = true;
    for (const c of this.inbound) c.stream.pause();
  }

  /** Resumes reading after {@link pauseInbound}. */
  resumeInbound(): void {
    this.inboundPaused = false;
    for (const c of this.inbound) c.stream.resume();
  }

  private accept(stream: Duplex): void {
    if (this.closed) {
      stream.destroy();
      return;
    }
    const conn: InboundConn = { stream, name: null, hello: null, reader: null, timer: null };
    this.inbound.add(conn);
    stream.on('error', noop);
    stream.once('close', () => {
      this.inbound.delete(conn);
      if (conn.timer) clearTimeout(conn.timer);
    });
    conn.timer = setTimeout(() => {
      conn.timer = null;
      this.drops['handshake-timeout']++;
      stream.destroy();
    }, this.dialTimeoutMs);
    conn.timer.unref();
    stream.on('data', (chunk: Buffer) => {
      try {
        this.onInboundData(conn, chunk);
      } catch {
        this.drops['internal-error']++;
        stream.destroy();
      }
    });
    // The dispatcher paused the stream explicitly, so a 'data' listener alone does not resume it.
    if (!this.inboundPaused) stream.resume();
  }

  private onInboundData(conn: InboundConn, chunk: Buffer): void {
    this.counters.bytesReceived += chunk.length;
    if (conn.reader !== null) {
      if (!conn.reader.push(chunk)) this.onReaderStopped(conn);
      return;
    }
    const buf = conn.hello === null ? chunk : Buffer.concat([conn.hello, chunk]);
    const step = parsePreamble(buf, 'dialer', this.keyring);
    if (step.kind === 'more') {
      conn.hello = buf;
      return;
    }
    if (step.kind === 'error') {
      this.drops[step.reason]++;
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
    const reply = encodePreamble('acceptor', this.localName, this.keyring);
    conn.stream.write(reply);
    this.counters.bytesSent += reply.length;
    // Sealed, a body is a batch: up to BATCH_BYTES of frames, or one frame of any allowed size.
    const maxBody = this.sealing
      ? Math.max(BATCH_BYTES, FRAME_HEADER_BYTES + this.maxFrameBytes) + SEAL_OVERHEAD_BYTES
      : this.maxFrameBytes;
    const from = step.name;
    conn.reader = new FrameReader(maxBody, (frame) => this.deliver(conn, from, frame));
    if (step.consumed < buf.length) {
      if (!conn.reader.push(buf.subarray(step.consumed))) this.onReaderStopped(conn);
    }
  }

  private deliver(conn: InboundConn, from: string, body: Buffer): boolean {
    if (!this.sealing) return this.deliverFrame(conn, from, body);
    const opened = openFrame(this.keyring!.getKeys(), body);
    if (opened === undefined) {
      this.drops['decrypt-failed']++;
      conn.stream.destroy();
      return false;
    }
    // The opened batch is `[u32 length][frame]...`, authenticated, so a bad length is a peer bug.
    const batch = Buffer.from(opened.buffer, opened.byteOffset, opened.length);
    let off = 0;
    while (off < batch.length) {
      const len = off + FRAME_HEADER_BYTES <= batch.length ? batch.readUInt32BE(off) : -1;
      const endAt = off + FRAME_HEADER_BYTES + len;
      if (len < 0 || len > this.maxFrameBytes || endAt > batch.length) {
        this.drops['bad-batch']++;
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
    this.counters.framesReceived++;
    try {
      this.frameHandler(from, frame);
    } catch {
      // The handler's bug must not cost the connection the frames behind this one.
      this.drops['handler-error']++;
    }
    // The handler may have disconnected this peer or closed the transport.
    return !conn.stream.destroyed;
  }

  private onReaderStopped(conn: InboundConn): void {
    if (conn.reader?.error === 'frame-too-large') this.drops['frame-too-large']++;
    conn.stream.destroy();
  }

  // ------------------------------------------------------------------ the rest

  private emitPeerState(peer: string, up: boolean): void {
    try {
      this.peerStateHandler(peer, up);
    } catch {
      this.drops['handler-error']++;
    }
  }

  /** Counters, with a fresh copy of the drops. */
  stats(): FrameTransportStats {
    let queued = 0;
    for (const link of this.links.values()) queued += link.waitingBytes;
    return {
      ...this.counters,
      drops: { ...this.drops },
      peers: this.links.size,
      queuedBytes: queued,
    };
  }

  /**
   * Unregisters the first byte, drops every queue, destroys every connection and cancels
   * redials. Frames not yet written are lost (counted as `discarded`). Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.transport.streams.unregister([PLUMTREE_STREAM_FIRST_BYTE]);
    if (this.idleTimer) clearInterval(this.idleTimer);
    const sockets: Duplex[] = [];
    for (const link of this.links.values()) {
      this.drops.discarded += link.clearQueue();
      if (link.timer) clearTimeout(link.timer);
      link.timer = null;
      if (link.socket) sockets.push(link.socket);
    }
    this.links.clear();
    for (const c of this.inbound) sockets.push(c.stream);
    await Promise.all(
      sockets.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.destroyed && s.closed) return resolve();
            s.once('close', () => resolve());
            s.destroy();
          }),
      ),
    );
  }
}

function setKeepAlive(stream: Duplex): void {
  const s = stream as Duplex & { setKeepAlive?: (on: boolean, delayMs: number) => unknown };
  if (typeof s.setKeepAlive === 'function') s.setKeepAlive(true, KEEPALIVE_DELAY_MS);
}
