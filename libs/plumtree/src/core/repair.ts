import { FifoQueue } from '@plumtree/common';
import { FrameType, type GraftMessage, type IHaveMessage, type MessageId } from '../types.js';
import { MAX_FRAME_HOPS } from '../wire/frame-limits.js';
import type { CoreContext } from './core-context.js';
import { DeadlineHeap } from './deadline-heap.js';
import { MissingBudget } from './missing-budget.js';
import type { IdStream, Missing } from './id-stream.js';
import { TokenBucket } from './token-bucket.js';
import type { TopicTree } from './topic-tree.js';

/**
 * Deferrals of one missing id's timer at most (see {@link Repair.handleTimeout}): a bound on how
 * long an id announced ahead of its origin's in-order arrival waits before it is grafted anyway.
 */
const MAX_DEFERRALS = 50;

/**
 * Repair: ids announced by IHAVE that this node has not received get a missing-message timer;
 * when it fires, the id is requested with a GRAFT from one announcer, then from the next ones
 * with backoff (`graftRetryTimeoutMs * 2^(n-1)`, capped at `graftBackoffMaxMs`), until it
 * arrives or `graftMaxRetries` GRAFTs went out. GRAFTs due together to one peer share frames of
 * at most `maxGraftIds` ids. The other side: GRAFTs are answered from the cache, within a token
 * bucket per requesting peer.
 *
 * A timer is deferred, not fired, while the id's origin incarnation is still arriving in order
 * from an eager peer and has not reached the id yet: a GOSSIP stream is FIFO along a tree path,
 * so such an id is late (queued behind earlier messages), not lost. An id below the highest seq
 * delivered is a gap, grafted at once when its timer fires.
 *
 * Bounds (peers' IHAVEs feed this state): at most `maxMissingIds` missing ids, all topics
 * together; a new one at the cap gives the oldest up (`missingEvicted`), and an incarnation
 * that only that announcement had created is forgotten with it. At most `maxAnnouncersPerId`
 * announcers per id (`announcersDropped`). Each announcing peer creates new missing ids within a
 * budget (missing-budget.ts; `missingOverBudget`). The timer heap drops stale entries once they
 * outnumber the live ones.
 */
export class Repair {
  private readonly timers = new DeadlineHeap<Missing>();
  private readonly buckets = new Map<string, TokenBucket>();
  /**
   * Missing ids in creation order, the cap evicting the first; entries that arrived or were
   * given up stay until passed or compacted (a JS Set deleted from the front makes reading its
   * first element cost every deleted slot before it: O(n) per eviction under a flood).
   */
  private readonly order = new FifoQueue<Missing>();
  private missingCount = 0;
  private readonly budget: MissingBudget;

  constructor(
    private readonly ctx: CoreContext,
    /** Makes `peer` eager in `tree` (a GRAFT asks the peer to push to this node). */
    private readonly promote: (tree: TopicTree, peer: string) => void,
  ) {
    const c = ctx.config;
    this.budget = new MissingBudget(c.newMissingPerPeerPerSecond, c.newMissingPerPeerBurst);
  }

  /** Ids with a missing-message timer. */
  get missing(): number {
    return this.missingCount;
  }

  /** Peers with a GRAFT answer budget. */
  get rateLimitedPeers(): number {
    return this.buckets.size;
  }

  /** Earliest timer. */
  nextDeadline(): number | undefined {
    return this.timers.peek();
  }

  /** Missing ids of `topic` (for its stats). */
  missingOf(tree: TopicTree): number {
    let n = 0;
    for (const s of this.ctx.ids.withMissing(tree.ids)) n += s.missing.size;
    return n;
  }

