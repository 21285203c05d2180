/**
 * The control channel between a {@link LocalCluster} and its node processes: the messages of
 * Node's `child_process.fork` IPC (JSON, one object per message). The supervisor sends commands
 * (each with an id, answered by one `reply`); a node process sends `ready`, its state (`snapshot`,
 * coalesced) and what happened (`events`, batched).
 */

/** How a node process starts (its argv[2], JSON). */
export interface NodeHostConfig {
  /** The node name (`node-1`, ...). */
  readonly name: string;
  /** Port of SWIM and the frame streams on 127.0.0.1; 0 picks a free one (the first start). */
  readonly bindPort: number;
  /** Members to join at start (`host:port`). */
  readonly seeds: readonly string[];
  /** Members Lazarus re-joins while they are not alive (heals partitions). */
  readonly staticSeeds: readonly string[];
  /** The node's LevelDB store: kept across kill and restart. */
  readonly dataDir: string;
  /** Rooms (topics) the node is in from the start. */
  readonly rooms: readonly string[];
  /** Rooms that are durable topics (logged, caught up after a restart or a partition). */
  readonly durableRooms: readonly string[];
  /** Faults in force from the start (a node restarted inside a partition stays cut off). */
  readonly faults: NodeFaults;
  /** Open every tree with all peers eager (eagerFanout = clusterSize - 1). */
  readonly eagerAll: boolean;
  /** Nodes in the cluster: the eager fanout of {@link eagerAll}. */
  readonly clusterSize: number;
  /** Seed of the node's RNGs and of its fault RNG. */
  readonly seed: number;
}

/** The faults of one node, as its fault hooks apply them. */
export interface NodeFaults {
  /** SWIM packets lost, in [0, 1], each way (libs/swim `FilteringTransport.lossRate`). */
  readonly packetLoss: number;
  /** Outgoing Plumtree frames dropped, in [0, 1] (the node's `frameFilter`). */
  readonly frameLoss: number;
  /** Addresses cut off (`host:port`), both ways: a partition. */
  readonly blocked: readonly string[];
}

/** No fault. */
export const NO_FAULTS: NodeFaults = Object.freeze({ packetLoss: 0, frameLoss: 0, blocked: [] });

/** What the supervisor asks of a node process. */
export type NodeCommand =
  | { readonly type: 'join'; readonly room: string }
  | { readonly type: 'leave'; readonly room: string }
  | { readonly type: 'send'; readonly room: string; readonly text: string }
  | { readonly type: 'faults'; readonly faults: NodeFaults }
  /**
   * Lift the blocks, then join `addresses` (the other nodes) at once: the memberlist join a
   * Lazarus round would make, without waiting for its interval.
   */
  | { readonly type: 'heal'; readonly addresses: readonly string[] }
  /**
   * Restart the node in place (graceful leave, then the same port and store) with all peers
   * eager or not, joining `seeds` (the other nodes' addresses) again.
   */
  | {
      readonly type: 'reconfigure';
      readonly eagerAll: boolean;
      readonly seeds: readonly string[];
    }
  /** Leave the cluster gracefully and exit. */
  | { readonly type: 'stop' };

/** A command with the id its reply carries. */
export type NodeRequest = NodeCommand & { readonly id: number };

/** One member as a node sees it. */
export interface MemberView {
  readonly name: string;
  readonly address: string;
  /** SWIM state: `alive`, `suspect`, `dead` or `left`. */
  readonly state: string;
  readonly incarnation: number;
}

/** One room's tree at one node: the node's eager and lazy peers for that topic. */
export interface TreeView {
  readonly eager: readonly string[];
  readonly lazy: readonly string[];
}

/** Counters of one node, since it started (the supervisor subtracts a baseline on reset). */
export interface NodeCounters {
  /** Messages this node published (broadcasts and hand-offs it injected for itself). */
  readonly published: number;
  /** Messages handed to the node's handlers, its own included. */
  readonly delivered: number;
  /** Payload copies received again (each one a redundant transmission). */
  readonly duplicates: number;
  /** Payload (GOSSIP) frames sent: eager pushes and GRAFT answers. */
  readonly gossipSent: number;
  /**
   * Payload messages received from peers: first copies plus duplicates. Counted in messages, not
   * frames: one GOSSIP_RUN frame carries many (the RMR below divides by messages).
   */
  readonly gossipReceived: number;
  readonly ihaveSent: number;
  readonly graftsSent: number;
  readonly prunesSent: number;
  /** Frames the frame-loss fault dropped. */
  readonly framesDropped: number;
  /** SWIM packets the packet-loss fault dropped (both ways). */
  readonly packetsLost: number;
}

