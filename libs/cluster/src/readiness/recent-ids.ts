/**
 * The last messages a node delivered on one topic (id, hops, when), in a fixed ring: what link
 * sync announces to a peer that has just linked to the topic's tree here.
 */
import type { IHaveEntry, MessageId } from '@plumtree/plumtree';

/** See the file comment. */
export class RecentIds {
  private readonly ids: MessageId[] = [];
  private readonly hops: number[] = [];
  private readonly atMs: number[] = [];
  /** Index of the next write once the ring is full. */
  private next = 0;

  constructor(private readonly capacity: number) {}

  /** Entries held. */
  get size(): number {
    return this.ids.length;
  }

  /** Remember a delivery; the oldest is dropped once `capacity` are held. */
  add(id: MessageId, hops: number, atMs: number): void {
    if (this.ids.length < this.capacity) {
      this.ids.push(id);
      this.hops.push(hops);
      this.atMs.push(atMs);
      return;
    }
    this.ids[this.next] = id;
    this.hops[this.next] = hops;
    this.atMs[this.next] = atMs;
    this.next = (this.next + 1) % this.capacity;
  }

  /**
   * The deliveries since `sinceMs`, oldest first, as IHAVE entries: the hops a peer would have
   * through this node (the delivery's + 1).
   */
  announceSince(sinceMs: number): IHaveEntry[] {
    const out: IHaveEntry[] = [];
    const n = this.ids.length;
    const start = n < this.capacity ? 0 : this.next;
    for (let k = 0; k < n; k++) {
      const i = (start + k) % n;
      if (this.atMs[i]! >= sinceMs) out.push({ id: this.ids[i]!, hops: this.hops[i]! + 1 });
    }
    return out;
  }
}
