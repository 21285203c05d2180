/**
 * Shared types of the Plumtree core: message ids, protocol messages, outputs and events.
 *
 * Terms follow Leitão, Pereira, Rodrigues, "Epidemic Broadcast Trees" (SRDS 2007): eager peers
 * receive GOSSIP (the payload), lazy peers receive IHAVE (ids only), GRAFT repairs the tree,
 * PRUNE removes a redundant eager link.
 */

/**
 * A broadcast's identity: `(origin, epoch, seq)`.
 *
 * `epoch` distinguishes incarnations of the same origin (the runtime uses its start time or the
 * persisted incarnation), so ids stay unique across restarts; `seq` counts the origin's
 * broadcasts from 1 within an epoch, which lets a receiver see gaps per origin.
 */
export interface MessageId {
  readonly origin: string;
  /** Non-negative integer below 2^53. */
  readonly epoch: number;
  /** Positive integer below 2^53. */
  readonly seq: number;
}

/** The canonical string key of a message id, used for maps and sets. */
export function messageKey(id: MessageId): string {
  return `${id.origin}\u0000${id.epoch}\u0000${id.seq}`;
}

/** A message id with its key computed once. */
export interface KeyedId extends MessageId {
  readonly key: string;
}

/** Attach the canonical key to an id. */
export function keyed(id: MessageId): KeyedId {
  return { origin: id.origin, epoch: id.epoch, seq: id.seq, key: messageKey(id) };
}

/** Frame types on the wire (first byte after the version). */
export enum FrameType {
  Gossip = 1,
  IHave = 2,
  Graft = 3,
  Prune = 4,
  GossipRun = 5,
}

/** Full payload, sent to eager peers (and in answer to a GRAFT). */
export interface GossipMessage {
  readonly type: FrameType.Gossip;
  readonly topic: string;
  readonly id: MessageId;
  /**
   * Links traversed when this copy arrives: the origin sends 1, each forwarder sends its own
   * received value + 1. Not the origin's counter (the reference crate's "round" bug).
   */
  readonly hops: number;
  /** Origin's wall clock at publish, milliseconds since the Unix epoch (0 when unknown). */
  readonly publishedAtMs: number;
  /** Application headers (string to string), carried end to end. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly payload: Uint8Array;
}

/**
 * Announced ids in an IHAVE, with the hop count the receiver would have through the announcer:
 * `id` and the `count - 1` ids after it of the same origin and epoch (`seq`, `seq + 1`, ...), so
 * a burst of one publisher is announced in a few bytes.
 */
export interface IHaveEntry {
  readonly id: MessageId;
  readonly hops: number;
  /** Consecutive sequence numbers announced from `id.seq` on; absent means 1. */
  readonly count?: number;
}

/**
 * Several GOSSIPs of one origin incarnation on one topic with the same hop count, in one frame:
 * what a node sends one peer when several payloads leave for it together (a burst). The core
 * takes it as its messages one by one and never emits one: the shell coalesces the GOSSIPs it
 * sends to one peer in one turn into runs.
 */
export interface GossipRunMessage {
  readonly type: FrameType.GossipRun;
  readonly topic: string;
  readonly hops: number;
  /**
   * At least 2 GOSSIPs with this run's `topic` and `hops`, all of one origin and epoch, with
   * strictly increasing sequence numbers.
   */
  readonly messages: readonly GossipMessage[];
}

/** Lazy-push announcement: "I have these ids". Batched every `ihaveIntervalMs`. */
export interface IHaveMessage {
  readonly type: FrameType.IHave;
  readonly topic: string;
  readonly entries: readonly IHaveEntry[];
}

/**
 * "Make me your eager peer, and send me these ids if you still have them."
 * An empty `ids` is a pure link request (used when a node picks its eager neighbours).
 */
export interface GraftMessage {
  readonly type: FrameType.Graft;
  readonly topic: string;
  readonly ids: readonly MessageId[];
}

/** "Move me to your lazy set." Also a link request for a lazy link from a non-neighbour. */
export interface PruneMessage {
  readonly type: FrameType.Prune;
  readonly topic: string;
}

export type PlumtreeMessage =
  GossipMessage | IHaveMessage | GraftMessage | PruneMessage | GossipRunMessage;

/** The messages the core emits (it never emits a {@link GossipRunMessage}). */
export type CoreMessage = GossipMessage | IHaveMessage | GraftMessage | PruneMessage;

/** One message the shell must send to one peer. */
export interface Transmit {
  readonly to: string;
  readonly message: CoreMessage;
}

/** Events raised by the core for the layers above. */
export type PlumtreeEvent =
  | {
      readonly type: 'delivered';
      readonly topic: string;
      readonly id: MessageId;
      readonly payload: Uint8Array;
      readonly hops: number;
      /** The peer the payload came from; the node's own name for its own broadcasts. */
      readonly from: string;
      readonly publishedAtMs: number;
      readonly headers?: Readonly<Record<string, string>>;
    }
  | { readonly type: 'eagerPromotion'; readonly topic: string; readonly peer: string }
  | { readonly type: 'lazyDemotion'; readonly topic: string; readonly peer: string }
  | {
      readonly type: 'graftSent';
      readonly topic: string;
      readonly peer: string;
      /** Absent for a pure link graft (eager neighbour request or optimisation swap). */
      readonly id?: MessageId;
    }
  | { readonly type: 'pruneSent'; readonly topic: string; readonly peer: string }
  | { readonly type: 'graftFailed'; readonly topic: string; readonly id: MessageId };

/** Seeded randomness injected into the core (sans-IO rule): `@plumtree/common`'s generator. */
export type { Rng } from '@plumtree/common';

/**
 * The membership view of one topic as the core sees it: alive subscribers other than self.
 * Supplied by the layer above (topic directory on SWIM, or the simulator's oracle). The core
 * samples it by index and never copies it.
 */
export interface TopicView {
  /** Number of slots that can be sampled (some may be unavailable right now). */
  readonly size: number;
  /** The peer in slot `i`, or undefined when that slot is not an alive candidate now. */
  at(i: number): string | undefined;
  /** Whether `peer` is an alive candidate now. */
  has(peer: string): boolean;
}