/** The state of one node process, sent after every change (coalesced). */
export interface NodeSnapshot {
  readonly name: string;
  /** The bound `host:port`. */
  readonly address: string;
  /** The node's incarnation of message ids (its start time): changes on every (re)start. */
  readonly epoch: number;
  /** Every member the node knows, itself included, dead and left ones too. */
  readonly members: readonly MemberView[];
  /** The rooms the node is in. */
  readonly rooms: readonly string[];
  /** The tree of each room the node is in. */
  readonly trees: Readonly<Record<string, TreeView>>;
  readonly counters: NodeCounters;
  readonly faults: NodeFaults;
  readonly eagerAll: boolean;
}

/** A chat message as published (the payload, JSON). */
export interface ChatPayload {
  readonly text: string;
}

/** Something a node saw, in the order it saw it. */
export type NodeEvent =
  /** A tree change of a room (`peer` is the other end of the link). */
  | {
      readonly kind: 'tree';
      readonly type: 'promotion' | 'demotion' | 'graft' | 'prune';
      readonly topic: string;
      readonly peer: string;
    }
  /** A missing message could not be fetched from any announcer. */
  | { readonly kind: 'graft-failed'; readonly topic: string; readonly id: string }
  /** SWIM: a member changed state as this node sees it. */
  | {
      readonly kind: 'member';
      readonly type: 'join' | 'suspect' | 'failed' | 'left';
      readonly member: string;
    }
  /** The frame connection to a peer went up or down. */
  | { readonly kind: 'peer'; readonly type: 'up' | 'down'; readonly peer: string }
  /** A chat message handed to this node's handler. */
  | {
      readonly kind: 'delivery';
      readonly topic: string;
      readonly id: string;
      /** The node that published it. */
      readonly origin: string;
      readonly text: string;
      /** Tree links travelled; -1 when pulled by durable catch-up. */
      readonly hops: number;
      /** The peer this copy came from. */
      readonly receivedFrom: string;
      /** The publisher's clock at publish, ms since the epoch. */
      readonly publishedAtMs: number;
      /** Publish to delivery, ms (same host, same clock). */
      readonly latencyMs: number;
    };

/** What a node process tells the supervisor. */
export type NodeReport =
  | { readonly type: 'ready'; readonly address: string; readonly pid: number }
  | { readonly type: 'snapshot'; readonly snapshot: NodeSnapshot }
  | { readonly type: 'events'; readonly events: readonly NodeEvent[]; readonly atMs: number }
  | {
      readonly type: 'reply';
      readonly id: number;
      readonly ok: boolean;
      /** The message id of a `send`. */
      readonly value?: string;
      readonly error?: string;
    }
  /** The node could not start (bad port, store locked, ...); the process exits next. */
  | { readonly type: 'fatal'; readonly error: string };

/** Whether an IPC message has the shape of a {@link NodeReport} (the type tag is checked). */
export function isNodeReport(m: unknown): m is NodeReport {
  if (typeof m !== 'object' || m === null) return false;
  const t = (m as { type?: unknown }).type;
  return t === 'ready' || t === 'snapshot' || t === 'events' || t === 'reply' || t === 'fatal';
}

/** Whether an IPC message has the shape of a {@link NodeRequest}. */
export function isNodeRequest(m: unknown): m is NodeRequest {
  if (typeof m !== 'object' || m === null) return false;
  const { type, id } = m as { type?: unknown; id?: unknown };
  return (
    typeof id === 'number' &&
    (type === 'join' ||
      type === 'leave' ||
      type === 'send' ||
      type === 'faults' ||
      type === 'heal' ||
      type === 'reconfigure' ||
      type === 'stop')
  );
}
