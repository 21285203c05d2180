import type { TopicView } from '@plumtree/plumtree';
import type { MembershipOracle } from './membership-oracle.js';
import type { SimTopic } from './topic-layout.js';

/**
 * One node's view of one topic, backed by the topic's shared subscriber array: slot i is the
 * topic's i-th subscriber unless that is the node itself or a crash the node has already learned
 * about. Costs a few fields per (node, topic), never an N-sized array.
 */
export class SimTopicView implements TopicView {
  constructor(
    private readonly topic: SimTopic,
    private readonly self: number,
    private readonly oracle: MembershipOracle,
    private readonly names: readonly string[],
    private readonly indexOf: ReadonlyMap<string, number>,
  ) {}

  get size(): number {
    return this.topic.subscribers.length;
  }

  at(i: number): string | undefined {
    const p = this.topic.subscribers[i];
    if (p === undefined || p === this.self || this.oracle.knowsDown(this.self, p)) return undefined;
    return this.names[p];
  }

  has(peer: string): boolean {
    const p = this.indexOf.get(peer);
    return (
      p !== undefined &&
      p !== this.self &&
      this.topic.isSubscriber[p] === 1 &&
      !this.oracle.knowsDown(this.self, p)
    );
  }
}
