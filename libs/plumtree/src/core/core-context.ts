import { FifoQueue } from '@plumtree/common';
import type { PlumtreeConfig } from '../config/plumtree-config.js';
import {
  FrameType,
  type CoreMessage,
  type MessageId,
  type PlumtreeEvent,
  type Rng,
  type Transmit,
} from '../types.js';
import { DEFAULT_FRAME_LIMITS, type FrameLimits } from '../wire/frame-limits.js';
import { IdMemory } from './id-memory.js';
import type { FrameCounters, TopicTree } from './topic-tree.js';

/** The counter of each frame type the core sends. */
const SENT: Readonly<Record<CoreMessage['type'], keyof FrameCounters>> = {
  [FrameType.Gossip]: 'gossip',
  [FrameType.IHave]: 'ihave',
  [FrameType.Graft]: 'graft',
  [FrameType.Prune]: 'prune',
};

/** Node-wide counters of the core. */
export interface PlumtreeCounters {
  delivered: number;
  duplicates: number;
  broadcasts: number;
  graftsServed: number;
  graftsRateLimited: number;
  /** GRAFT for ids no longer cached. */
  graftsMissed: number;
  graftsFailed: number;
  /**
   * Missing-message timers that found the id's origin still arriving in order from an eager
   * peer, below the id: the id is late, not lost, and the timer waited again instead of GRAFTing.
   */
  graftsDeferred: number;
  /** Optimisation swaps (lazy path shorter by >= optimizationThreshold hops). */
  optimizations: number;
  /** Optimisation swaps skipped because the tree swapped less than `optimizationCooldownMs` ago. */
  optimizationsThrottled: number;
  /** Frames for topics this node does not subscribe to (dropped). */
  unsubscribedFrames: number;
  /** Payloads above maxMessageSize received (dropped). */
  oversizedDropped: number;
  /** Link requests refused because the eager set was at maxEagerPeers. */
  eagerRefused: number;
  /** Messages delivered but not pushed on: one more hop would pass the format's 65,535. */
  hopLimitReached: number;
  /** Missing ids given up, oldest first, because `maxMissingIds` were tracked. */
  missingEvicted: number;
  /** Announcers not kept for a missing id that had `maxAnnouncersPerId` already. */
  announcersDropped: number;
  /**
   * Announced ids not tracked as missing because their announcer had spent its budget of new
   * missing ids (`newMissingPerPeerBurst`, `newMissingPerPeerPerSecond`; missing-budget.ts).
   */
  missingOverBudget: number;
}

/**
 * What the core's parts share: the configuration, the frame limits every frame it emits must
 * decode under, the trees, the id memory, the counters and the output queues. One per core.
 */
export class CoreContext {
  readonly counters: PlumtreeCounters = {
    delivered: 0,
    duplicates: 0,
    broadcasts: 0,
    graftsServed: 0,
    graftsRateLimited: 0,
    graftsMissed: 0,
    graftsFailed: 0,
    graftsDeferred: 0,
    optimizations: 0,
    optimizationsThrottled: 0,
    unsubscribedFrames: 0,
    oversizedDropped: 0,
    eagerRefused: 0,
    hopLimitReached: 0,
    missingEvicted: 0,
    announcersDropped: 0,
    missingOverBudget: 0,
  };
  readonly trees = new Map<string, TopicTree>();
  readonly ids: IdMemory;
  readonly transmits = new FifoQueue<Transmit>();
  readonly events = new FifoQueue<PlumtreeEvent>();
  /**
   * The decoder's limits (its defaults): GRAFTs and IHAVEs are split to fit them, so no peer
   * ever refuses a frame this core built.
   */
  readonly limits: Readonly<FrameLimits> = DEFAULT_FRAME_LIMITS;
  /** When maintenance runs next, undefined while there is nothing to expire. */
  maintenanceAtMs: number | undefined;

  constructor(
    readonly self: string,
    readonly config: PlumtreeConfig,
    readonly rng: Rng,
    /** See `PlumtreeOptions.holds`. */
    readonly holds?: (topic: string, id: MessageId) => boolean,
  ) {
    this.ids = new IdMemory(config);
  }

  /** Queue `message` for `to`, counted on the tree. */
  send(tree: TopicTree, to: string, message: CoreMessage): void {
    tree.sent[SENT[message.type]]++;
    this.transmits.push({ to, message });
  }

  /** Start the maintenance clock if it is not running. */
  scheduleMaintenance(nowMs: number): void {
    this.maintenanceAtMs ??= nowMs + this.config.maintenanceIntervalMs;
  }
}
