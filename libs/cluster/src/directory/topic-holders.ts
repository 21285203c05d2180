/**
 * An index from topics and patterns to the nodes holding them, so "who matches this topic" needs
 * no scan over every entry. The directory keeps two: one of subscriptions, one of responders.
 */
import { isPattern, topicMatches } from './topic-pattern.js';

/** See the file comment. */
export class TopicHolders {
  /** Topic or pattern -> nodes holding it. */
  private readonly holders = new Map<string, Set<string>>();
  /** The keys of `holders` that are patterns. */
  private readonly patternKeys = new Set<string>();

  /** `node` holds `topicOrPattern`. */
  add(topicOrPattern: string, node: string): void {
    let set = this.holders.get(topicOrPattern);
    if (set === undefined) {
      set = new Set();
      this.holders.set(topicOrPattern, set);
      if (isPattern(topicOrPattern)) this.patternKeys.add(topicOrPattern);
    }
    set.add(node);
  }

  /** `node` no longer holds `topicOrPattern`. */
  remove(topicOrPattern: string, node: string): void {
    const set = this.holders.get(topicOrPattern);
    if (set === undefined) return;
    set.delete(node);
    if (set.size === 0) {
      this.holders.delete(topicOrPattern);
      this.patternKeys.delete(topicOrPattern);
    }
  }

  /**
   * Nodes holding `topic` itself or a pattern matching it. When `topic` is a pattern, only the
   * holders of that same string (patterns are not intersected).
   */
  matching(topic: string): Set<string> {
    const found = new Set<string>();
    const add = (nodes: Set<string> | undefined): void => {
      if (nodes === undefined) return;
      for (const n of nodes) found.add(n);
    };
    add(this.holders.get(topic));
    if (!isPattern(topic)) {
      for (const p of this.patternKeys) if (topicMatches(p, topic)) add(this.holders.get(p));
    }
    return found;
  }

  /** Whether no node holds anything. */
  isEmpty(): boolean {
    return this.holders.size === 0;
  }

  /** The concrete (non-pattern) topics held, unsorted. */
  concreteTopics(): string[] {
    const out: string[] = [];
    for (const k of this.holders.keys()) if (!this.patternKeys.has(k)) out.push(k);
    return out;
  }
}
