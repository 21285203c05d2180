/**
 * Readiness of a topic (`PlumtreeNode.ready`) and link sync, which makes a publish after `ready`
 * reach subscribers whose tree links are still forming. Exported: what `ready` takes and rejects
 * with, and the link-sync window; the engines are the node's.
 */
export {
  DEFAULT_READY_TIMEOUT_MS,
  ReadyTimeoutError,
  type ReadyOptions,
} from './topic-readiness.js';
export {
  LINK_SYNC_CLOCK_SLACK_MS,
  RECENT_IDS_PER_TOPIC,
  type LinkSyncCounters,
} from './link-sync.js';
