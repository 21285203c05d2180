/**
 * @plumtree/cluster: the runtime of one node, framework-free: SWIM membership, the topic
 * directory, one Plumtree tree per topic and the stream transport of its frames.
 *
 * The public API is what docs/cluster.md shows, the errors a caller catches, and the types those
 * signatures name (api/cluster.api.md is its report, checked by `npm test`). Internals (codecs,
 * engines, queues) are not exported: code and tests inside the package import them by path.
 */
export type { DeliveryQueueStats } from './delivery/delivery-queue.js';
// Whole modules, all public: the delivery types, the node's errors, the request errors.
export type * from './delivery/delivery.js';
export { UnserializablePayloadError } from './delivery/json-payload.js';
export type { PayloadCodec } from './delivery/payload-codec.js';
export type { DeliveryCounters } from './delivery/subscriptions.js';
export { DirectoryMessageKind, peekDirectoryKind } from './directory/directory-codec.js';
export { DirectoryLimitError, InvalidTopicError } from './directory/directory-errors.js';
export type { DirectoryStats } from './directory/topic-directory.js';
export {
  MAX_TOPIC_BYTES,
  topicMatches,
  validatePattern,
  validateTopic,
} from './directory/topic-pattern.js';
export type {
  CatchupFailure,
  CatchupReason,
  DurableReplicatorEvent,
  DurableReplicatorStats,
  DurableTopicStats,
} from './durable/durable-replicator-types.js';
export type { QueueGroupCounters } from './groups/queue-groups.js';
export type { HandoffCounters } from './handoff/handoff.js';
export { Lazarus } from './lazarus/lazarus.js';
export type {
  LazarusHost,
  LazarusOptions,
  LazarusReconnection,
  LazarusStats,
  SetTimer,
} from './lazarus/lazarus.js';
export { validateSeedAddresses } from './lazarus/seed-address.js';
export { createPlumtreeMetrics } from './metrics/plumtree-metrics.js';
export type { PlumtreeMetrics, PlumtreeMetricsOptions } from './metrics/plumtree-metrics.js';
export * from './node/errors.js';
export type { NodeLimits } from './node/limits-options.js';
export type {
  LimitCounters,
  NodeCounters,
  NodeTopicStats,
  PlumtreeNodeStats,
} from './node/node-stats.js';
export type { PersistenceSettings } from './node/persistence-options.js';
export {
  LIMITS_DEFAULTS,
  resolvePlumtreeNodeOptions,
  withoutSeeds,
} from './node/plumtree-node-options.js';
export type {
  LimitsOptions,
  NodeOptionsFilledIn as PlumtreeNodeSettings,
  PlumtreeNodeOptions,
  ResolvedNodeOptions,
} from './node/plumtree-node-options.js';
export { PlumtreeNode } from './node/plumtree-node.js';
export type { FrameEncoderStats } from './outbound/frame-encoder.js';
export type { OutboundCounters } from './outbound/outbound.js';
export type { PersistenceStats } from './persistence/node-persistence.js';
export { PlumtreeNodeError } from './plumtree-node-error.js';
export type { PublishOptions } from './publish/outgoing-messages.js';
export type { PublishWindowCounters } from './publish/publish-window.js';
export type { LinkSyncCounters } from './readiness/link-sync.js';
export { ReadyTimeoutError } from './readiness/topic-readiness.js';
export type { ReadyOptions } from './readiness/topic-readiness.js';
export * from './rpc/rpc-errors.js';
export type { RequestHandler, RpcRequest, RpcResponderCounters } from './rpc/rpc-responder.js';
export type { RequestOptions, RpcCounters, RpcReply } from './rpc/rpc.js';
export type {
  FrameTransportOptions,
  FrameTransportStats,
  SendResult,
} from './transport/frame-transport-options.js';
export { FrameTransport } from './transport/frame-transport.js';
export type { FrameSourceCheck } from './transport/member-gate.js';
export type { InboundCounters, PatternJoinCounters } from './tree/topic-trees.js';
