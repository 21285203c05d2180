/** The memberlist wire codec: one export line per concept. */
export * from './message-types.js';
export * from './messages.js';
export type { DecodeFailure, DecodeFailureReason, DecodeResult } from './decode-result.js';
export * from './msgpack.js';
export * from './message-codec.js';
export * from './compound.js';
export * from './crc.js';
export * from './lzw.js';
export * from './compress.js';
export * from './keyring.js';
export * from './encryption.js';
export * from './label.js';
export {
  DEFAULT_MAX_PACKET_DECOMPRESSED_BYTES,
  DEFAULT_MAX_STREAM_BYTES,
  type WireConfig,
} from './wire-config.js';
export * from './packet.js';
export * from './stream.js';
