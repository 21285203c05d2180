import type { MessageId, TopicView } from '../types.js';
import type { TopicIds } from './id-memory.js';

/**
 * Ids waiting to be announced to lazy peers in the next IHAVE batch: `count` consecutive seqs
 * from `id.seq` on, of one origin incarnation, received from one peer at one distance.
 */
export interface PendingRun {
  readonly id: MessageId;
  count: number;
  /** Hops the receiver would have through this node: this node's distance + 1. */
  readonly hops: number;
  /** The peer this node got the messages from (it is not told about them again). */
  readonly from: string;
}

/** A run already announced, to be announced again in `left` more IHAVE flushes (`ihaveRepeats`). */
export interface RepeatedRun extends PendingRun {
  readonly left: number;
}

/** Frame counters of one topic, by frame type and direction. */
export interface FrameCounters {
  gossip: number;
  ihave: number;
  graft: number;
  prune: number;
}

function zeroCounters(): FrameCounters {
  return { gossip: 0, ihave: 0, graft: 0, prune: 0 };
}

/**
 * The state of one topic's tree at one node: its eager and lazy peer sets (drawn from the
 * topic's view, kept symmetric by the protocol), the IHAVE batch being filled, its sequence
 * counter and counters. The protocol rules live in `Plumtree`; this holds state and the
 * neighbour-selection helpers.
 */
export class TopicTree {
  readonly eager = new Set<string>();
  readonly lazy = new Set<string>();
  pending: PendingRun[] = [];
  /** Ids in `pending` (the runs' counts summed). */
  pendingIds = 0;
  /** Runs announced before, announced again in the next flushes (`ihaveRepeats`). */
  repeats: RepeatedRun[] = [];
  /** When the pending IHAVE batch is due, or undefined when nothing is pending. */
  flushAtMs: number | undefined;
  /** Sequence number of this node's last broadcast on the topic. */
  seq = 0;
  readonly sent: FrameCounters = zeroCounters();
  readonly received: FrameCounters = zeroCounters();
  delivered = 0;
  duplicates = 0;
  /** When the last optimisation swap of this tree happened (see `optimizationCooldownMs`). */
  lastSwapAtMs = Number.NEGATIVE_INFINITY;
  /** When this node last PRUNEd each peer, until it is promoted again (see tree-links.ts). */
  readonly prunedAtMs = new Map<string, number>();

  constructor(
    readonly topic: string,
    public view: TopicView,
    /** The id memory of this topic (outlives the tree: dedup survives leaving and re-joining). */
    readonly ids: TopicIds,
  ) {}

  isNeighbour(peer: string): boolean {
    // Lazy first: most frames that ask (IHAVE) come from lazy peers.
    return this.lazy.has(peer) || this.eager.has(peer);
  }

  get degree(): number {
    return this.eager.size + this.lazy.size;
  }
}
