/**
 * Durable deliveries that found no observer: kept for the first observer that subscribes to a
 * matching topic or pattern.
 *
 * Why: a durable record is marked handled only once an observer has seen it (at least once across
 * a crash, docs/persistence.md). Between `PlumtreeNode.start` and the application's first
 * `subscribe()` the node already delivers (the topics of its options are joined at start, and a
 * restarted node hands back its unhandled records and catches up at once); without this those
 * records would be logged and seen by nobody until the next restart.
 *
 * Bounded: at most `cap` records in all. Beyond it a record is not kept; it stays unhandled in
 * the log and is handed again after the next restart.
 */
export class ParkedDeliveries<T> {
  private readonly byTopic = new Map<string, T[]>();
  private count = 0;
  private refused = 0;

  constructor(private readonly cap: number) {}

  /** Records kept now. */
  get size(): number {
    return this.count;
  }

  /** Records not kept because `cap` were kept already. */
  get dropped(): number {
    return this.refused;
  }

  /** Keeps `item` for `topic`; false when the cap is reached. */
  park(topic: string, item: T): boolean {
    if (this.count >= this.cap) {
      this.refused++;
      return false;
    }
    let list = this.byTopic.get(topic);
    if (list === undefined) this.byTopic.set(topic, (list = []));
    list.push(item);
    this.count++;
    return true;
  }

  /** Removes and returns the records of every topic `matches` accepts, in arrival order per topic. */
  take(matches: (topic: string) => boolean): [topic: string, items: T[]][] {
    const out: [string, T[]][] = [];
    for (const [topic, items] of this.byTopic) {
      if (!matches(topic)) continue;
      this.byTopic.delete(topic);
      this.count -= items.length;
      out.push([topic, items]);
    }
    return out;
  }
}
