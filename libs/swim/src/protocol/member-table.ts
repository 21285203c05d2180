/**
 * The SWIM core's member table: every known member by name, and the probe order over them
 * (memberlist's `nodeMap` and `nodes`). Probing walks the order, the membership rules change the
 * records, gossip and push-pull read them; the table itself decides only where a member sits in
 * the order and when a dead one is reaped.
 */
import { randomInt, shuffle, type Rng } from '@plumtree/common';
import { toMember, type NodeState } from './node-state.js';
import type { SwimMember } from './types.js';

/** The members a core knows, the local one included, in probe order. */
export class MemberTable {
  /** Probe order; includes the local node and dead members not yet reaped (memberlist `nodes`). */
  private order: NodeState[] = [];
  private readonly byName = new Map<string, NodeState>();

  constructor(
    /** The local node's name. */
    readonly localName: string,
  ) {}

  /** Every record in probe order (memberlist `nodes`). */
  get nodes(): readonly NodeState[] {
    return this.order;
  }

  /** Entries of the order, dead ones not yet reaped included (memberlist `estNumNodes`). */
  get size(): number {
    return this.order.length;
  }

  /** The record of that name, if known. */
  get(name: string): NodeState | undefined {
    return this.byName.get(name);
  }

  /** The local node's record (added by the core's constructor, never reaped). */
  get local(): NodeState {
    return this.byName.get(this.localName)!;
  }

  /**
   * Add a new member at a random position of the probe order: if every node appended, the failure
   * detection bound of the newest member would be a full probe pass on every node.
   */
  insert(state: NodeState, rng: Rng): void {
    this.byName.set(state.name, state);
    const n = this.order.length;
    const offset = randomInt(rng, n);
    this.order.push(state);
    [this.order[offset], this.order[n]] = [this.order[n]!, this.order[offset]!];
  }

  /**
   * memberlist `resetNodes`: drop members dead or left for longer than `reapAfterMs` (calling
   * `onReap` for each), then reshuffle the rest into a new probe order.
   */
  reapAndShuffle(nowMs: number, reapAfterMs: number, rng: Rng, onReap: (name: string) => void) {
    const keep: NodeState[] = [];
    for (const n of this.order) {
      const reap =
        (n.state === 'dead' || n.state === 'left') && nowMs - n.stateChangeMs > reapAfterMs;
      if (reap) {
        this.byName.delete(n.name);
        onReap(n.name);
      } else {
        keep.push(n);
      }
    }
    this.order = shuffle(rng, keep);
  }

  /** Members that are alive or suspect, the local node included (memberlist `Members`). */
  members(): SwimMember[] {
    return this.order.filter(isLive).map(toMember);
  }

  /** Number of alive or suspect members, the local node included (memberlist `NumMembers`). */
  numMembers(): number {
    let count = 0;
    for (const n of this.order) if (isLive(n)) count++;
    return count;
  }

  /** Alive members other than the local node, in probe order. */
  aliveOthers(): NodeState[] {
    return this.order.filter((n) => n.name !== this.localName && n.state === 'alive');
  }

  /** Whether any other member is alive or suspect. */
  anyLiveOther(): boolean {
    return this.order.some((n) => n.name !== this.localName && isLive(n));
  }
}

function isLive(n: NodeState): boolean {
  return n.state === 'alive' || n.state === 'suspect';
}
