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
 * that would pass the cap is refused with `'overflow'`. Below the cap, a queue above
 * `highWaterBytes` is under pressure: the pressure handler hears of it when it rises and when it
 * is back to half of it, so the node can push back on its own sources before anything overflows.
 * Callers that coalesce their frames per turn (the outbound engine's GOSSIP runs) queue them in
 * a {@link FrameTransport.beforeFlush} hook, which runs at the start of each turn's flush.
 * A failed connection keeps its queue and is redialed with exponential backoff.
 *
 * Receiving: the stream dispatcher hands over accepted streams whose first byte is
 * {@link PLUMTREE_STREAM_FIRST_BYTE}; after the handshake (see frame-handshake.ts) and once the
 * member gate admitted the name it claims (an alive member, from its address: member-gate.ts),
 * frames are parsed incrementally and handed to the frame handler with the sender's node name.
 * Malformed input closes the connection and is counted; nothing throws out of a socket callback.
 *
 * This file holds the outbound connections (dial, preamble, redial, idle close) and the public
 * surface; the options and counters are in frame-transport-options.ts, a peer's queue and its
 * batched write in peer-link.ts, the accepted connections in inbound-connections.ts.
 */
import type { Duplex } from 'node:stream';
import { FRAME_HEADER_BYTES, PLUMTREE_STREAM_FIRST_BYTE } from './frame-handshake.js';
import {
  FRAME_DROP_REASONS,
  resolveFrameTransportOptions,
  type FrameDropReason,
  type FrameTransportOptions,
  type FrameTransportStats,
  type ResolvedFrameTransportOptions,
  type SendResult,
} from './frame-transport-options.js';
import { Handshake } from './handshake-machine.js';
import { InboundConnections } from './inbound-connections.js';
import { setKeepAlive } from './keepalive.js';
import { PeerLink } from './peer-link.js';
import { reconnectDelayMs } from './reconnect-backoff.js';

function noop(): void {}

/**
 * Frames over persistent TCP connections on the SWIM port: see the file comment. Build one per
 * node on `swimNode.streamTransport`; call {@link close} before closing the SWIM node.
 */
export class FrameTransport {
  private readonly o: ResolvedFrameTransportOptions;
  private readonly links = new Map<string, PeerLink>();
  private readonly inbound: InboundConnections;
  private dirty: PeerLink[] = [];
  private flushArmed = false;
  private idleTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private frameHandler: (from: string, frame: Uint8Array) => void = noop;
  private peerStateHandler: (peer: string, up: boolean) => void = noop;
  private pressureHandler: (peer: string, high: boolean) => void = noop;
  private readonly flushHooks: (() => void)[] = [];
  /** Links whose `high` is set. */
  private highLinks = 0;
  private readonly counters = {
    framesSent: 0,
    framesReceived: 0,
    bytesSent: 0,
    bytesReceived: 0,
    overflows: 0,
    pressureRises: 0,
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
    this.o = resolveFrameTransportOptions(options);
    this.drops = Object.fromEntries(FRAME_DROP_REASONS.map((r) => [r, 0])) as Record<
      FrameDropReason,
      number
    >;
    this.inbound = new InboundConnections({
      options: this.o,
      counters: this.counters,
      drops: this.drops,
      isClosed: () => this.closed,
      deliver: (from, frame) => this.frameHandler(from, frame),
    });
    this.o.transport.streams.register([PLUMTREE_STREAM_FIRST_BYTE], (stream, from) =>
      this.inbound.accept(stream, from),
    );
    const idleTimeoutMs = this.o.idleTimeoutMs;
    if (idleTimeoutMs !== undefined) {
      this.idleTimer = setInterval(() => this.closeIdle(), Math.max(10, idleTimeoutMs / 2));
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
    if (frame.length > this.o.maxFrameBytes) {
      this.drops['frame-too-large']++;
      return 'overflow';
    }
    let link = this.links.get(peer);
    if (link === undefined) {
      if (this.o.resolve(peer) === undefined) {
        this.drops['unknown-peer']++;
        return 'unknown-peer';
      }
      link = new PeerLink(peer);
      this.links.set(peer, link);
    }
    const cost = FRAME_HEADER_BYTES + frame.length;
    const waiting = link.waitingBytes;
    if (waiting > 0 && waiting + cost > this.o.maxQueueBytes) {
      this.counters.overflows++;
      this.drops.overflow++;
      return 'overflow';
    }
    link.queue.push(frame);
    link.queuedBytes += cost;
    if (link.phase === 'up') this.scheduleFlush(link);
    else if (link.phase === 'idle') this.dial(link);
    if (!link.high && link.waitingBytes > this.o.highWaterBytes) {
      link.high = true;
      link.lastProgressMs = Date.now();
      this.highLinks++;
      this.counters.pressureRises++;
      this.emitPressure(peer, true);
    }
    return 'queued';
  }

  /**
   * Runs `hook` at the start of every flush turn, before the queues are written: a caller that
   * coalesces frames over a turn queues them there. See {@link requestFlush}.
   */
  beforeFlush(hook: () => void): void {
    this.flushHooks.push(hook);
  }

  /** Makes sure a flush turn runs soon (a {@link beforeFlush} hook has frames to queue). */
  requestFlush(): void {
    if (this.closed || this.flushArmed) return;
    this.flushArmed = true;
    setImmediate(this.flushDirty);
  }

  /**
   * Whether some peer's queue is under pressure and still moving: above `highWaterBytes` (not yet
   * back to half of it) with bytes written within the last `stallMs`. A queue that stopped moving
   * (a peer dead, or silent before membership says so) does not count: a publisher must not wait
   * for a peer that may never read again (the outbound engine demotes it on overflow instead).
   */
  isPressured(nowMs: number, stallMs: number): boolean {
    if (this.highLinks === 0) return false;
    for (const link of this.links.values()) {
      if (link.high && nowMs - link.lastProgressMs < stallMs) return true;
    }
    return false;
  }

  /** How many peers' queues are under pressure (see {@link isPressured}). */
  pressuredPeers(): number {
    return this.highLinks;
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
      this.checkLow(link);
    }
    this.inbound.disconnect(peer);
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
    // Hooks run while the flush is still armed: what they queue joins this turn's writes.
    for (const hook of this.flushHooks) {
      try {
        hook();
      } catch {
        this.drops['internal-error']++;
      }
    }
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

  /** Writes what the link's queue holds now (see `PeerLink.flush`). */
  private flush(link: PeerLink): void {
    link.flush(this.o.sealing ? this.o.keyring : null, this.counters, this.drops);
    this.checkLow(link);
  }

  /** A queue under pressure that is back to half the high-water mark (or gone) is relieved. */
  private checkLow(link: PeerLink): void {
    if (!link.high) return;
    if (this.links.get(link.name) === link && link.waitingBytes > this.o.highWaterBytes / 2) return;
    link.high = false;
    this.highLinks--;
    this.emitPressure(link.name, false);
  }

  // ------------------------------------------------------------------ dialing

  private dial(link: PeerLink): void {
    const addr = this.o.resolve(link.name);
    if (addr === undefined) {
      // The member is gone: what waits for it can never be delivered.
      this.drops['unknown-peer']++;
      this.drops.discarded += link.clearQueue();
      this.links.delete(link.name);
      link.phase = 'idle';
      if (link.reported === 'up') this.emitPeerState(link.name, false);
      this.checkLow(link);
      return;
    }
    link.phase = 'dialing';
    if (link.failures > 0) this.counters.reconnects++;
    this.o.transport.dial(addr, this.o.dialTimeoutMs).then(
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
      link.lastProgressMs = Date.now();
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
    const hs = new Handshake('dialer', this.o.localName, this.o.sealing ? this.o.keyring : null);
    const hello = hs.hello();
    socket.write(hello);
    this.counters.bytesSent += hello.length;
    const timer = setTimeout(() => {
      this.drops['handshake-timeout']++;
      socket.destroy();
    }, this.o.dialTimeoutMs);
    timer.unref();
    const onData = (chunk: Buffer): void => {
      try {
        const step = hs.push(chunk);
        if (step.kind === 'more') {
          if (step.write !== undefined) {
            socket.write(step.write);
            this.counters.bytesSent += step.write.length;
          }
          return;
        }
        clearTimeout(timer);
        socket.removeListener('data', onData);
        // Acceptors write nothing after their handshake; keep reading so a FIN is seen.
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
        link.session = hs.session;
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
    const delay = reconnectDelayMs(link.failures, this.o.backoff, Math.random());
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
        now - link.lastWriteMs >= this.o.idleTimeoutMs!
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
   * Sets the handler of queue pressure, raised on changes only: `high` true when `peer`'s queue
   * (queued + in its socket) went above `highWaterBytes`, false when it is back to half of that,
   * or the peer was disconnected. Not raised by {@link close}.
   */
  onPressure(handler: (peer: string, high: boolean) => void): void {
    this.pressureHandler = handler;
  }

  /**
   * Membership changed (a member joined, or was updated): accepted connections waiting for the
   * member they claim are checked again, and admitted when it is now an alive member at their
   * address. Cheap when none waits.
   */
  membersChanged(): void {
    if (!this.closed) this.inbound.gate.recheck();
  }

  /**
   * Stops reading from accepted connections (TCP then pushes back on the senders) until
   * {@link resumeInbound}. For tests and for shedding load.
   */
  pauseInbound(): void {
    this.inbound.pause();
  }

  /** Resumes reading after {@link pauseInbound}. */
  resumeInbound(): void {
    this.inbound.resume();
  }

  // ------------------------------------------------------------------ the rest

  private emitPeerState(peer: string, up: boolean): void {
    try {
      this.peerStateHandler(peer, up);
    } catch {
      this.drops['handler-error']++;
    }
  }

  private emitPressure(peer: string, high: boolean): void {
    try {
      this.pressureHandler(peer, high);
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
      refused: { ...this.inbound.gate.refused },
      inboundConnections: this.inbound.size,
      pendingConnections: this.inbound.gate.heldCount,
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
    this.o.transport.streams.unregister([PLUMTREE_STREAM_FIRST_BYTE]);
    if (this.idleTimer) clearInterval(this.idleTimer);
    const sockets: Duplex[] = [];
    for (const link of this.links.values()) {
      this.drops.discarded += link.clearQueue();
      if (link.timer) clearTimeout(link.timer);
      link.timer = null;
      if (link.socket) sockets.push(link.socket);
    }
    this.links.clear();
    sockets.push(...this.inbound.streams());
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
