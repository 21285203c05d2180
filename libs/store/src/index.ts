/**
 * @plumtree/store: the per-node LevelDB store (peers, incarnation, subscriptions, durable topic
 * logs). docs/persistence.md describes what is stored and the recovery procedures.
 */
export { NodeStore } from './node-store.js';
export type { NodeStoreOptions, StoredPeer } from './node-store.js';
export { StoreCorruptError, StoreError, StoreLockedError } from './store-errors.js';
export { TopicLog } from './topic-log.js';
export type {
  DurableRecord,
  PeerMark,
  StoreDb,
  StreamMark,
  TopicLogOptions,
  TopicLogStats,
} from './topic-log.js';
