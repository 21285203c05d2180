/**
 * What a local cluster looks like, computed from the nodes' own reports (pure, no IO): each
 * node's SWIM state as the other running nodes see it, each room's tree from every member's
 * eager and lazy peer sets, and whether the eager links span the room's live members.
 */
import type { MemberView, NodeCounters, NodeFaults, NodeSnapshot } from '../protocol.js';

/** The life of a node process. */
export type ProcessState = 'starting' | 'running' | 'restarting' | 'stopping' | 'killed' | 'exited';

/** A SWIM state as shown: the members' own, or `unknown` when no running node knows it. */
export type SwimState = 'alive' | 'suspect' | 'dead' | 'left' | 'unknown';

/** One link of a room's tree, between two nodes (`a` < `b`). */
export interface TreeEdge {
  readonly a: string;
  readonly b: string;
  /** `eager` when either end pushes payloads on it; `lazy` when both ends only announce. */
  readonly kind: 'eager' | 'lazy';
  /**
   * Which ends hold the link as eager: `both` (a settled eager link), `a` or `b` (only that
   * end does, for a moment: a GRAFT or PRUNE is on its way), `none` for lazy links.
   */
  readonly eagerAt: 'both' | 'a' | 'b' | 'none';
}

/** One room (topic) and its tree. */
export interface RoomView {
  readonly name: string;
  readonly durable: boolean;
  /** Running nodes in the room. */
  readonly members: readonly string[];
  readonly edges: readonly TreeEdge[];
  /** Members seen alive by the cluster: the nodes the tree has to reach. */
  readonly liveMembers: readonly string[];
  /** Parts of the eager graph among the live members (1: it spans them). */
  readonly eagerComponents: number;
  /** Whether the eager links alone connect every live member. */
  readonly spanning: boolean;
  /** Whether eager and lazy links together connect every live member (IHAVE reaches them). */
  readonly connected: boolean;
}

/** One node as shown. */
export interface NodeView {
  readonly name: string;
  /** `host:port` of SWIM and the frames (empty before the first start). */
  readonly address: string;
  readonly pid: number | null;
  readonly process: ProcessState;
  /**
   * The state the other running nodes agree on (the most common; ties go to the worse); during a
   * partition, the nodes of its own side (the other side sees it dead: {@link seenBy} has both).
   */
  readonly swim: SwimState;
  /** Each running observer's view of this node. */
  readonly seenBy: Readonly<Record<string, SwimState>>;
  readonly rooms: readonly string[];
  readonly faults: NodeFaults;
  /** Counters since the last reset (or since the node started, when later). */
  readonly counters: NodeCounters;
  /** Relative message redundancy of the payloads it received: duplicates / first copies. */
  readonly rmr: number | null;
  readonly eagerAll: boolean;
}

/** Everything a front-end draws. */
export interface ClusterView {
  readonly nodes: readonly NodeView[];
  readonly rooms: readonly RoomView[];
  /** The partition in force: groups of node names; null when none. */
  readonly partition: readonly (readonly string[])[] | null;
  /** Trees open with every peer eager (the E key). */
  readonly eagerAll: boolean;
  /** A reconfiguration (all eager on or off) is rolling through the nodes. */
  readonly reconfiguring: boolean;
  /** Sums over the nodes, and the cluster's RMR. */
  readonly totals: NodeCounters & { readonly rmr: number | null };
  /** Deliveries per second, cluster-wide, one sample a second, oldest first. */
  readonly rate: readonly number[];
}

/** What the supervisor knows of one node. */
export interface NodeRecord {
  readonly name: string;
  readonly address: string;
  readonly pid: number | null;
  readonly process: ProcessState;
  /** Its last report while running; undefined when not running. */
  readonly snapshot: NodeSnapshot | undefined;
  /** Its counters minus the baseline of the last reset. */
  readonly counters: NodeCounters;
  /** Faults asked for (applied at the next start when not running). */
  readonly faults: NodeFaults;
  /** Rooms asked for (joined at the next start when not running). */
  readonly rooms: readonly string[];
}

/** Zero counters. */
export const ZERO_COUNTERS: NodeCounters = Object.freeze({
  published: 0,
  delivered: 0,
  duplicates: 0,
  gossipSent: 0,
  gossipReceived: 0,
  ihaveSent: 0,
  graftsSent: 0,
  prunesSent: 0,
  framesDropped: 0,
  packetsLost: 0,
});

/** Severity of a SWIM state, for ties: worse wins. */
const SEVERITY: Record<SwimState, number> = { alive: 0, unknown: 1, suspect: 2, left: 3, dead: 4 };

function asSwimState(s: string | undefined): SwimState {
  return s === 'alive' || s === 'suspect' || s === 'dead' || s === 'left' ? s : 'unknown';
}

/**
 * Each running observer's view of `name`, and the state they agree on: the votes of the
 * observers `voter` accepts (default all; during a partition, those of the node's side). A node
 * no other voter reports on (alone, or everyone else down) is shown as it sees itself.
 */
export function swimConsensus(
  name: string,
  observers: readonly NodeSnapshot[],
  voter: (observer: string) => boolean = () => true,
): { swim: SwimState; seenBy: Record<string, SwimState> } {
  const seenBy: Record<string, SwimState> = {};
  const votes = new Map<SwimState, number>();
  let self: SwimState = 'unknown';
  for (const o of observers) {
    const m: MemberView | undefined = o.members.find((x) => x.name === name);
    const state = asSwimState(m?.state);
    if (o.name === name) {
      self = state;
      continue;
    }
    seenBy[o.name] = state;
    if (voter(o.name)) votes.set(state, (votes.get(state) ?? 0) + 1);
  }
  if (votes.size === 0) return { swim: self, seenBy };
  let best: SwimState = 'unknown';
  let bestVotes = -1;
  for (const [state, n] of votes) {
    if (n > bestVotes || (n === bestVotes && SEVERITY[state] > SEVERITY[best])) {
      best = state;
      bestVotes = n;
    }
  }
  return { swim: best, seenBy };
}

