import type { Rng } from '@plumtree/common';
import type { MessageId, TopicView } from '@plumtree/plumtree';

/**
 * What the harness needs from an event a node raises: only `delivered` events (with the id and
 * the hop count of the delivered copy) are measured; any other event type is ignored.
 * Plumtree's `PlumtreeEvent` is assignable to it.
 */
export interface SimEvent {
  readonly type: string;
  readonly id?: MessageId;
  readonly hops?: number;
}

/** One frame a node wants sent. */
export interface SimTransmit<M> {
  readonly to: string;
  readonly message: M;
}

/**
 * One simulated node of a broadcast protocol, in the sans-IO shape of the Plumtree core: inputs
 * take `nowMs`, outputs are polled. After every input the harness drains `pollTransmit` until
 * undefined, then `pollEvent` until undefined, then reads `pollTimeout` and (re)schedules the
 * node's wake-up, at which it calls `handleTimeout`.
 */
export interface SimProtocolNode<M> {
  subscribe(topic: string, view: TopicView, nowMs: number): void;
  /** The membership oracle learned that `peer` crashed. */
  peerDown(peer: string, nowMs: number): void;
  /** A round-trip time measured to `peer` (what SWIM's probes would report). */
  recordRtt(peer: string, rttMs: number): void;
  broadcast(topic: string, payload: Uint8Array, nowMs: number): MessageId;
  handleMessage(from: string, msg: M, nowMs: number): void;
  handleTimeout(nowMs: number): void;
  pollTransmit(): SimTransmit<M> | undefined;
  pollEvent(): SimEvent | undefined;
  /** Absolute time of the next deadline, or undefined when none. */
  pollTimeout(): number | undefined;
}

/**
 * A protocol under test: a node factory plus how the harness classifies its frames. One harness
 * drives Plumtree and both baselines through this interface, identically.
 */
export interface SimProtocol<M> {
  /** Short name for tables and JSON (`plumtree`, `flood`, `gossipsub`). */
  readonly name: string;
  /** Create node `self` with its own seeded RNG. */
  createNode(self: string, rng: Rng): SimProtocolNode<M>;
  /** The topic a frame belongs to. */
  topicOf(msg: M): string;
  /**
   * The id of the broadcast whose payload this frame carries, or undefined for a control frame
   * (IHAVE, IWANT, GRAFT, PRUNE, link requests). Payload frames include GRAFT and IWANT answers.
   */
  payloadIdOf(msg: M): MessageId | undefined;
}