  /** Every id of `msg` not delivered yet gets (or keeps) a timer, with `from` as an announcer. */
  onIHave(tree: TopicTree, from: string, msg: IHaveMessage, nowMs: number): void {
    const ids = this.ctx.ids;
    const c = this.ctx.config;
    // Looked up on the first unknown id only: an IHAVE of ids delivered costs nothing more.
    let budget: TokenBucket | undefined;
    for (const entry of msg.entries) {
      const first = entry.id;
      const count = entry.count ?? 1;
      let s = ids.find(tree.ids, first);
      // Already delivered, all of them: nothing to do. (The optimisation only acts when the
      // IHAVE arrived first, as in the paper: then the lazy path is both shorter and faster.
      // Acting on later IHAVEs too was measured: no LDH gain, and link flapping between sources.)
      if (s !== undefined && first.seq + count - 1 <= s.low) continue;
      // A peer out of budget creates no incarnation either.
      if (s === undefined && (budget ??= this.budget.of(from, nowMs)).available(nowMs) < 1) {
        this.ctx.counters.missingOverBudget += count;
        continue;
      }
      s ??= ids.stream(tree.ids, tree.topic, first, nowMs);
      for (let seq = first.seq; seq < first.seq + count; seq++) {
        if (s.has(seq)) continue;
        let m = s.missing.get(seq);
        if (m === undefined) {
          const id = seq === first.seq ? first : { origin: first.origin, epoch: first.epoch, seq };
          // Held outside the core (a durable log): remembered, never GRAFTed.
          if (this.ctx.holds?.(tree.topic, id) === true) {
            s.add(seq, nowMs);
            continue;
          }
          if (!(budget ??= this.budget.of(from, nowMs)).tryTake(nowMs)) {
            this.ctx.counters.missingOverBudget++;
            continue;
          }
          if (this.missingCount >= c.maxMissingIds) this.evictOldest(s);
          m = {
            stream: s,
            id,
            announcers: [],
            next: 0,
            attempts: 0,
            deadlineMs: nowMs + c.graftTimeoutMs,
            armedAtMs: nowMs,
            deferrals: 0,
          };
          s.missing.set(seq, m);
          this.order.push(m);
          this.missingCount++;
          this.timers.push(m.deadlineMs, m);
        }
        if (!m.announcers.some((a) => a.peer === from)) {
          if (m.announcers.length < c.maxAnnouncersPerId) {
            m.announcers.push({ peer: from, hops: entry.hops });
          } else this.ctx.counters.announcersDropped++;
        }
        // A fresh announcement renews the right to one more GRAFT. A peer whose answer did not
        // fit a full queue announces the id again (the runtime's backpressure), possibly after
        // our last retry went out: without this the id would be given up while the peer still
        // has it. It ends when announcers stop announcing, at the latest when caches expire.
        if (m.attempts >= c.graftMaxRetries) m.attempts = c.graftMaxRetries - 1;
      }
    }
    // Re-armed and evicted timers stay in the heap until due: rebuild it once they dominate.
    if (this.timers.size > 2 * this.missingCount + 1024) {
      this.timers.compact((deadlineMs, m) => this.isLive(m) && m.deadlineMs === deadlineMs);
    }
    if (this.order.length > 2 * this.missingCount + 1024) this.order.retain((m) => this.isLive(m));
    this.ctx.scheduleMaintenance(nowMs);
  }

  /** Give the oldest missing id up to make room (the cap); counted. `current` is kept. */
  private evictOldest(current: IdStream): void {
    let oldest = this.order.shift();
    while (oldest !== undefined && !this.isLive(oldest)) oldest = this.order.shift();
    if (oldest === undefined) return;
    this.arrived(oldest.stream, oldest.id.seq);
    this.ctx.counters.missingEvicted++;
    if (oldest.stream !== current) this.ctx.ids.forgetUnused(oldest.stream);
  }

  private isLive(m: Missing): boolean {
    return m.stream.missing.get(m.id.seq) === m;
  }

  /** `id` arrived: its timer is moot. Returns the missing entry (its announcers), if any. */
  arrived(s: IdStream, seq: number): Missing | undefined {
    const m = s.missing.get(seq);
    if (m !== undefined) {
      s.missing.delete(seq);
      this.missingCount--;
    }
    return m;
  }

