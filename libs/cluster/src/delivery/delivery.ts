/**
 * What a subscriber asks for and receives, and what the node tells about its trees.
 */
import type { DeliveryGate } from './delivery-queue.js';
export type { DeliveryGate } from './delivery-queue.js';

/** Options of one `subscribe`. */
export interface SubscribeOptions {
  /**
   * Make the topic (every topic a pattern matches) durable on this node: deliveries are logged
   * before observers see them and what the node missed while down or cut off is pulled from a
   * peer (docs/persistence.md). Stays durable for the node's life once asked for.
   */
  readonly durable?: boolean;
  /**
   * Hand this observer a delivery only while the gate is open (a handler running at most N at
   * once): the node's delivery queue waits for it, and its high-water marks pause reading as
   * they do for a slow handler (delivery-queue.ts).
   */
  readonly gate?: DeliveryGate;
  /**
   * A queue group (docs/queue-groups.md): each message of the topic is handled by one alive
   * member of the group in the cluster (this node's observers of the group are one member),
   * spread evenly across the members; if the member handling it dies before acknowledging, another
   * member gets it flagged `redelivered`. Observers without a group get every message. A valid
   * concrete topic string (`billing`, `billing.eu`).
   */
  readonly group?: string;
  /**
   * When a grouped delivery counts as handled (its acknowledgement to the group): `'auto'`
   * (default) once the observer's `next` returned; `'manual'` once the observer calls
   * `delivery.ack()` (an async handler calls it when its promise settles). Ignored without a
   * group.
   */
  readonly ack?: 'auto' | 'manual';
}

/** One message handed to the observers of `subscribe(topicOrPattern)`. */
export interface Delivery<T = unknown> {
  /** The payload decoded by the node's codec (raw bytes with the default codec's octet-stream). */
  readonly payload: T;
  /** The concrete topic it was published on (also for pattern subscriptions). */
  readonly topic: string;
  /** The message id, `origin/epoch/seq` (what `publish` resolved to at the publisher). */
  readonly id: string;
  /** The publishing node. */
  readonly origin: string;
  /** The publisher's incarnation (start time in ms) that minted the id. */
  readonly epoch: number;
  /** The publisher's sequence number on this topic within its epoch (gaps show lost messages). */
  readonly seq: number;
  /**
   * Tree links the message travelled: 0 at the node that injected it, 1 at its eager peers, ...;
   * -1 for a message of a durable topic pulled by catch-up (it came from a peer's log).
   */
  readonly hops: number;
  /** The peer this copy came from (the node itself for its own messages, the publisher for a hand-off). */
  readonly receivedFrom: string;
  /** Application headers (the codec's content-type header removed). */
  readonly headers: Readonly<Record<string, string>>;
  /** The payload's content type. */
  readonly contentType: string;
  /** The publisher's wall clock at publish, ms since the Unix epoch (0 when unknown). */
  readonly publishedAtMs: number;
  /** The encoded payload: a view of the received frame, valid as long as it is referenced. */
  readonly raw: Uint8Array;
  /**
   * Durable topics: true when this node may have handed the message to its observers before,
   * in an earlier life (it was logged but the process died before the observers were done with
   * it). Durable delivery is at least once across a crash; a handler with effects outside the
   * node dedupes the flagged ones by `id` (docs/persistence.md). Always false otherwise.
   */
  readonly redelivered: boolean;
  /**
   * The queue group this delivery was handed to this node's observers for (`subscribe(topic,
   * { group })`); undefined for ungrouped observers. With a group, `redelivered` is also true
   * when the member that owned the message died or left before acknowledging it.
   */
  readonly group?: string;
  /**
   * Acknowledge a grouped delivery subscribed with `ack: 'manual'`: the group stops holding it for
   * a takeover. Idempotent; a no-op for other deliveries.
   */
  readonly ack?: () => void;
}

/** What `node.events$` emits: tree changes from the Plumtree core and peer connection changes. */
export type PlumtreeNodeEvent =
  /** `peer` became an eager (payload) link of `topic`. */
  | { readonly type: 'promotion'; readonly topic: string; readonly peer: string }
  /**
   * `peer` became a lazy (IHAVE only) link of `topic`; `backpressure` when this node demoted it
   * because its send queue was full.
   */
  | {
      readonly type: 'demotion';
      readonly topic: string;
      readonly peer: string;
      readonly reason?: 'backpressure';
    }
  /** A GRAFT was sent: a missing message requested (`id`) or a pure link request. */
  | { readonly type: 'graft'; readonly topic: string; readonly peer: string; readonly id?: string }
  /** A PRUNE was sent: the link to `peer` is lazy on both sides now. */
  | { readonly type: 'prune'; readonly topic: string; readonly peer: string }
  /** A message asked for by GRAFT arrived, `latencyMs` after the first GRAFT for it. */
  | {
      readonly type: 'graft-delivered';
      readonly topic: string;
      readonly id: string;
      readonly latencyMs: number;
    }
  /** A missing message could not be fetched from any announcer: it is given up. */
  | { readonly type: 'graft-failed'; readonly topic: string; readonly id: string }
  /** The frame connection to `peer` is up. */
  | { readonly type: 'peer-up'; readonly peer: string }
  /** The frame connection to `peer` went down (it reconnects on the next frame). */
  | { readonly type: 'peer-down'; readonly peer: string }
  /** This node joined the tree of a concrete topic (subscription, pattern match or hand-off). */
  | { readonly type: 'topic-joined'; readonly topic: string }
  /** This node left the tree of a topic (its last matching subscription ended). */
  | { readonly type: 'topic-left'; readonly topic: string }
  /** The durable log of `topic` could not be opened: the topic is delivered without it. */
  | { readonly type: 'durable-failed'; readonly topic: string; readonly error: string };
