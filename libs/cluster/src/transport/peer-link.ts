/**
 * The outbound side of one peer: the state of its connection (phase, socket, redial timer) and
 * its queue of frames, and the batched write of that queue.
 *
 * Writing: small frames are copied into one batch buffer (one write for many frames: the copy of
 * a small frame costs less than a write request of its own), large ones are written by reference
 * under cork; with a keyring each batch is sealed as one AES-GCM message, so the cipher setup is
 * paid per batch, not per frame. A write the socket refuses (`false`) blocks the link until
 * 'drain'.
 */
import type { Duplex } from 'node:stream';
import type { Keyring } from '@plumtree/swim';
import { FRAME_HEADER_BYTES } from './frame-handshake.js';
import type { FrameSession } from './frame-session.js';
import type { FrameDropReason } from './frame-transport-options.js';

// Frames below this are copied into a shared batch buffer; larger ones are written in place.
const COPY_BELOW_BYTES = 16 * 1024;
/**
 * Bytes gathered into one batch buffer; also about what one flush hands the socket before it
 * waits for 'drain'.
 */
export const BATCH_BYTES = 128 * 1024;

/** Where a link's connection is. */
export type LinkPhase = 'idle' | 'dialing' | 'up' | 'backoff';

/** The transport's counters a link's writes add to. */
export interface LinkWriteCounters {
  framesSent: number;
  bytesSent: number;
  writes: number;
}

/** The transport's drop counts. */
export type FrameDropCounts = Record<FrameDropReason, number>;

/** Outbound state of one peer. */
export class PeerLink {
  phase: LinkPhase = 'idle';
  socket: Duplex | null = null;
  /** The sealed session of the connection that is up (null when plain). */
  session: FrameSession | null = null;
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
  /** The state last raised to the peer-state handler. */
  reported: 'unknown' | 'up' | 'down' = 'unknown';
  /** Set when the idle check ends the connection on purpose: no backoff; redial only if frames wait. */
  idleClosing = false;
  lastWriteMs = 0;
  /** The queue is above the transport's high-water mark (and not yet back to half of it). */
  high = false;
  /** When the socket last took bytes or drained (whether a queue under pressure still moves). */
  lastProgressMs = 0;

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

  /**
   * Writes queued frames (sealed with `sealWith`'s primary key, when given) until the queue is empty or the socket asks to wait for 'drain'.
   * Plain: small frames are copied into batch buffers, large ones written by reference. Sealed:
   * the frames of a batch are sealed together, one AES-GCM seal per batch instead of per frame.
   */
  flush(sealWith: Keyring | null, counters: LinkWriteCounters, drops: FrameDropCounts): void {
    const s = this.socket;
    if (this.phase !== 'up' || s === null || this.blocked || this.pendingFrames === 0) return;
    const q = this.queue;
    let ok = true;
    let frames = 0;
    let consumed = 0;
    let wire = 0;
    let writes = 0;
    s.cork();
    while (ok && this.head < q.length) {
      const first = q[this.head]!;
      if (sealWith === null && first.length >= COPY_BELOW_BYTES) {
        const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
        header.writeUInt32BE(first.length, 0);
        s.write(header);
        ok = s.write(first);
        writes++;
        q[this.head++] = undefined;
        frames++;
        consumed += FRAME_HEADER_BYTES + first.length;
        wire += FRAME_HEADER_BYTES + first.length;
        continue;
      }
      // The first frame always joins (a sealed large frame makes a batch of its own).
      let total = FRAME_HEADER_BYTES + first.length;
      let end = this.head + 1;
      while (end < q.length) {
        const f = q[end]!;
        if (sealWith === null && f.length >= COPY_BELOW_BYTES) break;
        if (total + FRAME_HEADER_BYTES + f.length > BATCH_BYTES) break;
        total += FRAME_HEADER_BYTES + f.length;
        end++;
      }
      const batch = Buffer.allocUnsafe(total);
      let off = 0;
      for (let i = this.head; i < end; i++) {
        const f = q[i]!;
        batch.writeUInt32BE(f.length, off);
        batch.set(f, off + FRAME_HEADER_BYTES);
        off += FRAME_HEADER_BYTES + f.length;
        q[i] = undefined;
      }
      const batchFrames = end - this.head;
      this.head = end;
      consumed += total;
      if (sealWith !== null) {
        const key = sealWith.getPrimaryKey();
        if (key === undefined || this.session === null) {
          // The keyring lost every key after start: nothing to seal with, and the peer would
          // refuse plain frames.
          drops.discarded += batchFrames;
          continue;
        }
        const sealed = this.session.seal(key, batch);
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
    this.queuedBytes -= consumed;
    if (this.head === q.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > q.length) {
      this.queue = q.slice(this.head);
      this.head = 0;
    }
    counters.framesSent += frames;
    counters.bytesSent += wire;
    counters.writes += writes;
    this.lastWriteMs = Date.now();
    this.lastProgressMs = this.lastWriteMs;
    if (!ok) this.blocked = true;
    s.uncork();
  }
}
