import { randomInt } from '@plumtree/common';
import { FrameType } from '../types.js';
import type { CoreContext } from './core-context.js';
import type { LazyPush } from './lazy-push.js';
import type { TopicTree } from './topic-tree.js';

const RECENTLY_DOWN_CAP = 256;

/**
 * How long after a PRUNE the pruned peer's payloads are taken as sent before it read the PRUNE:
 * a duplicate from it earns no second PRUNE, and a new message from it does not make it eager
 * again. In a burst a link carries hundreds of messages in flight (a queue up to its high-water
 * mark plus the socket buffers, seconds behind a busy receiver); without the hold, each of them
 * that arrived first re-promoted the link and each that arrived second sent a PRUNE, so the tree
 * kept flipping between paths (a 9-node in-process burst of 5,000: 16,384 duplicates and 15,874
 * PRUNEs for 40,000 deliveries; 0 and 0 with the hold). After it a duplicate is PRUNEd again, in
 * case the first PRUNE was lost with its connection. Not "until a GRAFT": a peer that opens an
 * eager link when it joins or refills its tree just pushes, and would stay one-sided. A peer
 * needed during the hold is reached through IHAVE and GRAFT, which promote it explicitly.
 */
export const PRUNE_HOLD_MS = 1_000;

/**
 * Tree maintenance: which peers of a topic are eager (payload) and lazy (IHAVE) links, and how
 * they change: promotion and demotion, the paper's optimisation swap, refilling a tree whose
 * peers failed, and choosing new links from the topic's view (a random sample ranked by RTT).
 */
export class TreeLinks {
  private readonly rtt = new Map<string, number>();
  /**
   * Peers reported down, most recent last, at most {@link RECENTLY_DOWN_CAP}. The view is
   * authoritative; this only covers the moment between `peerDown` and the view's update, so a
   * refill never picks the peer that just failed.
   */
  private readonly recentlyDown = new Set<string>();

  constructor(
    private readonly ctx: CoreContext,
    private readonly lazyPush: LazyPush,
  ) {}

  /** A round-trip time measured by the membership layer; an EWMA (alpha 0.3, as the reference). */
  recordRtt(peer: string, rttMs: number): void {
    const prev = this.rtt.get(peer);
    this.rtt.set(peer, prev === undefined ? rttMs : prev + 0.3 * (rttMs - prev));
  }

  /** `peer` failed or left: never picked until it is up again. */
  peerDown(peer: string): void {
    this.recentlyDown.delete(peer);
    this.recentlyDown.add(peer);
    if (this.recentlyDown.size > RECENTLY_DOWN_CAP) {
      this.recentlyDown.delete(this.recentlyDown.values().next().value as string);
    }
    this.rtt.delete(peer);
  }

  /** `peer` is up again: a candidate again. */
  peerUp(peer: string): void {
    this.recentlyDown.delete(peer);
  }

  promote(tree: TopicTree, peer: string): void {
    tree.prunedAtMs.delete(peer);
    if (peer === this.ctx.self || tree.eager.has(peer)) return;
    const wasLazy = tree.lazy.delete(peer);
    tree.eager.add(peer);
    this.ctx.events.push({ type: 'eagerPromotion', topic: tree.topic, peer });
    // The pending IHAVE batch goes to lazy peers only: a lazy peer promoted before the flush
    // would never hear of the messages in it (they were accepted while it was lazy, so it got no
    // GOSSIP either).
    if (wasLazy) this.lazyPush.announcePendingTo(tree, peer);
  }

  demote(tree: TopicTree, peer: string): void {
    const c = this.ctx.config;
    if (!tree.eager.delete(peer)) {
      if (!tree.lazy.has(peer) && tree.lazy.size < c.lazyFanout) tree.lazy.add(peer);
      return;
    }
    if (tree.lazy.size < c.lazyFanout) tree.lazy.add(peer);
    this.ctx.events.push({ type: 'lazyDemotion', topic: tree.topic, peer });
  }

  /** A payload from `peer` that this node already had: PRUNE the link (see {@link PRUNE_HOLD_MS}). */
  onDuplicate(tree: TopicTree, peer: string, nowMs: number): void {
    if (!tree.eager.has(peer) && this.inHold(tree, peer, nowMs)) return;
    this.prune(tree, peer, nowMs);
  }

  /** A new payload from `peer`: symmetric links make it eager (see {@link PRUNE_HOLD_MS}). */
  onPayload(tree: TopicTree, peer: string, nowMs: number): void {
    if (tree.eager.has(peer) || this.inHold(tree, peer, nowMs)) return;
    this.promote(tree, peer);
  }

  private inHold(tree: TopicTree, peer: string, nowMs: number): boolean {
    const at = tree.prunedAtMs.get(peer);
    return at !== undefined && nowMs - at < PRUNE_HOLD_MS;
  }