/** The links of `room` from the members' eager and lazy sets (a link once, ends sorted). */
export function treeEdges(room: string, snapshots: readonly NodeSnapshot[]): TreeEdge[] {
  const links = new Map<string, { a: string; b: string; eagerA: boolean; eagerB: boolean }>();
  const link = (x: string, y: string) => {
    const [a, b] = x < y ? [x, y] : [y, x];
    const key = `${a}\u0000${b}`;
    let l = links.get(key);
    if (l === undefined) {
      l = { a, b, eagerA: false, eagerB: false };
      links.set(key, l);
    }
    return l;
  };
  for (const s of snapshots) {
    const tree = s.trees[room];
    if (tree === undefined) continue;
    for (const peer of tree.eager) {
      if (peer === s.name) continue;
      const l = link(s.name, peer);
      if (l.a === s.name) l.eagerA = true;
      else l.eagerB = true;
    }
    for (const peer of tree.lazy) if (peer !== s.name) link(s.name, peer);
  }
  return [...links.values()]
    .map((l): TreeEdge => ({
      a: l.a,
      b: l.b,
      kind: l.eagerA || l.eagerB ? 'eager' : 'lazy',
      eagerAt: l.eagerA && l.eagerB ? 'both' : l.eagerA ? 'a' : l.eagerB ? 'b' : 'none',
    }))
    .sort((x, y) => (x.a === y.a ? (x.b < y.b ? -1 : 1) : x.a < y.a ? -1 : 1));
}

/** Connected parts of the graph of `edges` restricted to `nodes` (union-find). */
export function components(nodes: readonly string[], edges: readonly TreeEdge[]): number {
  const parent = new Map(nodes.map((n) => [n, n]));
  const find = (n: string): string => {
    let r = n;
    while (parent.get(r) !== r) r = parent.get(r)!;
    parent.set(n, r);
    return r;
  };
  let parts = nodes.length;
  for (const e of edges) {
    if (!parent.has(e.a) || !parent.has(e.b)) continue;
    const ra = find(e.a);
    const rb = find(e.b);
    if (ra !== rb) {
      parent.set(ra, rb);
      parts--;
    }
  }
  return parts;
}

/** RMR of payloads received: duplicates per first copy; null before any payload arrived. */
export function rmr(c: NodeCounters): number | null {
  const firsts = c.gossipReceived - c.duplicates;
  return firsts > 0 ? c.duplicates / firsts : null;
}

function sumCounters(all: readonly NodeCounters[]): NodeCounters {
  const out: Record<keyof NodeCounters, number> = { ...ZERO_COUNTERS };
  for (const c of all) {
    for (const k of Object.keys(out) as (keyof NodeCounters)[]) out[k] += c[k];
  }
  return out;
}

/** The whole view. */
export function buildClusterView(input: {
  readonly nodes: readonly NodeRecord[];
  readonly rooms: readonly { readonly name: string; readonly durable: boolean }[];
  readonly partition: readonly (readonly string[])[] | null;
  readonly eagerAll: boolean;
  readonly reconfiguring: boolean;
  readonly rate: readonly number[];
}): ClusterView {
  const snapshots = input.nodes
    .filter((n) => n.process === 'running' || n.process === 'restarting')
    .map((n) => n.snapshot)
    .filter((s): s is NodeSnapshot => s !== undefined);
  const sideOf = new Map<string, number>();
  input.partition?.forEach((g, i) => g.forEach((n) => sideOf.set(n, i)));
  const nodes: NodeView[] = input.nodes.map((n) => {
    const { swim, seenBy } = swimConsensus(
      n.name,
      snapshots,
      (o) => sideOf.get(o) === sideOf.get(n.name),
    );
    return {
      name: n.name,
      address: n.address,
      pid: n.pid,
      process: n.process,
      swim,
      seenBy,
      rooms: n.snapshot?.rooms ?? n.rooms,
      faults: n.faults,
      counters: n.counters,
      rmr: rmr(n.counters),
      eagerAll: n.snapshot?.eagerAll ?? input.eagerAll,
    };
  });
  const alive = new Set(
    nodes.filter((n) => n.swim === 'alive' && n.process === 'running').map((n) => n.name),
  );
  const rooms: RoomView[] = input.rooms.map((r) => {
    const inRoom = snapshots.filter((s) => s.rooms.includes(r.name));
    const members = inRoom.map((s) => s.name);
    const edges = treeEdges(r.name, inRoom);
    const live = members.filter((m) => alive.has(m));
    const eagerComponents = components(
      live,
      edges.filter((e) => e.kind === 'eager'),
    );
    return {
      name: r.name,
      durable: r.durable,
      members,
      edges,
      liveMembers: live,
      eagerComponents,
      spanning: live.length > 0 && eagerComponents === 1,
      connected: live.length > 0 && components(live, edges) === 1,
    };
  });
  const totals = sumCounters(input.nodes.map((n) => n.counters));
  return {
    nodes,
    rooms,
    partition: input.partition,
    eagerAll: input.eagerAll,
    reconfiguring: input.reconfiguring,
    totals: { ...totals, rmr: rmr(totals) },
    rate: input.rate,
  };
}
