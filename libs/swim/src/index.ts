/**
 * @plumtree/swim: SWIM membership speaking HashiCorp memberlist's wire protocol: the sans-IO half
 * (wire codec, protocol core, config; also `@plumtree/swim/sans-io` on its own), then the
 * transports and the node that drive it.
 *
 * The public API is what docs/swim.md shows, what the packages above use, the errors a caller
 * catches and the types those signatures name (api/swim.api.md is its report, checked by
 * `npm test`). Internals are not exported: code and tests inside the package import them by path.
 */
export { JoinError } from './node/join-retry.js';
export type { JoinRetryOptions } from './node/join-retry.js';
export {
  DEFAULT_JOIN_RETRY,
  DEFAULT_JOIN_TIMEOUT_MS,
  SwimNodeOptionsError,
  decodeKey,
  resolveNodeOptions,
  withNodeHooks,
} from './node/swim-node-options.js';
export type {
  NodeOptionsFilledIn as SwimNodeSettings,
  ResolvedNodeOptions as ResolvedSwimNodeOptions,
  SwimNodeHooks,
  SwimNodeOptions,
} from './node/swim-node-options.js';
export { PayloadTooLargeError as SwimPayloadTooLargeError, SwimNode } from './node/swim-node.js';
export type { SwimNodeStats } from './node/swim-node.js';
export * from './sans-io.js';
export { FilteringTransport } from './transport/filtering-transport.js';
export type { FilteringStats, FilteringTransportOptions } from './transport/filtering-transport.js';
export { MemoryNetwork, MemoryStream, MemoryTransport } from './transport/memory-network.js';
export type {
  MemoryNetworkOptions,
  NetworkDropReason,
  Scheduler,
} from './transport/memory-network.js';
export { TransportBase } from './transport/transport-base.js';
export type { TransportLimits } from './transport/transport-base.js';
export {
  DialError,
  MEMBERLIST_STREAM_FIRST_BYTES,
  StreamDispatcher,
} from './transport/transport.js';
export type {
  PacketHandler,
  StreamHandler,
  SwimTransport,
  TransportDropReason,
  TransportStats,
} from './transport/transport.js';
export { UdpTcpTransport } from './transport/udp-tcp-transport.js';
export type { UdpTcpTransportOptions } from './transport/udp-tcp-transport.js';
