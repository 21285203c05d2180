/**
 * Graft latency: from the GRAFT that asks for a missing message (announced by IHAVE, not received
 * in time) to its delivery. The node notes each such GRAFT's time here and raises a
 * `graft-delivered` event with the latency when the message arrives; the metrics read it from
 * there (`plumtree_graft_latency_seconds`). A message that is given up (`graft-failed`) is
 * forgotten. Bounded: past {@link GRAFT_TIMER_CAP} open requests the oldest is forgotten, so a
 * flood of announcements costs a fixed amount of memory.
 *
 * Every delivery asks {@link GraftTimer.mayBeOpen} with its sequence number first, a number
 * lookup: building the id string and the key for each delivery while any GRAFT was open cost
 * ~1.5 % of a subscriber's CPU in a burst (GRAFTs are open most of a burst).
 */

/** Most missing messages timed at once. */
export const GRAFT_TIMER_CAP = 4_096;

/** An open request: when it was first grafted, and the seq of its id (NaN if not an id string). */
interface Open {
  readonly atMs: number;
  readonly seq: number;
}

/** See the file comment. */
export class GraftTimer {
  /** `topic \u0001 id` -> the request, in insertion order. */
  private readonly open = new Map<string, Open>();
  /** Open requests per id sequence number. */
  private readonly seqs = new Map<number, number>();
  /** Open requests whose id has no sequence number (not an `origin/epoch/seq` string). */
  private unnumbered = 0;

  /** A GRAFT for `id` of `topic` was sent at `nowMs` (a retry keeps the first time). */
  grafted(topic: string, id: string, nowMs: number): void {
    const key = `${topic}\u0001${id}`;
    if (this.open.has(key)) return;
    if (this.open.size >= GRAFT_TIMER_CAP) {
      const oldest = this.open.keys().next().value;
      if (oldest !== undefined) this.close(oldest);
    }
    const seq = Number(id.slice(id.lastIndexOf('/') + 1));
    this.open.set(key, { atMs: nowMs, seq });
    if (Number.isNaN(seq)) this.unnumbered++;
    else this.seqs.set(seq, (this.seqs.get(seq) ?? 0) + 1);
  }

  /**
   * Whether a message with sequence number `seq` may have a GRAFT open (false: it has none, and
   * {@link delivered} need not be asked).
   */
  mayBeOpen(seq: number): boolean {
    return this.unnumbered > 0 || this.seqs.has(seq);
  }

  /** `id` of `topic` was delivered at `nowMs`: the latency in ms when it was grafted, else undefined. */
  delivered(topic: string, id: string, nowMs: number): number | undefined {
    if (this.open.size === 0) return undefined;
    const o = this.close(`${topic}\u0001${id}`);
    return o === undefined ? undefined : Math.max(0, nowMs - o.atMs);
  }

  /** `id` of `topic` was given up. */
  failed(topic: string, id: string): void {
    this.close(`${topic}\u0001${id}`);
  }

  /** Open requests (for tests and stats). */
  get size(): number {
    return this.open.size;
  }

  private close(key: string): Open | undefined {
    const o = this.open.get(key);
    if (o === undefined) return undefined;
    this.open.delete(key);
    if (Number.isNaN(o.seq)) this.unnumbered--;
    else {
      const n = this.seqs.get(o.seq)! - 1;
      if (n === 0) this.seqs.delete(o.seq);
      else this.seqs.set(o.seq, n);
    }
    return o;
  }
}
