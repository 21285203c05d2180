import { shuffle, type Rng } from '@plumtree/common';
import type { TopicView } from '@plumtree/plumtree';
import type { SimProtocol, SimProtocolNode } from '../protocol-adapter.js';
import { BaselineNode, type DataCopy } from './baseline-node.js';
import { sampleView } from './sample-view.js';

/**
 * A gossipsub-style mesh (libp2p gossipsub v1.0/v1.1 router), as a simulator model.
 *
 * Modelled (v1.0 core and the v1.1 parts that shape traffic):
 * - per-topic mesh with D=6, D_lo=4, D_hi=12; joining GRAFTs D random topic peers;
 * - heartbeat every 1 s with a random per-node phase: drop down peers, GRAFT up to D when below
 *   D_lo, PRUNE random extras down to D when above D_hi;
 * - PRUNE backoff (v1.1): a pruned peer is not re-grafted for `pruneBackoffMs` (60 s), and a
 *   GRAFT from a peer we are backing off is answered with PRUNE;
 * - message cache of the last 5 heartbeat windows (`mcache_len`), gossip of the last 3
 *   (`mcache_gossip`): each heartbeat sends IHAVE with those ids to D_lazy random topic peers
 *   outside the mesh;
 * - IWANT sent at once for every id in an IHAVE that was not seen yet, answered from the cache
 *   (each answer is a payload transmission); answers are forwarded like any new message;
 * - forwarding of a new message to every mesh peer except the one it came from and its origin;
 * - peers reported down by the membership oracle leave every mesh at once.
 * Not modelled: peer scoring and everything built on it (D_score, opportunistic grafting,
 * graylisting, P7 behaviour penalties), D_out outbound quotas, peer exchange on PRUNE, fanout
 * for topics a node publishes to without subscribing (publishers here always subscribe),
 * flood publishing, adaptive gossip (gossip_factor), IDONTWANT (v1.2), IWANT promise tracking
 * and gossip_retransmission limits, message validation, seen-cache expiry (runs are shorter
 * than the 2 min seen TTL).
 */

/** Frames of the gossipsub model. */
export type MeshMessage = MeshData | MeshIHave | MeshIWant | MeshGraft | MeshPrune;

/** A payload copy (a forward or an IWANT answer). */
export type MeshData = DataCopy;

/** Gossip: ids in the sender's cache (last `gossipWindows` heartbeats). */
export interface MeshIHave {
  readonly kind: 'ihave';
  readonly topic: string;
  readonly keys: readonly string[];
}

/** Request for ids announced by an IHAVE. */
export interface MeshIWant {
  readonly kind: 'iwant';
  readonly topic: string;
  readonly keys: readonly string[];
}

/** "Add me to your mesh." */
export interface MeshGraft {
  readonly kind: 'graft';
  readonly topic: string;
}

/** "I removed you from my mesh; do not graft me for a while." */
export interface MeshPrune {
  readonly kind: 'prune';
  readonly topic: string;
}

/** Parameters of the gossipsub model (gossipsub's names and defaults). */
export interface GossipsubOptions {
  readonly D: number;
  readonly Dlo: number;
  readonly Dhi: number;
  readonly Dlazy: number;
  readonly heartbeatMs: number;
  /** Heartbeat windows kept in the message cache. */
  readonly mcacheLen: number;
  /** Most recent windows announced in IHAVE. */
  readonly mcacheGossip: number;
  readonly pruneBackoffMs: number;
}

/** gossipsub v1.1 defaults. */
export const GOSSIPSUB_DEFAULTS: GossipsubOptions = {
  D: 6,
  Dlo: 4,
  Dhi: 12,
  Dlazy: 6,
  heartbeatMs: 1_000,
  mcacheLen: 5,
  mcacheGossip: 3,
  pruneBackoffMs: 60_000,
};

interface TopicState {
  readonly view: TopicView;
  readonly mesh: Set<string>;
  readonly backoff: Map<string, number>;
  /** Message keys per heartbeat window, newest first. */
  readonly windows: string[][];
}

class MeshNode extends BaselineNode<MeshMessage> implements SimProtocolNode<MeshMessage> {
  private readonly topics = new Map<string, TopicState>();
  /** Cached messages by key (as this node forwards them: hops = what it sends). */
  private readonly cache = new Map<string, MeshData>();
  private nextHeartbeatMs: number;

  constructor(
    self: string,
    private readonly rng: Rng,
    private readonly o: GossipsubOptions,
  ) {
    super(self);
    this.nextHeartbeatMs = rng.next() * o.heartbeatMs;
  }

  subscribe(topic: string, view: TopicView, nowMs: number): void {
    if (this.topics.has(topic)) return;
    const st: TopicState = { view, mesh: new Set(), backoff: new Map(), windows: [[]] };
    this.topics.set(topic, st);
    this.graftUpTo(topic, st, this.o.D, nowMs);
  }

