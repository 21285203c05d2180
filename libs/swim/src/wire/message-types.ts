/**
 * Message type bytes of HashiCorp memberlist (net.go `messageType`, label.go `hasLabelMsg`).
 *
 * The first byte of every packet and stream names what follows. The numbering is memberlist's
 * `iota` order and must never change: it is the wire.
 */
export const MessageType = {
  Ping: 0,
  IndirectPing: 1,
  AckResp: 2,
  Suspect: 3,
  Alive: 4,
  Dead: 5,
  PushPull: 6,
  Compound: 7,
  User: 8,
  Compress: 9,
  Encrypt: 10,
  NackResp: 11,
  HasCrc: 12,
  Err: 13,
  /**
   * Label header (memberlist >= 0.3). Deliberately high so it cannot be confused with an
   * encryption version byte (0/1) or any other message type.
   */
  HasLabel: 244,
} as const;

/** One of the {@link MessageType} values. */
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/** Compression algorithms of memberlist (net.go `compressionType`); only LZW exists. */
export const CompressionType = {
  Lzw: 0,
} as const;

/** One of the {@link CompressionType} values. */
export type CompressionType = (typeof CompressionType)[keyof typeof CompressionType];

/** Node states as carried in push-pull (state.go `NodeStateType`). */
export const NodeStateType = {
  Alive: 0,
  Suspect: 1,
  Dead: 2,
  /** memberlist >= 0.2 marks a gracefully departed node as left. */
  Left: 3,
} as const;

/** One of the {@link NodeStateType} values. */
export type NodeStateType = (typeof NodeStateType)[keyof typeof NodeStateType];

/** Encryption versions (security.go `encryptionVersion`): 0 pads with PKCS#7, 1 does not. */
export const EncryptionVersion = {
  Pkcs7: 0,
  NoPadding: 1,
} as const;

/** One of the {@link EncryptionVersion} values. */
export type EncryptionVersion = (typeof EncryptionVersion)[keyof typeof EncryptionVersion];

/** Limits from memberlist net.go and label.go. */
export const WireLimits = {
  /** `MetaMaxSize`: node meta is at most 512 bytes. */
  metaMaxBytes: 512,
  /** `maxPushStateBytes`: a push-pull user state above 20 MiB is refused. */
  maxPushStateBytes: 20 * 1024 * 1024,
  /** `LabelMaxSize`: a label is 1..255 bytes (its length is one byte). */
  labelMaxBytes: 255,
  /** A compound message counts its parts in one byte. */
  compoundMaxParts: 255,
  /** A compound part length is a big-endian u16. */
  compoundMaxPartBytes: 65535,
} as const;

/** Returns true when `b` is a known memberlist message type byte. */
export function isMessageType(b: number): b is MessageType {
  return (b >= 0 && b <= 13) || b === MessageType.HasLabel;
}
