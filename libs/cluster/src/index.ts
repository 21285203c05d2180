/**
 * @plumtree/cluster: the runtime of one node, framework-free: SWIM membership, the topic
 * directory, one Plumtree tree per topic and the stream transport of its frames.
 *
 * The public API is what docs/cluster.md shows, the errors a caller catches, and the types those
 * signatures name (api/cluster.api.md is its report, checked by `npm test`). Internals (codecs,
 * engines, queues) are not exported: code and tests inside the package import them by path.
 */
export type { DurableRecord } from '@plumtree/store';
export type {
  Delivery,
  DeliveryGate,
  PlumtreeNodeEvent,
  SubscribeOptions,
} from './delivery/delivery.js';
export { UnserializablePayloadError } from './delivery/json-payload.js';
export type { PayloadCodec } from './delivery/payload-codec.js';
export { DirectoryMessageKind, peekDirectoryKind } from './directory/directory-codec.js';
export {
  DirectoryLimitError,
  DirectoryOptionsError,
  InvalidTopicError,
} from './directory/directory-errors.js';
export type { DirectoryStats } from './directory/topic-directory.js';
export {
  MAX_TOPIC_BYTES,
  topicMatches,
  validatePattern,
  validateTopic,
} from './directory/topic-pattern.js';
export type {
  DurableLog,
  DurableReadLimit,
  DurableReadResult,
  DurableRequestMark,
  DurableStreamMark,
} from './durable/durable-log.js';
export { DurableOptionsError } from './durable/durable-options.js';
export type {
  DurableReplicatorOptions,
  ResolvedDurableReplicatorOptions,
} from './durable/durable-options.js';
export type {
  CatchupFailure,
  CatchupReason,
  DurableHost,
  DurableReplicatorEvent,
  DurableReplicatorStats,
  DurableTopicStats,
} from './durable/durable-replicator-types.js';
export { DurableReplicator, DurableTopicExistsError } from './durable/durable-replicator.js';
export { MemoryDurableLog } from './durable/memory-durable-log.js';
export type { MemoryDurableLogOptions } from './durable/memory-durable-log.js';
export { Lazarus, LazarusOptionsError } from './lazarus/lazarus.js';
export type {
  LazarusHost,
  LazarusOptions,
  LazarusReconnection,
  LazarusStats,
  SetTimer,
} from './lazarus/lazarus.js';
export { validateSeedAddresses } from './lazarus/seed-address.js';
export {
  InvalidHeadersError,
  NoSubscribersError,
  NodeClosedError,
  PayloadTooLargeError,
  PlumtreeNodeOptionsError,
} from './node/errors.js';
export type { NodeOptionProblem } from './node/errors.js';
export type {
  LimitCounters,
  NodeCounters,
  NodeTopicStats,
  PlumtreeNodeStats,
} from './node/node-stats.js';
export type { PatternJoinCounters } from './tree/topic-trees.js';
export {
  LIMITS_DEFAULTS,
  resolvePlumtreeNodeOptions,
  withoutSeeds,
} from './node/plumtree-node-options.js';
export type {
  LimitsOptions,
  PlumtreeNodeOptions,
  ResolvedNodeOptions,
} from './node/plumtree-node-options.js';
export { PlumtreeNode } from './node/plumtree-node.js';
export { PlumtreeNodeError } from './plumtree-node-error.js';
export { GRAFT_LATENCY_BUCKETS, createPlumtreeMetrics } from './metrics/plumtree-metrics.js';
export type { PlumtreeMetrics, PlumtreeMetricsOptions } from './metrics/plumtree-metrics.js';
export { POLLED_FAMILIES } from './metrics/metric-families.js';
export type { MetricSource, PolledFamily, Sample } from './metrics/metric-families.js';
export { GRAFT_TIMER_CAP } from './metrics/graft-timer.js';
export type { PublishOptions } from './publish/outgoing-messages.js';
export { LINK_SYNC_CLOCK_SLACK_MS, RECENT_IDS_PER_TOPIC } from './readiness/link-sync.js';
export type { LinkSyncCounters } from './readiness/link-sync.js';
export { DEFAULT_READY_TIMEOUT_MS, ReadyTimeoutError } from './readiness/topic-readiness.js';
export type { ReadyOptions } from './readiness/topic-readiness.js';
export {
  NoRespondersError,
  RequestHandlerError,
  RequestTimeoutError,
  ResponderBusyError,
} from './rpc/rpc-errors.js';
export type { RequestHandler, RpcRequest, RpcResponderCounters } from './rpc/rpc-responder.js';
export type { RequestOptions, RpcCounters, RpcReply } from './rpc/rpc.js';
export { PLUMTREE_STREAM_FIRST_BYTE } from './transport/frame-handshake.js';
export type {
  FrameTransportOptions,
  FrameTransportStats,
  SendResult,
} from './transport/frame-transport-options.js';
export { FrameTransport } from './transport/frame-transport.js';
export type { FrameSourceCheck, InboundRefusal } from './transport/member-gate.js';
