/**
 * @plumtree/local-cluster: a real cluster of node processes on 127.0.0.1, each a Nest
 * application with `PlumtreeModule`, driven and watched over IPC, with real faults (kill,
 * partition, packet and frame loss). What `npm start` (apps/web-chat) and `plumtree chat`
 * (apps/cli) run. Exported: the supervisor, its options and what it reports.
 */
export type { NodeCounters as NodeViewCounters, NodeEvent, NodeFaults } from './protocol.js';
export type { ChatArrival, ChatMessage } from './supervisor/chat-log.js';
export type {
  ClusterView,
  NodeView,
  ProcessState,
  RoomView,
  SwimState,
  TreeEdge,
} from './supervisor/cluster-view.js';
export { LocalClusterError, MAX_NODES } from './supervisor/local-cluster-options.js';
export type { LocalClusterOptions, RoomSpec } from './supervisor/local-cluster-options.js';
export { LocalCluster } from './supervisor/local-cluster.js';
export type { ClusterEvent } from './supervisor/local-cluster.js';
