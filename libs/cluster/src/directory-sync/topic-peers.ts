/**
 * The membership view of one topic that the Plumtree core samples: the alive members whose
 * directory entry matches the topic, this node excluded. The node recomputes it when the
 * directory or the membership changes and tells the core what left (`neighbourDown`) and that
 * candidates arrived (`subscribe` again, which refills a tree below its degree).
 */
import type { TopicView } from '@plumtree/plumtree';

/** A {@link TopicView} over a plain array, replaced wholesale on every refresh. */
export class TopicPeers implements TopicView {
  private peers: string[] = [];
  private members = new Set<string>();

  constructor(readonly topic: string) {}

  get size(): number {
    return this.peers.length;
  }

  at(i: number): string | undefined {
    return this.peers[i];
  }

  has(peer: string): boolean {
    return this.members.has(peer);
  }

  /** The current peers (a copy). */
  list(): string[] {
    return [...this.peers];
  }

  /** Replace the peers; returns those that left and how many arrived. */
  update(next: readonly string[]): { removed: string[]; added: number } {
    const nextSet = new Set(next);
    const removed: string[] = [];
    for (const p of this.peers) if (!nextSet.has(p)) removed.push(p);
    let added = 0;
    for (const p of nextSet) if (!this.members.has(p)) added++;
    this.peers = [...nextSet];
    this.members = nextSet;
    return { removed, added };
  }
}
