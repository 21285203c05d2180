/**
 * @plumtree/local-cluster: a real cluster of node processes on 127.0.0.1, each a Nest
 * application with `PlumtreeModule`, driven and watched over IPC, with real faults (kill,
 * partition, packet and frame loss). What `npm start` (apps/web-chat) and `plumtree chat`
 * (apps/cli) run. Exported: the supervisor, its options and what it reports.
 */
export { LocalCluster, type ClusterEvent } from './supervisor/local-cluster.js';
export {
  DEFAULT_ROOMS,
  defaultInitialRooms,
  LocalClusterError,
  MAX_NODES,
  type LocalClusterOptions,
  type RoomSpec,
} from './supervisor/local-cluster-options.js';
export type {
  ClusterView,
  NodeView,
  ProcessState,
  RoomView,
  SwimState,
  TreeEdge,
} from './supervisor/cluster-view.js';
export type { ChatArrival, ChatMessage } from './supervisor/chat-log.js';
export type { NodeCounters, NodeEvent, NodeFaults } from './protocol.js';