  /** Run the timers due at `nowMs`; GRAFTs due together to one peer share frames. */
  handleTimeout(nowMs: number): void {
    let grafts: Map<TopicTree, Map<string, MessageId[]>> | undefined;
    this.timers.forEachDue(nowMs, (m) => {
      const s = m.stream;
      if (!this.isLive(m) || m.deadlineMs > nowMs) return; // arrived, evicted, or re-armed
      const c = this.ctx.config;
      if (
        m.id.seq > s.high &&
        s.lastDeliveredAtMs >= m.armedAtMs &&
        s.high > 0 &&
        m.deferrals < MAX_DEFERRALS
      ) {
        // Its origin is still arriving in order, below this id: late, not lost.
        m.deferrals++;
        m.armedAtMs = nowMs;
        m.deadlineMs = nowMs + (m.attempts === 0 ? c.graftTimeoutMs : c.graftRetryTimeoutMs);
        this.timers.push(m.deadlineMs, m);
        this.ctx.counters.graftsDeferred++;
        return;
      }
      const tree = this.ctx.trees.get(s.topic);
      const target = this.nextTarget(tree, m, nowMs);
      if (tree === undefined || target === undefined) return;
      grafts ??= new Map();
      let byPeer = grafts.get(tree);
      if (byPeer === undefined) grafts.set(tree, (byPeer = new Map()));
      let ids = byPeer.get(target);
      if (ids === undefined) byPeer.set(target, (ids = []));
      ids.push(m.id);
    });
    if (grafts === undefined) return;
    const max = this.ctx.limits.maxGraftIds;
    for (const [tree, byPeer] of grafts) {
      if (this.ctx.trees.get(tree.topic) !== tree) continue;
      for (const [peer, ids] of byPeer) {
        this.promote(tree, peer);
        for (let i = 0; i < ids.length; i += max) {
          const chunk = ids.length <= max ? ids : ids.slice(i, i + max);
          this.ctx.send(tree, peer, { type: FrameType.Graft, topic: tree.topic, ids: chunk });
        }
        for (const id of ids)
          this.ctx.events.push({ type: 'graftSent', topic: tree.topic, peer, id });
      }
    }
  }

  /**
   * Pick the announcer for the next GRAFT of a missing id and re-arm its timer, or give the id up
   * after `graftMaxRetries` GRAFTs (or when no announcer is left, or the tree is gone).
   */
  private nextTarget(tree: TopicTree | undefined, m: Missing, nowMs: number): string | undefined {
    const c = this.ctx.config;
    if (tree === undefined || m.announcers.length === 0 || m.attempts >= c.graftMaxRetries) {
      this.arrived(m.stream, m.id.seq);
      this.ctx.counters.graftsFailed++;
      this.ctx.events.push({ type: 'graftFailed', topic: m.stream.topic, id: m.id });
      return undefined;
    }
    const target = m.announcers[m.next % m.announcers.length]!.peer;
    m.next++;
    m.attempts++;
    m.armedAtMs = nowMs;
    m.deadlineMs =
      nowMs + Math.min(c.graftRetryTimeoutMs * 2 ** (m.attempts - 1), c.graftBackoffMaxMs);
    this.timers.push(m.deadlineMs, m);
    return target;
  }

  /** Answer the ids of a GRAFT from the cache, within `from`'s answer budget. */
  serve(tree: TopicTree, from: string, msg: GraftMessage, nowMs: number): void {
    if (msg.ids.length === 0) return;
    const c = this.ctx.config;
    let bucket = this.buckets.get(from);
    if (bucket === undefined) {
      bucket = new TokenBucket(c.graftRateLimitPerSecond, c.graftRateLimitBurst, nowMs);
      this.buckets.set(from, bucket);
    }
    const counters = this.ctx.counters;
    for (const id of msg.ids) {
      const cached = this.ctx.ids.cached(tree.ids, id);
      if (cached === undefined) {
        counters.graftsMissed++;
        continue;
      }
      if (cached.hops >= MAX_FRAME_HOPS) {
        counters.hopLimitReached++;
        continue;
      }
      if (!bucket.tryTake(nowMs)) {
        counters.graftsRateLimited++;
        continue;
      }
      counters.graftsServed++;
      this.ctx.send(tree, from, { ...cached, hops: cached.hops + 1 });
    }
  }

  /** `peer` left `tree`: it announces nothing any more. */
  dropAnnouncer(tree: TopicTree, peer: string): void {
    for (const s of this.ctx.ids.withMissing(tree.ids)) {
      for (const m of s.missing.values()) {
        const i = m.announcers.findIndex((a) => a.peer === peer);
        if (i >= 0) {
          m.announcers.splice(i, 1);
          if (m.next > i) m.next--;
        }
      }
    }
  }

  /** The node left `tree`: its missing ids are given up silently. */
  forget(tree: TopicTree): void {
    for (const s of [...this.ctx.ids.withMissing(tree.ids)]) {
      this.missingCount -= s.missing.size;
      s.missing.clear();
    }
  }

  /** A peer failed: its answer budget and its missing-id budget go. */
  peerDown(peer: string): void {
    this.buckets.delete(peer);
    this.budget.peerDown(peer);
  }
}
