/**
 * Settings shared by the packet and stream pipelines, named after memberlist's `Config`.
 */
import type { Keyring } from './keyring.js';
import { EncryptionVersion, WireLimits } from './message-types.js';

/** How a node frames what it sends and what it accepts. */
export interface WireConfig {
  /** Cluster label (`Config.Label`); '' (the default) sends no label header. */
  label?: string;
  /** Encryption keys; encryption is on when the keyring holds a key (`EncryptionEnabled`). */
  keyring?: Keyring | null;
  /**
   * Version to encrypt with: 0 (PKCS#7) when the cluster speaks protocol 1, else 1 (default),
   * as net.go `encryptionVersion()`.
   */
  encryptionVersion?: EncryptionVersion;
  /** `GossipVerifyIncoming` (default true): refuse input that is not encrypted. */
  verifyIncoming?: boolean;
  /** `GossipVerifyOutgoing` (default true): encrypt output when the keyring has keys. */
  verifyOutgoing?: boolean;
  /** `SkipInboundLabelCheck`: accept unlabelled input as if it carried our label. */
  skipInboundLabelCheck?: boolean;
}

/** Default cap on decompressed bytes per packet: memberlist compresses at most a UDP buffer. */
export const DEFAULT_MAX_PACKET_DECOMPRESSED_BYTES = 1024 * 1024;

/** Default cap on one stream message (memberlist's `maxPushStateBytes`, plus framing). */
export const DEFAULT_MAX_STREAM_BYTES = WireLimits.maxPushStateBytes + 64 * 1024;

/** The keys to decrypt with, or undefined when encryption is off. */
export function activeKeys(cfg: WireConfig): readonly Uint8Array[] | undefined {
  const k = cfg.keyring;
  return k !== undefined && k !== null && k.enabled ? k.getKeys() : undefined;
}

/** The key to encrypt with, or undefined when output goes out in plaintext. */
export function outgoingKey(cfg: WireConfig): Uint8Array | undefined {
  if (cfg.verifyOutgoing === false) return undefined;
  return activeKeys(cfg) === undefined ? undefined : cfg.keyring!.getPrimaryKey();
}

/** The encryption version to send with. */
export function outgoingVersion(cfg: WireConfig): EncryptionVersion {
  return cfg.encryptionVersion ?? EncryptionVersion.NoPadding;
}

/** Byte equality for labels: Go compares label strings byte by byte. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
