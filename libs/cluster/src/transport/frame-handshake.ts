/**
 * The preamble of a Plumtree frame connection and the sealing of frames.
 *
 * A frame connection shares the SWIM node's TCP port, so its very first byte must differ from
 * every memberlist stream (message types 0-13, label header 244): {@link PLUMTREE_STREAM_FIRST_BYTE}.
 * Both ends send one preamble: the dialer first, the acceptor once it has checked the dialer's.
 *
 * `[first byte 0x50][version u8, top bit = sealed][name length u8][name]`
 *
 * Without a keyring `name` is the node name in UTF-8. With one, it is the name sealed with
 * AES-GCM under the primary key (the header bytes and the sender's role as additional data), so
 * a node holding none of the cluster's keys cannot open a connection, and a sealed hello cannot
 * be reflected back as a reply. Frames that follow are `[u32 BE length][frame]`. With a keyring
 * the frames written together are sealed as one batch: `[u32 BE length][seal]` where the seal
 * (memberlist's `[version][nonce][ciphertext][tag]`) opens to `[u32 BE length][frame]...`.
 */
import {
  decryptPayload,
  EncryptionVersion,
  encryptOverhead,
  encryptPayload,
  type Keyring,
} from '@plumtree/swim';

/** First byte of a Plumtree frame connection on the shared SWIM port ('P'). */
export const PLUMTREE_STREAM_FIRST_BYTE = 0x50;
/** Version of the frame connection protocol spoken here. */
export const FRAME_PROTOCOL_VERSION = 1;
/** Bit of the version byte telling that the name (and every frame) is sealed. */
const SEALED_FLAG = 0x80;
/** `[first byte][version][name length]`. */
export const PREAMBLE_HEADER_BYTES = 3;
/** Bytes of the u32 length before every frame body. */
export const FRAME_HEADER_BYTES = 4;
/** Bytes sealing adds to a frame or a name (version, nonce, tag; no padding). */
export const SEAL_OVERHEAD_BYTES = encryptOverhead(EncryptionVersion.NoPadding);
/** Longest node name a preamble carries, in UTF-8 bytes, sealed or not (the length is one byte). */
export const MAX_NAME_BYTES = 255 - SEAL_OVERHEAD_BYTES;

/** Which end wrote a preamble; part of the sealed name's additional data. */
export type PreambleRole = 'dialer' | 'acceptor';

/** Why a preamble was refused. */
export type PreambleError =
  'bad-preamble' | 'bad-version' | 'encryption-mismatch' | 'auth-failed' | 'bad-name';

/** What {@link parsePreamble} made of the bytes so far. */
export type PreambleStep =
  | { readonly kind: 'more' }
  | { readonly kind: 'done'; readonly name: string; readonly consumed: number }
  | { readonly kind: 'error'; readonly reason: PreambleError };

// Frames are sealed with the same keys as memberlist's packets; a distinct additional data keeps
// a captured memberlist packet from ever opening as a frame, and the other way round.
const FRAME_AAD = Uint8Array.of(PLUMTREE_STREAM_FIRST_BYTE, 0x46 /* F */);
const ROLE_BYTE: Record<PreambleRole, number> = { dialer: 0x44, acceptor: 0x41 };
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Throws a RangeError unless `name` fits a preamble (1..{@link MAX_NAME_BYTES} UTF-8 bytes). */
export function validateNodeName(name: string): void {
  const n = utf8.encode(name).length;
  if (n === 0 || n > MAX_NAME_BYTES) {
    throw new RangeError(`node name must be 1..${MAX_NAME_BYTES} UTF-8 bytes, got ${n}`);
  }
}

function aad(role: PreambleRole, versionByte: number): Uint8Array {
  return Uint8Array.of(PLUMTREE_STREAM_FIRST_BYTE, versionByte, ROLE_BYTE[role]);
}

/** The preamble `role` sends: sealed with the primary key when `keyring` is enabled. */
export function encodePreamble(
  role: PreambleRole,
  name: string,
  keyring: Keyring | null,
): Uint8Array {
  const raw = utf8.encode(name);
  const key = keyring?.getPrimaryKey();
  const versionByte = FRAME_PROTOCOL_VERSION | (key ? SEALED_FLAG : 0);
  const body = key
    ? encryptPayload(EncryptionVersion.NoPadding, key, raw, aad(role, versionByte))
    : raw;
  if (body.length > 255) throw new RangeError(`node name too long: ${raw.length} bytes`);
  const out = new Uint8Array(PREAMBLE_HEADER_BYTES + body.length);
  out[0] = PLUMTREE_STREAM_FIRST_BYTE;
  out[1] = versionByte;
  out[2] = body.length;
  out.set(body, PREAMBLE_HEADER_BYTES);
  return out;
}

/**
 * Parses the preamble written by `role` from the start of `buf`. `keyring` enabled means the
 * name must be sealed with one of its keys; disabled or null means it must be plain: both ends
 * must agree, as memberlist's do. Never throws.
 */
export function parsePreamble(
  buf: Uint8Array,
  role: PreambleRole,
  keyring: Keyring | null,
): PreambleStep {
  if (buf.length >= 1 && buf[0] !== PLUMTREE_STREAM_FIRST_BYTE) {
    return { kind: 'error', reason: 'bad-preamble' };
  }
  // Refuse as early as each byte allows, so a stray client is turned away without waiting.
  if (buf.length < 2) return { kind: 'more' };
  const versionByte = buf[1]!;
  if ((versionByte & ~SEALED_FLAG) !== FRAME_PROTOCOL_VERSION) {
    return { kind: 'error', reason: 'bad-version' };
  }
  const sealed = (versionByte & SEALED_FLAG) !== 0;
  const sealing = keyring?.enabled === true;
  if (sealed !== sealing) return { kind: 'error', reason: 'encryption-mismatch' };
  if (buf.length < PREAMBLE_HEADER_BYTES) return { kind: 'more' };
  const len = buf[2]!;
  const end = PREAMBLE_HEADER_BYTES + len;
  if (buf.length < end) return { kind: 'more' };
  let raw = buf.subarray(PREAMBLE_HEADER_BYTES, end);
  if (sealed) {
    const opened = decryptPayload(keyring!.getKeys(), raw, aad(role, versionByte));
    if (!opened.ok) return { kind: 'error', reason: 'auth-failed' };
    raw = opened.plaintext;
  }
  if (raw.length === 0) return { kind: 'error', reason: 'bad-name' };
  let name: string;
  try {
    name = strictUtf8.decode(raw);
  } catch {
    return { kind: 'error', reason: 'bad-name' };
  }
  return { kind: 'done', name, consumed: end };
}

/** Seals one body (a batch of length-prefixed frames) with `key`, under a fresh random nonce. */
export function sealFrame(key: Uint8Array, frame: Uint8Array): Uint8Array {
  return encryptPayload(EncryptionVersion.NoPadding, key, frame, FRAME_AAD);
}

/** Opens a sealed body with the first key that fits; undefined when none does. */
export function openFrame(keys: readonly Uint8Array[], body: Uint8Array): Uint8Array | undefined {
  const r = decryptPayload(keys, body, FRAME_AAD);
  return r.ok ? r.plaintext : undefined;
}
