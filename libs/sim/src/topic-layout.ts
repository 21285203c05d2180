import { randomInt, type Rng } from '@plumtree/common';

/**
 * Subscriber counts of `topics` topics over `nodes` nodes, Zipf with exponent s = 1:
 *
 *   topics = 1:  count = nodes                                   (everyone subscribes)
 *   topics > 1:  count(k) = min(nodes, max(2, round(nodes / (2 k))))   for k = 1..topics
 *
 * so the largest topic has about half the nodes, topic k has 1/k of that, and the smallest has
 * at least 2 (a topic needs a publisher and a receiver).
 */
export function zipfSubscriberCounts(nodes: number, topics: number): number[] {
  if (!Number.isInteger(nodes) || nodes < 2)
    throw new RangeError(`nodes must be an integer >= 2, got ${nodes}`);
  if (!Number.isInteger(topics) || topics < 1)
    throw new RangeError(`topics must be an integer >= 1, got ${topics}`);
  if (topics === 1) return [nodes];
  const counts: number[] = [];
  for (let k = 1; k <= topics; k++)
    counts.push(Math.min(nodes, Math.max(2, Math.round(nodes / (2 * k)))));
  return counts;
}

/** One topic of a simulated cluster: its name and subscribers, shared by every node's view. */
export interface SimTopic {
  /** Position in {@link TopicLayout.topics}. */
  readonly index: number;
  /** `t1`, `t2`, ... in decreasing size. */
  readonly name: string;
  /** Subscriber node indices, in random order (the slot order of every view of this topic). */
  readonly subscribers: Int32Array;
  /** `isSubscriber[node]` is 1 when the node subscribes. One byte per node per topic. */
  readonly isSubscriber: Uint8Array;
}

/** Which nodes subscribe to which topics. */
export interface TopicLayout {
  readonly topics: readonly SimTopic[];
  /** Topic index by name. */
  readonly byName: ReadonlyMap<string, number>;
  /** Topic indices each node subscribes to. */
  readonly topicsOfNode: readonly (readonly number[])[];
}

/**
 * Draw the subscribers of each topic: topic k gets `zipfSubscriberCounts(nodes, topics)[k-1]`
 * distinct nodes, sampled uniformly (partial Fisher-Yates over all nodes, per topic).
 */
export function buildTopicLayout(nodes: number, topicCount: number, rng: Rng): TopicLayout {
  const counts = zipfSubscriberCounts(nodes, topicCount);
  const pool = new Int32Array(nodes);
  const topics: SimTopic[] = [];
  const byName = new Map<string, number>();
  const topicsOfNode: number[][] = Array.from({ length: nodes }, () => []);
  for (let t = 0; t < counts.length; t++) {
    const count = counts[t]!;
    for (let i = 0; i < nodes; i++) pool[i] = i;
    const subscribers = new Int32Array(count);
    const isSubscriber = new Uint8Array(nodes);
    for (let i = 0; i < count; i++) {
      const j = i + randomInt(rng, nodes - i);
      const v = pool[j]!;
      pool[j] = pool[i]!;
      pool[i] = v;
      subscribers[i] = v;
      isSubscriber[v] = 1;
      topicsOfNode[v]!.push(t);
    }
    const name = `t${t + 1}`;
    topics.push({ index: t, name, subscribers, isSubscriber });
    byName.set(name, t);
  }
  return { topics, byName, topicsOfNode };
}