  peerDown(peer: string): void {
    for (const st of this.topics.values()) st.mesh.delete(peer);
  }

  recordRtt(): void {}

  handleMessage(from: string, msg: MeshMessage, nowMs: number): void {
    const st = this.topics.get(msg.topic);
    if (st === undefined) return; // not subscribed: ignored (the harness counts the frame)
    switch (msg.kind) {
      case 'data':
        this.receive(msg, from);
        return;
      case 'ihave': {
        let want: string[] | undefined;
        for (const k of msg.keys) if (!this.seen.has(k)) (want ??= []).push(k);
        if (want !== undefined)
          this.out.push({ to: from, message: { kind: 'iwant', topic: msg.topic, keys: want } });
        return;
      }
      case 'iwant':
        for (const k of msg.keys) {
          const m = this.cache.get(k);
          if (m !== undefined) this.out.push({ to: from, message: m });
        }
        return;
      case 'graft': {
        const until = st.backoff.get(from);
        if (until !== undefined && until > nowMs) {
          this.out.push({ to: from, message: { kind: 'prune', topic: msg.topic } });
          return;
        }
        if (st.view.has(from)) st.mesh.add(from);
        return;
      }
      case 'prune':
        st.mesh.delete(from);
        st.backoff.set(from, nowMs + this.o.pruneBackoffMs);
        return;
    }
  }

  handleTimeout(nowMs: number): void {
    while (this.nextHeartbeatMs <= nowMs) {
      this.heartbeat(nowMs);
      this.nextHeartbeatMs += this.o.heartbeatMs;
    }
  }

  pollTimeout(): number | undefined {
    return this.nextHeartbeatMs;
  }

  /** A new message (own or received): cache it and forward it to the mesh. */
  protected forward(msg: MeshData, from: string | undefined): void {
    const st = this.topics.get(msg.topic);
    if (st === undefined) return;
    this.cache.set(msg.key, msg);
    st.windows[0]!.push(msg.key);
    const origin = msg.id.origin;
    for (const p of st.mesh) if (p !== from && p !== origin) this.out.push({ to: p, message: msg });
  }

  private heartbeat(nowMs: number): void {
    const o = this.o;
    for (const [topic, st] of this.topics) {
      for (const p of st.mesh) if (!st.view.has(p)) st.mesh.delete(p);
      for (const [p, until] of st.backoff) if (until <= nowMs) st.backoff.delete(p);
      if (st.mesh.size < o.Dlo) this.graftUpTo(topic, st, o.D, nowMs);
      else if (st.mesh.size > o.Dhi) {
        const members = shuffle(this.rng, [...st.mesh]);
        const prune: MeshPrune = { kind: 'prune', topic };
        for (const p of members.slice(o.D)) {
          st.mesh.delete(p);
          st.backoff.set(p, nowMs + o.pruneBackoffMs);
          this.out.push({ to: p, message: prune });
        }
      }
      // Gossip the ids of the last mcacheGossip windows to Dlazy non-mesh peers.
      let keys: string[] | undefined;
      for (let w = 0; w < Math.min(o.mcacheGossip, st.windows.length); w++) {
        const win = st.windows[w]!;
        if (win.length > 0) (keys ??= []).push(...win);
      }
      if (keys !== undefined) {
        const ihave: MeshIHave = { kind: 'ihave', topic, keys };
        for (const p of sampleView(st.view, o.Dlazy, this.rng, (q) => !st.mesh.has(q))) {
          this.out.push({ to: p, message: ihave });
        }
      }
      // Shift the cache windows.
      st.windows.unshift([]);
      if (st.windows.length > o.mcacheLen) for (const k of st.windows.pop()!) this.cache.delete(k);
    }
  }

  private graftUpTo(topic: string, st: TopicState, target: number, nowMs: number): void {
    const need = target - st.mesh.size;
    if (need <= 0) return;
    const graft: MeshGraft = { kind: 'graft', topic };
    const picked = sampleView(st.view, need, this.rng, (q) => {
      if (st.mesh.has(q)) return false;
      const until = st.backoff.get(q);
      return until === undefined || until <= nowMs;
    });
    for (const p of picked) {
      st.mesh.add(p);
      this.out.push({ to: p, message: graft });
    }
  }
}

/** The gossipsub-style mesh baseline as a simulator protocol. */
export function gossipsubProtocol(
  options: Partial<GossipsubOptions> = {},
): SimProtocol<MeshMessage> {
  const resolved: GossipsubOptions = { ...GOSSIPSUB_DEFAULTS, ...options };
  return {
    name: 'gossipsub',
    createNode: (self, rng) => new MeshNode(self, rng, resolved),
    topicOf: (msg) => msg.topic,
    payloadIdOf: (msg) => (msg.kind === 'data' ? msg.id : undefined),
  };
}