  /** Make `peer` lazy and tell it (PRUNE), e.g. a duplicate came by its link. */
  prune(tree: TopicTree, peer: string, nowMs: number): void {
    tree.prunedAtMs.set(peer, nowMs);
    this.demote(tree, peer);
    this.ctx.send(tree, peer, { type: FrameType.Prune, topic: tree.topic });
    this.ctx.events.push({ type: 'pruneSent', topic: tree.topic, peer });
  }

  /** Make `closer` eager (GRAFT without ids) and `farther` lazy (PRUNE): the optimisation. */
  swap(tree: TopicTree, closer: string, farther: string, nowMs: number): void {
    this.ctx.counters.optimizations++;
    this.promote(tree, closer);
    this.ctx.send(tree, closer, { type: FrameType.Graft, topic: tree.topic, ids: [] });
    this.ctx.events.push({ type: 'graftSent', topic: tree.topic, peer: closer });
    this.prune(tree, farther, nowMs);
  }

  /** `peer` left `tree`: drop the link and refill. Returns whether it was a neighbour. */
  remove(tree: TopicTree, peer: string, nowMs: number): boolean {
    tree.prunedAtMs.delete(peer);
    const was = tree.eager.delete(peer) || tree.lazy.delete(peer);
    if (was) this.refill(tree, nowMs);
    return was;
  }

  /** Links a tree keeps when peers fail: what a join leaves on average (own links plus as many inbound). */
  get targetDegree(): number {
    return 2 * this.ctx.config.eagerFanout;
  }

  /**
   * On join: open `eagerFanout` eager links. Later, when peers fail: bring the tree back to
   * `2 * eagerFanout` links with lazy links (PRUNE from a non-neighbour = "keep me lazy"), plus
   * one eager link if the node has no eager peer left. A converged tree is not disturbed:
   * redundant eager links would only be pruned again, and a subtree cut off by a failure is
   * repaired through IHAVE/GRAFT within one graft timeout.
   */
  refill(tree: TopicTree, _nowMs: number): void {
    const c = this.ctx.config;
    if (c.flood) {
      // Every peer of the view eager, without GRAFT: every other node does the same.
      for (const peer of this.sampleView(tree, tree.view.size)) this.promote(tree, peer);
      return;
    }
    const young = tree.delivered === 0 && tree.lazy.size === 0;
    const eagerWanted = young ? c.eagerFanout - tree.eager.size : tree.eager.size === 0 ? 1 : 0;
    if (eagerWanted > 0) {
      for (const peer of this.pickEager(tree, eagerWanted)) {
        this.promote(tree, peer);
        this.ctx.send(tree, peer, { type: FrameType.Graft, topic: tree.topic, ids: [] });
      }
    }
    if (young) return;
    const lazyWanted = Math.min(this.targetDegree - tree.degree, c.lazyFanout - tree.lazy.size);
    if (lazyWanted > 0) {
      for (const peer of this.sampleView(tree, lazyWanted)) {
        tree.lazy.add(peer);
        this.ctx.send(tree, peer, { type: FrameType.Prune, topic: tree.topic });
      }
    }
  }

  /**
   * Eager candidates: a random sample of twice the need from the view, ranked by measured RTT
   * (unmeasured peers after measured ones, in sample order). Sampling first keeps the eager graph
   * random (small-world, shallow trees) while RTT breaks the choice towards close peers.
   */
  private pickEager(tree: TopicTree, need: number): string[] {
    const sample = this.sampleView(tree, need * 2);
    if (sample.length <= need) return sample;
    const rtt = this.rtt;
    const ranked = sample
      .map((peer, i) => ({ peer, i, r: rtt.get(peer) ?? Number.POSITIVE_INFINITY }))
      .sort((a, b) => a.r - b.r || a.i - b.i);
    return ranked.slice(0, need).map((x) => x.peer);
  }

  /** Up to `count` distinct random peers of the view that are not self and not yet neighbours. */
  private sampleView(tree: TopicTree, count: number): string[] {
    const view = tree.view;
    const out: string[] = [];
    if (count <= 0 || view.size === 0) return out;
    const picked = new Set<string>();
    const rng = this.ctx.rng;
    // Random probes first (cheap on large views), then a scan from a random offset so small or
    // mostly unavailable views still yield every candidate.
    const probes = Math.min(view.size, 4 * count + 8);
    for (let k = 0; k < probes && out.length < count; k++) {
      const p = view.at(randomInt(rng, view.size));
      if (p !== undefined && this.eligible(tree, p) && !picked.has(p)) {
        picked.add(p);
        out.push(p);
      }
    }
    if (out.length < count && view.size <= 4096) {
      const start = randomInt(rng, view.size);
      for (let k = 0; k < view.size && out.length < count; k++) {
        const p = view.at((start + k) % view.size);
        if (p !== undefined && this.eligible(tree, p) && !picked.has(p)) {
          picked.add(p);
          out.push(p);
        }
      }
    }
    return out;
  }

  private eligible(tree: TopicTree, p: string): boolean {
    return p !== this.ctx.self && !tree.isNeighbour(p) && !this.recentlyDown.has(p);
  }
}
