/**
 * The handshake of a Plumtree frame connection (protocol version 2) and the sealing of frames.
 *
 * A frame connection shares the SWIM node's TCP port, so its very first byte must differ from
 * every memberlist stream (message types 0-13, label header 244): {@link PLUMTREE_STREAM_FIRST_BYTE}.
 * The dialer writes first; `V` is {@link FRAME_PROTOCOL_VERSION}, `S` the sealed flag 0x80.
 *
 * Plain (no keyring), one message each way, the acceptor's only once it admitted the dialer:
 * ```
 * dialer   -> [0x50][V][len u8][name]
 * acceptor -> [0x50][V][len u8][name]
 * ```
 * Sealed (keyring), a challenge-response over fresh nonces, so a recorded handshake opens no
 * other connection:
 * ```
 * dialer   -> [0x50][V|S][Nd: 16 random bytes]
 * acceptor -> [0x50][V|S][Na: 16 random bytes]                      (at once)
 * dialer   -> [len u8][seal(name_d, aad = 0x50 V|S 'D' Na Nd)]      (proves a key, bound to Na)
 * acceptor -> [len u8][seal(name_a, aad = 0x50 V|S 'A' Na Nd)]      (once it admitted the dialer)
 * ```
 * `seal` is memberlist's AES-GCM message `[version 1][nonce 12][ciphertext][tag 16]` under the
 * primary key, opened with any key of the ring. The role byte keeps a proof from being reflected
 * back; Na, fresh per connection, keeps a captured proof from opening another connection; Nd
 * does the same for the acceptor's proof.
 *
 * Frames follow, from the dialer only: `[u32 BE length][frame]`. Sealed, the frames written
 * together are one batch `[u32 BE length][seal]`, the seal opening to `[u32 BE length][frame]...`
 * with additional data `0x50 'F' Na Nd [seq u64 BE]`, where `seq` counts the connection's batches
 * from 0 (frame-session.ts): a batch replayed, reordered or moved to another connection fails
 * to open.
 */
import { randomBytes } from 'node:crypto';
import { decryptPayload, EncryptionVersion, encryptOverhead, encryptPayload } from '@plumtree/swim';
import { FrameSession, NONCE_BYTES } from './frame-session.js';

/** First byte of a Plumtree frame connection on the shared SWIM port ('P'). */
export const PLUMTREE_STREAM_FIRST_BYTE = 0x50;
/** Version of the frame connection protocol spoken here (2: sealed challenge-response). */
export const FRAME_PROTOCOL_VERSION = 2;
/** Bit of the version byte telling that the handshake (and every frame) is sealed. */
const SEALED_FLAG = 0x80;
/** `[first byte][version][name length]` of a plain preamble. */
export const PREAMBLE_HEADER_BYTES = 3;
/** Bytes of the u32 length before every frame body. */
export const FRAME_HEADER_BYTES = 4;
/** Bytes sealing adds to a frame or a name (version, nonce, tag; no padding). */
export const SEAL_OVERHEAD_BYTES = encryptOverhead(EncryptionVersion.NoPadding);
/** Longest node name a handshake carries, in UTF-8 bytes, sealed or not (the length is one byte). */
export const MAX_NAME_BYTES = 255 - SEAL_OVERHEAD_BYTES;
/** Most bytes one handshake message takes (a plain preamble with the longest name). */
export const MAX_HANDSHAKE_MESSAGE_BYTES = PREAMBLE_HEADER_BYTES + 255;

/** Which end wrote a message; part of the sealed name's additional data. */
export type PreambleRole = 'dialer' | 'acceptor';

/** Why a handshake was refused. */
export type PreambleError =
  'bad-preamble' | 'bad-version' | 'encryption-mismatch' | 'auth-failed' | 'bad-name';

/** One step of parsing a handshake message: more bytes needed, done, or refused. */
export type ParseStep<T> =
  | { readonly kind: 'more' }
  | ({ readonly kind: 'done'; readonly consumed: number } & T)
  | { readonly kind: 'error'; readonly reason: PreambleError };

const ROLE_BYTE: Record<PreambleRole, number> = { dialer: 0x44, acceptor: 0x41 };
const SEALED_VERSION_BYTE = FRAME_PROTOCOL_VERSION | SEALED_FLAG;
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Throws a RangeError unless `name` fits a handshake (1..{@link MAX_NAME_BYTES} UTF-8 bytes). */
export function validateNodeName(name: string): void {
  const n = utf8.encode(name).length;
  if (n === 0 || n > MAX_NAME_BYTES) {
    throw new RangeError(`node name must be 1..${MAX_NAME_BYTES} UTF-8 bytes, got ${n}`);
  }
}

function decodeName(raw: Uint8Array): string | undefined {
  if (raw.length === 0) return undefined;
  try {
    return strictUtf8.decode(raw);
  } catch {
    return undefined;
  }
}

