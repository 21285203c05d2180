/**
 * Control frames a full peer queue refused, kept to send once the queue drains.
 *
 * Backpressure demotes an eager peer to lazy, but that only works if the peer hears about it: a
 * refused PRUNE would leave it pushing payloads (and its next GOSSIP would make it eager again),
 * and a refused IHAVE, or the GOSSIP that overflowed, would leave it unaware of messages it then
 * never grafts. So refused PRUNEs and announcements wait here, bounded per peer, and are retried
 * on a short period until the transport takes them.
 */
import {
  FrameType,
  type IHaveEntry,
  type IHaveMessage,
  type PruneMessage,
} from '@plumtree/plumtree';

/** Outcome of one send attempt: true when the transport took the frame. */
export type TrySend = (peer: string, message: PruneMessage | IHaveMessage) => boolean;

/** Sends an encoded GOSSIP frame of `topic`; true when the transport took it (or it is moot). */
export type TrySendFrame = (peer: string, topic: string, frame: Uint8Array) => boolean;

interface PeerBacklog {
  readonly prunes: Set<string>;
  /**
   * Payload frames a full queue refused, in order, sent first once it drains: the peer asked for
   * them (a GRAFT answer) or was eager when they were pushed. Without this a GRAFT answer that
   * overflows is announced again, grafted again, overflows again, until the peer's GRAFT retries
   * run out and the message is lost.
   */
  readonly gossip: { readonly topic: string; readonly frame: Uint8Array }[];
  gossipBytes: number;
  readonly ihave: Map<string, IHaveEntry[]>;
  entries: number;
}

/** See the file comment. */
export class DeferredControl {
  private readonly peers = new Map<string, PeerBacklog>();
  /** Announcements dropped because a peer's backlog was full. */
  dropped = 0;

  constructor(
    /** Announcements kept per peer; older ones beyond it are dropped (the peer may graft them from another announcer). */
    private readonly maxEntriesPerPeer: number,
    /** Ids per IHAVE frame sent from the backlog. */
    private readonly batch: number,
    /** Payload frame bytes kept per peer; beyond it a refused payload is only announced. */
    private readonly maxGossipBytesPerPeer = 0,
  ) {}

  /**
   * Keeps a refused payload frame for `peer`, within the per-peer byte budget. False when it does
   * not fit: the caller announces it instead (the peer grafts it later).
   */
  addGossip(peer: string, topic: string, frame: Uint8Array): boolean {
    const b = this.backlog(peer);
    if (b.gossipBytes + frame.length > this.maxGossipBytesPerPeer) {
      this.dropIfEmpty(peer, b);
      return false;
    }
    b.gossip.push({ topic, frame });
    b.gossipBytes += frame.length;
    return true;
  }

  /** Payload frame bytes waiting for `peer`. */
  gossipBytes(peer: string): number {
    return this.peers.get(peer)?.gossipBytes ?? 0;
  }

  get isEmpty(): boolean {
    return this.peers.size === 0;
  }

  addPrune(peer: string, topic: string): void {
    this.backlog(peer).prunes.add(topic);
  }

  addAnnouncements(peer: string, topic: string, entries: readonly IHaveEntry[]): void {
    const b = this.backlog(peer);
    let list = b.ihave.get(topic);
    if (list === undefined) b.ihave.set(topic, (list = []));
    for (const e of entries) {
      if (b.entries >= this.maxEntriesPerPeer) {
        this.dropped++;
        continue;
      }
      list.push(e);
      b.entries++;
    }
  }

  /** Forget a peer (it failed or left). */
  forget(peer: string): void {
    this.peers.delete(peer);
  }

  /**
   * Send what each peer's queue takes now: PRUNEs first, then the refused payload frames in
   * order, then announcements in batches.
   */
  flush(trySend: TrySend, trySendFrame?: TrySendFrame): void {
    for (const [peer, b] of this.peers) {
      let full = false;
      for (const topic of b.prunes) {
        if (!trySend(peer, { type: FrameType.Prune, topic })) {
          full = true;
          break;
        }
        b.prunes.delete(topic);
      }
      if (!full && trySendFrame !== undefined) {
        let sent = 0;
        for (const g of b.gossip) {
          if (!trySendFrame(peer, g.topic, g.frame)) {
            full = true;
            break;
          }
          b.gossipBytes -= g.frame.length;
          sent++;
        }
        if (sent > 0) b.gossip.splice(0, sent);
      }
      if (!full) {
        for (const [topic, list] of b.ihave) {
          while (list.length > 0) {
            const entries = list.slice(0, this.batch);
            if (!trySend(peer, { type: FrameType.IHave, topic, entries })) {
              full = true;
              break;
            }
            list.splice(0, entries.length);
            b.entries -= entries.length;
          }
          if (full) break;
          b.ihave.delete(topic);
        }
      }
      this.dropIfEmpty(peer, b);
    }
  }

  private dropIfEmpty(peer: string, b: PeerBacklog): void {
    if (b.prunes.size === 0 && b.ihave.size === 0 && b.gossip.length === 0) this.peers.delete(peer);
  }

  private backlog(peer: string): PeerBacklog {
    let b = this.peers.get(peer);
    if (b === undefined) {
      b = { prunes: new Set(), gossip: [], gossipBytes: 0, ihave: new Map(), entries: 0 };
      this.peers.set(peer, b);
    }
    return b;
  }
}
