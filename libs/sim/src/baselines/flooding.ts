import type { Rng } from '@plumtree/common';
import type { MessageId, TopicView } from '@plumtree/plumtree';
import type { SimEvent, SimProtocol, SimProtocolNode, SimTransmit } from '../protocol-adapter.js';
import { PollQueue } from './poll-queue.js';
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
export interface FloodData {
  readonly kind: 'data';
  readonly topic: string;
  readonly id: MessageId;
  /** `messageKey(id)`, computed once by the origin and shared by every copy. */
  readonly key: string;
  /** Links traversed on arrival (the origin sends 1). */
  readonly hops: number;
  readonly payload: Uint8Array;
}

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

class FloodNode implements SimProtocolNode<FloodMessage> {
  private readonly neighbours = new Map<string, Set<string>>();
  private readonly seen = new Set<string>();
  private readonly out = new PollQueue<SimTransmit<FloodMessage>>();
  private readonly events = new PollQueue<SimEvent>();
  private seq = 0;

  constructor(
    private readonly self: string,
    private readonly rng: Rng,
    private readonly options: FloodingOptions,
  ) {}

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

  broadcast(topic: string, payload: Uint8Array): MessageId {
    const id: MessageId = { origin: this.self, epoch: 0, seq: ++this.seq };
    const key = `${this.self}\u00000\u0000${id.seq}`;
    this.seen.add(key);
    this.events.push({ type: 'delivered', id, hops: 0 });
    this.forward({ kind: 'data', topic, id, key, hops: 1, payload }, undefined);
    return id;
  }

  handleMessage(from: string, msg: FloodMessage): void {
    const set = this.neighbours.get(msg.topic);
    if (set === undefined) return; // not subscribed: ignore
    if (msg.kind === 'link') {
      set.add(from);
      return;
    }
    if (this.seen.has(msg.key)) return;
    this.seen.add(msg.key);
    this.events.push({ type: 'delivered', id: msg.id, hops: msg.hops });
    this.forward(
      {
        kind: 'data',
        topic: msg.topic,
        id: msg.id,
        key: msg.key,
        hops: msg.hops + 1,
        payload: msg.payload,
      },
      from,
    );
  }

  handleTimeout(): void {}

  pollTransmit(): SimTransmit<FloodMessage> | undefined {
    return this.out.shift();
  }

  pollEvent(): SimEvent | undefined {
    return this.events.shift();
  }

  pollTimeout(): number | undefined {
    return undefined;
  }

  private forward(msg: FloodData, from: string | undefined): void {
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