/** `[len u8][body]` at the start of `buf`, or undefined while incomplete. */
function lengthPrefixed(buf: Uint8Array, at: number): Uint8Array | undefined {
  if (buf.length < at + 1) return undefined;
  const end = at + 1 + buf[at]!;
  return buf.length < end ? undefined : buf.subarray(at + 1, end);
}

/**
 * Checks the `[0x50][version]` opening of either end's first message as each byte arrives, so
 * a stray client is turned away without waiting. Null when fine so far (or too short to tell).
 */
function checkOpening(buf: Uint8Array, sealing: boolean): PreambleError | null {
  if (buf.length >= 1 && buf[0] !== PLUMTREE_STREAM_FIRST_BYTE) return 'bad-preamble';
  if (buf.length < 2) return null;
  const versionByte = buf[1]!;
  if ((versionByte & ~SEALED_FLAG) !== FRAME_PROTOCOL_VERSION) return 'bad-version';
  return ((versionByte & SEALED_FLAG) !== 0) !== sealing ? 'encryption-mismatch' : null;
}

/** The plain preamble either end sends: `[0x50][V][len][name]`. */
export function encodePlainPreamble(name: string): Uint8Array {
  const raw = utf8.encode(name);
  if (raw.length > 255) throw new RangeError(`node name too long: ${raw.length} bytes`);
  const out = new Uint8Array(PREAMBLE_HEADER_BYTES + raw.length);
  out[0] = PLUMTREE_STREAM_FIRST_BYTE;
  out[1] = FRAME_PROTOCOL_VERSION;
  out[2] = raw.length;
  out.set(raw, PREAMBLE_HEADER_BYTES);
  return out;
}

/** Parses a plain preamble (the other end must not seal either). Never throws. */
export function parsePlainPreamble(buf: Uint8Array): ParseStep<{ readonly name: string }> {
  const bad = checkOpening(buf, false);
  if (bad !== null) return { kind: 'error', reason: bad };
  const raw = lengthPrefixed(buf, 2);
  if (raw === undefined) return { kind: 'more' };
  const name = decodeName(raw);
  if (name === undefined) return { kind: 'error', reason: 'bad-name' };
  return { kind: 'done', name, consumed: PREAMBLE_HEADER_BYTES + raw.length };
}

/** A fresh handshake nonce. */
export function freshNonce(): Uint8Array {
  return randomBytes(NONCE_BYTES);
}

/** The first message of either end of a sealed handshake: `[0x50][V|S][nonce]`. */
export function encodeSealedOpening(nonce: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + NONCE_BYTES);
  out[0] = PLUMTREE_STREAM_FIRST_BYTE;
  out[1] = SEALED_VERSION_BYTE;
  out.set(nonce, 2);
  return out;
}

/** Parses a sealed opening (the other end must seal too). Never throws. */
export function parseSealedOpening(buf: Uint8Array): ParseStep<{ readonly nonce: Uint8Array }> {
  const bad = checkOpening(buf, true);
  if (bad !== null) return { kind: 'error', reason: bad };
  if (buf.length < 2 + NONCE_BYTES) return { kind: 'more' };
  return { kind: 'done', nonce: Uint8Array.from(buf.subarray(2, 2 + NONCE_BYTES)), consumed: 18 };
}

function proofAad(role: PreambleRole, session: FrameSession): Uint8Array {
  const out = new Uint8Array(3 + 2 * NONCE_BYTES);
  out[0] = PLUMTREE_STREAM_FIRST_BYTE;
  out[1] = SEALED_VERSION_BYTE;
  out[2] = ROLE_BYTE[role];
  out.set(session.acceptorNonce, 3);
  out.set(session.dialerNonce, 3 + NONCE_BYTES);
  return out;
}

/** The proof `role` sends: `[len][name sealed with `key` over both nonces]`. */
export function encodeProof(
  role: PreambleRole,
  name: string,
  key: Uint8Array,
  session: FrameSession,
): Uint8Array {
  const body = encryptPayload(
    EncryptionVersion.NoPadding,
    key,
    utf8.encode(name),
    proofAad(role, session),
  );
  if (body.length > 255) throw new RangeError(`node name too long: ${name}`);
  const out = new Uint8Array(1 + body.length);
  out[0] = body.length;
  out.set(body, 1);
  return out;
}

/**
 * Parses the proof written by `role` on the connection of `session`: `auth-failed` unless one of
 * `keys` opens it with this connection's nonces (a wrong key, a reflected or replayed proof).
 */
export function parseProof(
  buf: Uint8Array,
  role: PreambleRole,
  keys: readonly Uint8Array[],
  session: FrameSession,
): ParseStep<{ readonly name: string }> {
  const body = lengthPrefixed(buf, 0);
  if (body === undefined) return { kind: 'more' };
  const opened = decryptPayload(keys, body, proofAad(role, session));
  if (!opened.ok) return { kind: 'error', reason: 'auth-failed' };
  const name = decodeName(opened.plaintext);
  if (name === undefined) return { kind: 'error', reason: 'bad-name' };
  return { kind: 'done', name, consumed: 1 + body.length };
}
