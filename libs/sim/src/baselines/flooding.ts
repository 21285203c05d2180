import type { Rng } from '@plumtree/common';
import type { TopicView } from '@plumtree/plumtree';
import type { SimProtocol, SimProtocolNode } from '../protocol-adapter.js';
import { BaselineNode, type DataCopy } from './baseline-node.js';
import { sampleView } from './sample-view.js';

/**
 * Eager-push flooding, the baseline of the Plumtree paper (Leitão et al. 2007, section 5): the
 * same random overlay Plumtree starts from (each node draws `eagerFanout` random neighbours from
 * its topic view and asks them to link back, so links are symmetric; Plumtree starts with all of
 * them eager, as in the paper), and every
 * new message is forwarded to every neighbour except the one it came from. No repair: a node
 * only drops neighbours the membership oracle reports down.
 */

/** Frames of the flooding model. */
export type FloodMessage = FloodData | FloodLink;

/** A payload copy. */
export type FloodData = DataCopy;

/** "Add me as your neighbour in this topic" (makes the overlay symmetric). */
export interface FloodLink {
  readonly kind: 'link';
  readonly topic: string;
}

/** Options of the flooding model. */
export interface FloodingOptions {
  /** Neighbours each node draws; Plumtree's eagerFanout. Default 3. */
  readonly neighbours: number;
}

class FloodNode extends BaselineNode<FloodMessage> implements SimProtocolNode<FloodMessage> {
  private readonly neighbours = new Map<string, Set<string>>();

  constructor(
    self: string,
    private readonly rng: Rng,
    private readonly options: FloodingOptions,
  ) {
    super(self);
  }

  subscribe(topic: string, view: TopicView): void {
    const set = this.neighbours.get(topic) ?? new Set<string>();
    this.neighbours.set(topic, set);
    const link: FloodLink = { kind: 'link', topic };
    for (const p of sampleView(view, this.options.neighbours, this.rng, (q) => !set.has(q))) {
      set.add(p);
      this.out.push({ to: p, message: link });
    }
  }

  peerDown(peer: string): void {
    for (const set of this.neighbours.values()) set.delete(peer);
  }

  recordRtt(): void {}

  handleMessage(from: string, msg: FloodMessage): void {
    const set = this.neighbours.get(msg.topic);
    if (set === undefined) return; // not subscribed: ignore
    if (msg.kind === 'link') set.add(from);
    else this.receive(msg, from);
  }

  handleTimeout(): void {}

  pollTimeout(): number | undefined {
    return undefined;
  }

  protected forward(msg: FloodData, from: string | undefined): void {
    const set = this.neighbours.get(msg.topic);
    if (set === undefined) return;
    for (const p of set) if (p !== from) this.out.push({ to: p, message: msg });
  }
}

/** The flooding baseline as a simulator protocol. */
export function floodingProtocol(
  options: Partial<FloodingOptions> = {},
): SimProtocol<FloodMessage> {
  const resolved: FloodingOptions = { neighbours: 3, ...options };
  return {
    name: 'flood',
    createNode: (self, rng) => new FloodNode(self, rng, resolved),
    topicOf: (msg) => msg.topic,
    payloadIdOf: (msg) => (msg.kind === 'data' ? msg.id : undefined),
  };
}
