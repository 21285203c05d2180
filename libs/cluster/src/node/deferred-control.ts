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

interface PeerBacklog {
  readonly prunes: Set<string>;
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
  ) {}

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

  /** Send what each peer's queue takes now: PRUNEs first, then announcements in batches. */
  flush(trySend: TrySend): void {
    for (const [peer, b] of this.peers) {
      let full = false;
      for (const topic of b.prunes) {
        if (!trySend(peer, { type: FrameType.Prune, topic })) {
          full = true;
          break;
        }
        b.prunes.delete(topic);
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
      if (b.prunes.size === 0 && b.ihave.size === 0) this.peers.delete(peer);
    }
  }

  private backlog(peer: string): PeerBacklog {
    let b = this.peers.get(peer);
    if (b === undefined) {
      b = { prunes: new Set(), ihave: new Map(), entries: 0 };
      this.peers.set(peer, b);
    }
    return b;
  }
}
