/**
 * @plumtree/nestjs: the NestJS transport (server, client, module, service, decorator, context).
 *
 * The public API is what docs/nestjs.md shows (api/nestjs.api.md is its report, checked by
 * `npm test`). A Nest app imports from this package only: it re-exports the node's errors a
 * handler or caller catches (and their base `ProblemListError`) and every node type a signature
 * here names (`PlumtreeService.node`, the options, events, requests, stats, metrics). The
 * terminus health indicator is the subpath `@plumtree/nestjs/health` (terminus is optional).
 */
export {
  DirectoryLimitError,
  InvalidHeadersError,
  InvalidTopicError,
  NoRespondersError,
  NoSubscribersError,
  NodeClosedError,
  PayloadTooLargeError,
  PlumtreeNode,
  PlumtreeNodeError,
  PlumtreeNodeOptionsError,
  ReadyTimeoutError,
  RequestHandlerError,
  RequestTimeoutError,
  ResponderBusyError,
  UnserializablePayloadError,
} from '@plumtree/cluster';
export type {
  Delivery,
  NodeOptionProblem,
  PlumtreeMetrics,
  PlumtreeMetricsOptions,
  PlumtreeNodeEvent,
  PlumtreeNodeOptions,
  PlumtreeNodeStats,
  PublishOptions,
  ReadyOptions,
  RequestOptions,
  RpcReply,
  RpcRequest,
  SubscribeOptions,
} from '@plumtree/cluster';
export { ProblemListError } from '@plumtree/common';
export type { SwimMember } from '@plumtree/swim';
export type { PlumtreeDeadLetter } from './delivery/dead-letter.js';
export type {
  PlumtreeHandlerOptions,
  PlumtreeRetryPolicy,
  ResolvedHandlerPolicy,
} from './delivery/handler-policy.js';
export {
  PlumtreeMetricsModule,
  PlumtreeMetricsService,
} from './metrics/plumtree-metrics.module.js';
export type { PlumtreeMetricsModuleOptions } from './metrics/plumtree-metrics.module.js';
export { PlumtreeNodeRef } from './node-ref.js';
export type { PlumtreeModuleOptions } from './plumtree-module-options.js';
export { PlumtreeRecord, PlumtreeRecordBuilder } from './plumtree-record.builder.js';
export { PlumtreeSubscribe } from './plumtree-subscribe.decorator.js';
export type { PlumtreeSubscribeOptions } from './plumtree-subscribe.decorator.js';
export { PlumtreeClient } from './plumtree.client.js';
export type { PlumtreeClientOptions } from './plumtree.client.js';
export { PLUMTREE_TRANSPORT } from './plumtree.constants.js';
export { PlumtreeContext } from './plumtree.context.js';
export type { AckControl, PlumtreeContextArgs, PlumtreeMessageInfo } from './plumtree.context.js';
export {
  PlumtreeAckError,
  PlumtreeAckTimeoutError,
  PlumtreeHandlerError,
  PlumtreeNotStartedError,
  PlumtreeOptionsError,
  PlumtreeStartError,
} from './plumtree.errors.js';
export {
  PLUMTREE_MODULE_OPTIONS,
  PlumtreeConfigurableModule,
  PlumtreeModule,
} from './plumtree.module.js';
export type {
  PlumtreeModuleAsyncOptions,
  PlumtreeModuleForRootOptions,
} from './plumtree.module.js';
export { PlumtreeServer } from './plumtree.server.js';
export type { PlumtreeServerEvents, PlumtreeStatus } from './plumtree.server.js';
export { PlumtreeService } from './plumtree.service.js';
export type {
  InvalidPayload,
  PlumtreeNestCounters,
  PlumtreePublishOptions,
  TopicStreamOptions,
} from './plumtree.service.js';
