/**
 * Graft latency: from the GRAFT that asks for a missing message (announced by IHAVE, not received
 * in time) to its delivery. The node notes each such GRAFT's time here and raises a
 * `graft-delivered` event with the latency when the message arrives; the metrics read it from
 * there (`plumtree_graft_latency_seconds`). A message that is given up (`graft-failed`) is
 * forgotten. Bounded: past {@link GRAFT_TIMER_CAP} open requests the oldest is forgotten, so a
 * flood of announcements costs a fixed amount of memory.
 */

/** Most missing messages timed at once. */
export const GRAFT_TIMER_CAP = 4_096;

/** See the file comment. */
export class GraftTimer {
  /** `topic \u0001 id` -> time of the first GRAFT for it, in insertion order. */
  private readonly open = new Map<string, number>();

  /** A GRAFT for `id` of `topic` was sent at `nowMs` (a retry keeps the first time). */
  grafted(topic: string, id: string, nowMs: number): void {
    const key = `${topic}\u0001${id}`;
    if (this.open.has(key)) return;
    if (this.open.size >= GRAFT_TIMER_CAP) {
      const oldest = this.open.keys().next().value;
      if (oldest !== undefined) this.open.delete(oldest);
    }
    this.open.set(key, nowMs);
  }

  /** `id` of `topic` was delivered at `nowMs`: the latency in ms when it was grafted, else undefined. */
  delivered(topic: string, id: string, nowMs: number): number | undefined {
    if (this.open.size === 0) return undefined;
    const key = `${topic}\u0001${id}`;
    const at = this.open.get(key);
    if (at === undefined) return undefined;
    this.open.delete(key);
    return Math.max(0, nowMs - at);
  }

  /** `id` of `topic` was given up. */
  failed(topic: string, id: string): void {
    this.open.delete(`${topic}\u0001${id}`);
  }

  /** Open requests (for tests and stats). */
  get size(): number {
    return this.open.size;
  }
}
