import { FrameType, type IHaveEntry, type IHaveMessage, type MessageId } from '../types.js';
import type { CoreContext } from './core-context.js';
import type { PendingRun, TopicTree } from './topic-tree.js';

/** Pending runs looked back at for one to extend (publishers interleave in a burst). */
const RUN_LOOKBACK = 4;

/**
 * Lazy push: the ids a node delivered are announced to its lazy peers in IHAVE batches. A batch
 * collects runs of consecutive ids (one origin incarnation, one sender, one distance) and goes
 * out `ihaveIntervalMs` after its first id, or at once when it holds `ihaveBatchSize` runs. With
 * `ihaveRepeats` n, each run is announced again in the next n flushes, to every neighbour (eager
 * ones too: an eager link carries a single GOSSIP copy and no announcement), in frames of their
 * own of at most `ihaveBatchSize` runs. A frame never holds more entries or ids than the decoder
 * accepts (`maxIHaveEntries`, `maxIHaveIds`): a larger batch leaves as several frames.
 */
export class LazyPush {
  constructor(
    private readonly ctx: CoreContext,
    /** Arms the tree's flush timer. */
    private readonly armFlush: (tree: TopicTree, atMs: number) => void,
  ) {}

  /** Queue `id` (delivered from `from`, `hops` away for the receivers) for the lazy peers. */
  announce(tree: TopicTree, id: MessageId, hops: number, from: string, nowMs: number): void {
    const pending = tree.pending;
    const maxIds = this.ctx.limits.maxIHaveIds;
    for (let i = pending.length - 1; i >= 0 && i >= pending.length - RUN_LOOKBACK; i--) {
      const r = pending[i]!;
      if (
        r.id.seq + r.count === id.seq &&
        r.hops === hops &&
        r.from === from &&
        r.id.origin === id.origin &&
        r.id.epoch === id.epoch &&
        r.count < maxIds
      ) {
        r.count++;
        this.added(tree, nowMs);
        return;
      }
    }
    pending.push({ id, count: 1, hops, from });
    this.added(tree, nowMs);
  }

  private added(tree: TopicTree, nowMs: number): void {
    tree.pendingIds++;
    const c = this.ctx.config;
    if (tree.pending.length >= c.ihaveBatchSize || tree.pendingIds >= this.ctx.limits.maxIHaveIds) {
      this.flush(tree, nowMs);
    } else {
      this.scheduleFlush(tree, nowMs);
    }
  }

  private scheduleFlush(tree: TopicTree, nowMs: number): void {
    if (tree.flushAtMs !== undefined) return;
    tree.flushAtMs = nowMs + this.ctx.config.ihaveIntervalMs;
    this.armFlush(tree, tree.flushAtMs);
  }

  /**
   * Send the pending batch to every lazy peer (paper: lazy push goes to all lazy peers; sending to
   * a random subset, as the reference crate does, leaves a node cut off from the eager tree
   * without any announcement now and then), never announcing an id back to where it came from;
   * then the runs left to repeat to every neighbour.
   */
  flush(tree: TopicTree, nowMs: number): void {
    const fresh = tree.pending;
    const again = tree.repeats;
    tree.pending = [];
    tree.pendingIds = 0;
    tree.repeats = [];
    tree.flushAtMs = undefined;
    this.sendBatch(tree, fresh, tree.lazy);
    const batch = this.ctx.config.ihaveBatchSize;
    for (let i = 0; i < again.length; i += batch) {
      const chunk = again.length <= batch ? again : again.slice(i, i + batch);
      this.sendBatch(tree, chunk, tree.lazy);
      this.sendBatch(tree, chunk, tree.eager);
    }
    const repeats = this.ctx.config.ihaveRepeats;
    if (repeats === 0) return;
    for (const r of again) if (r.left > 1) tree.repeats.push({ ...r, left: r.left - 1 });
    for (const r of fresh) tree.repeats.push({ ...r, left: repeats });
    if (tree.repeats.length > 0) this.scheduleFlush(tree, nowMs);
  }

  /** The IHAVEs of `runs` to each of `peers`, without the runs that came from that peer. */
  private sendBatch(
    tree: TopicTree,
    runs: readonly PendingRun[],
    peers: ReadonlySet<string>,
  ): void {
    if (runs.length === 0) return;
    // One set of frames shared by every peer that may hear about the whole batch.
    let shared: IHaveMessage[] | undefined;
    for (const peer of peers) {
      if (runs.some((r) => r.from === peer)) {
        this.sendRuns(tree, peer, runs, peer);
      } else {
        shared ??= this.frames(tree, runs, undefined);
        for (const m of shared) this.ctx.send(tree, peer, m);
      }
    }
  }

  /**
   * A lazy peer just became eager: it heard of nothing in the pending batch (no GOSSIP while
   * lazy, and the batch goes to lazy peers only), so announce the batch to it now.
   */
  announcePendingTo(tree: TopicTree, peer: string): void {
    if (tree.pending.length > 0) this.sendRuns(tree, peer, tree.pending, peer);
  }

  private sendRuns(tree: TopicTree, to: string, runs: readonly PendingRun[], skip: string): void {
    for (const m of this.frames(tree, runs, skip)) this.ctx.send(tree, to, m);
  }

  /** The IHAVE frames of `runs` (those not from `skip`), split within the decoder's limits. */
  private frames(
    tree: TopicTree,
    runs: readonly PendingRun[],
    skip: string | undefined,
  ): IHaveMessage[] {
    const { maxIHaveEntries, maxIHaveIds } = this.ctx.limits;
    const out: IHaveMessage[] = [];
    let entries: IHaveEntry[] = [];
    let ids = 0;
    for (const r of runs) {
      if (r.from === skip) continue;
      if (entries.length >= maxIHaveEntries || ids + r.count > maxIHaveIds) {
        out.push({ type: FrameType.IHave, topic: tree.topic, entries });
        entries = [];
        ids = 0;
      }
      entries.push(
        r.count === 1 ? { id: r.id, hops: r.hops } : { id: r.id, hops: r.hops, count: r.count },
      );
      ids += r.count;
    }
    if (entries.length > 0) out.push({ type: FrameType.IHave, topic: tree.topic, entries });
    return out;
  }
}
