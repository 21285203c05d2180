import type { MessageId } from '@plumtree/plumtree';
import type { SimEvent, SimTransmit } from '../protocol-adapter.js';
import { PollQueue } from './poll-queue.js';

/** A payload copy, the same frame in both baselines. */
export interface DataCopy {
  readonly kind: 'data';
  readonly topic: string;
  readonly id: MessageId;
  /** `messageKey(id)`, computed once by the origin and shared by every copy. */
  readonly key: string;
  /** Links traversed on arrival (the origin sends 1). */
  readonly hops: number;
  readonly payload: Uint8Array;
}

/**
 * What the two baseline models (flooding, gossipsub mesh) share: the polled outputs, the
 * duplicate filter, the ids of the node's own broadcasts, and delivering a copy the first time it
 * is seen. A model decides where a new copy goes ({@link forward}).
 */
export abstract class BaselineNode<M> {
  protected readonly seen = new Set<string>();
  protected readonly out = new PollQueue<SimTransmit<M>>();
  protected readonly events = new PollQueue<SimEvent>();
  private seq = 0;

  constructor(protected readonly self: string) {}

  /** A new own message: delivered here (0 hops), then forwarded with 1 hop. */
  broadcast(topic: string, payload: Uint8Array): MessageId {
    const id: MessageId = { origin: this.self, epoch: 0, seq: ++this.seq };
    const key = `${this.self}\u00000\u0000${id.seq}`;
    this.seen.add(key);
    this.events.push({ type: 'delivered', id, hops: 0 });
    this.forward({ kind: 'data', topic, id, key, hops: 1, payload }, undefined);
    return id;
  }

  pollTransmit(): SimTransmit<M> | undefined {
    return this.out.shift();
  }

  pollEvent(): SimEvent | undefined {
    return this.events.shift();
  }

  /** A copy from `from`: when new, delivered here and forwarded one hop further. */
  protected receive(msg: DataCopy, from: string): void {
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

  /** Send a new copy on (`from` is where it came from; undefined for an own message). */
  protected abstract forward(msg: DataCopy, from: string | undefined): void;
}
