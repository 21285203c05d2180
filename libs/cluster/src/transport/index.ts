/**
 * The stream transport of Plumtree frames: persistent TCP per peer on the SWIM port. Only the
 * public surface is exported; the preamble codec, frame reader and backoff formula stay internal
 * so their names cannot clash with the other folders of @plumtree/cluster.
 */
export {
  FRAME_PROTOCOL_VERSION,
  MAX_NAME_BYTES as MAX_FRAME_NODE_NAME_BYTES,
  PLUMTREE_STREAM_FIRST_BYTE,
} from './frame-handshake.js';
export {
  defaultHighWaterBytes,
  FRAME_TRANSPORT_DEFAULTS,
  type FrameDropReason,
  type FrameTransportOptions,
  type FrameTransportStats,
  type SendResult,
} from './frame-transport-options.js';
export * from './frame-transport.js';
export type { FrameSourceCheck, InboundRefusal } from './member-gate.js';
