/**
 * @plumtree/plumtree: the Plumtree broadcast protocol, one tree per topic, sans-IO.
 *
 * The public API is what docs/plumtree.md shows, what the packages above use, and the types those
 * signatures name (api/plumtree.api.md is its report, checked by `npm test`). The frame codec's
 * `DecodeResult` is exported as `FrameDecodeResult` (SWIM's codec has its own `DecodeResult`).
 */
export { createRng, randomInt } from '@plumtree/common';
export type { Rng } from '@plumtree/common';
export {
  PLUMTREE_PRESETS,
  PlumtreeConfig,
  PlumtreeConfigError,
  resolvePlumtreeConfig,
} from './config/plumtree-config.js';
export type {
  ConfigProblem,
  PlumtreeConfigInput,
  PlumtreePresetName,
  ResolvedPlumtreeConfig,
} from './config/plumtree-config.js';
export {
  MessageTooLargeError,
  NotSubscribedError,
  PlumtreeError,
  UnencodableError,
} from './core/errors.js';
export { Plumtree } from './core/plumtree.js';
export type {
  OwnOptions as BroadcastOptions,
  PlumtreeCounters,
  PlumtreeOptions,
  TopicStats,
} from './core/plumtree.js';
export type { FrameCounters } from './core/topic-tree.js';
export { FrameType, keyed, messageKey } from './types.js';
export type {
  CoreMessage,
  GossipMessage,
  GossipRunMessage,
  GraftMessage,
  IHaveEntry,
  IHaveMessage,
  KeyedId,
  MessageId,
  PlumtreeEvent,
  PlumtreeMessage,
  PruneMessage,
  TopicView,
  Transmit,
} from './types.js';
export {
  decodeFrame,
  encodeFrame,
  encodeFrameInto,
  encodedFrameSize,
  encodedHeadersSize,
  patchGossipHops,
  peekTopic,
  readGossipHops,
} from './wire/frame-codec.js';
export type { DecodeResult as FrameDecodeResult } from './wire/frame-codec.js';
export { FrameEncodeError, FrameLimitsError } from './wire/frame-errors.js';
export type { FrameDecodeError, FrameDecodeReason } from './wire/frame-errors.js';
export { DEFAULT_FRAME_LIMITS, FRAME_CODEC_VERSION } from './wire/frame-limits.js';
export type { FrameLimits } from './wire/frame-limits.js';
