/**
 * The cap on topics one member's hand-offs make this node join (subscriber side of handoff.ts).
 *
 * A hand-off joins the tree of a topic a local pattern matches (`orders.#` and a first message on
 * `orders.eu`): that is how a topic only patterns subscribe to gets its first message. Unlike a
 * Plumtree frame, whose sender must be listed for the topic, the publisher of a hand-off is by
 * definition outside the tree, so nothing in the directory vouches for the topic: a member
 * handing off to many distinct topics made a pattern subscriber join each, until
 * `limits.maxPatternTopics`, and so kept legitimate pattern topics out for
 * `limits.patternTopicIdleMs`.
 *
 * Topics the directory holds are joined as before (an alive member subscribes to the topic itself:
 * directory sync joins it anyway), as are topics the node is in or subscribes to itself. Every
 * other topic a hand-off would join is charged to its sender while the node stays in it; a
 * sender holding `maxPerPeer` of them is answered NACK for the next one (`refused`), and its
 * publisher tries another subscriber. Memory: one entry per topic joined this way, so at most
 * `limits.maxPatternTopics` entries; an entry goes when its topic is left.
 */

import type { TopicDirectory } from '../directory/index.js';

/**
 * Whether an alive member's directory entry subscribes to `topic` itself, not only through a
 * pattern (only pattern subscribers are candidates: `subscribersOf` finds both kinds).
 */
export function memberHolds(
  directory: Pick<TopicDirectory, 'subscribersOf' | 'entry'>,
  topic: string,
  isAlive: (node: string) => boolean,
): boolean {
  for (const node of directory.subscribersOf(topic, isAlive)) {
    if (directory.entry(node)?.subscriptions.includes(topic) === true) return true;
  }
  return false;
}

/** See the file comment. */
export class HandoffTopics {
  /** Topics charged to each sender. */
  private readonly byPeer = new Map<string, Set<string>>();
  /** The sender each charged topic is charged to. */
  private readonly chargedTo = new Map<string, string>();
  private refusedCount = 0;

  constructor(private readonly maxPerPeer: number) {}

  /** Hand-offs answered NACK because their sender held `maxPerPeer` topics. */
  get refused(): number {
    return this.refusedCount;
  }

  /**
   * Whether `from`'s hand-off of `topic` is taken: `known` (the node is in the topic, holds it,
   * or the directory does) is never charged; otherwise `join` runs within `from`'s allowance and
   * a topic it joined is charged to `from`.
   */
  accept(topic: string, from: string, known: boolean, join: () => boolean): boolean {
    if (known) return join();
    const charged = this.byPeer.get(from);
    if (charged !== undefined && charged.size >= this.maxPerPeer) {
      this.refusedCount++;
      return false;
    }
    if (!join()) return false;
    if (!this.chargedTo.has(topic)) {
      if (charged === undefined) this.byPeer.set(from, new Set([topic]));
      else charged.add(topic);
      this.chargedTo.set(topic, from);
    }
    return true;
  }

  /** The node left `topic`: its sender may hand another one off. */
  left(topic: string): void {
    const from = this.chargedTo.get(topic);
    if (from === undefined) return;
    this.chargedTo.delete(topic);
    const charged = this.byPeer.get(from);
    charged?.delete(topic);
    if (charged?.size === 0) this.byPeer.delete(from);
  }
}
