/**
 * @plumtree/store: the per-node LevelDB store (peers, incarnation, subscriptions, durable topic
 * logs). docs/persistence.md describes what is stored and the recovery procedures.
 */
export { NodeStore, type NodeStoreOptions, type StoredPeer } from './node-store.js';
export {
  TopicLog,
  type DurableRecord,
  type PeerMark,
  type StreamMark,
  type TopicLogOptions,
  type TopicLogStats,
} from './topic-log.js';
export { StoreCorruptError, StoreError, StoreLockedError } from './store-errors.js';
