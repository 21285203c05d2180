/**
 * AES-GCM encryption of packets and streams (security.go).
 *
 * `[version u8][nonce 12][ciphertext][tag 16]`. Version 0 pads the plaintext with PKCS#7 to a
 * 16-byte multiple before sealing (memberlist protocol 1); version 1 does not (protocol >= 2).
 * The AES variant follows the key length: 16/24/32 bytes = AES-128/192/256. Additional data:
 * the label for packets, `[10][length u32]` + label for streams. Decryption tries every key,
 * primary first.
 */
import { createCipheriv, createDecipheriv, randomFillSync } from 'node:crypto';
import { fail, type DecodeResult } from './decode-result.js';
import { EncryptionVersion } from './message-types.js';

/** Bytes of the version header. */
export const VERSION_BYTES = 1;
/** Bytes of the GCM nonce. */
export const NONCE_BYTES = 12;
/** Bytes of the GCM tag. */
export const TAG_BYTES = 16;
const BLOCK_BYTES = 16;
const EMPTY = new Uint8Array(0);

/** Most bytes encryption adds (security.go `encryptOverhead`): 45 for version 0, 29 for 1. */
export function encryptOverhead(vsn: EncryptionVersion): number {
  return vsn === EncryptionVersion.Pkcs7 ? 45 : 29;
}

/** Size of `plainBytes` once encrypted (security.go `encryptedLength`). */
export function encryptedLength(vsn: EncryptionVersion, plainBytes: number): number {
  if (vsn !== EncryptionVersion.Pkcs7) return VERSION_BYTES + NONCE_BYTES + plainBytes + TAG_BYTES;
  const padding = BLOCK_BYTES - (plainBytes % BLOCK_BYTES);
  return VERSION_BYTES + NONCE_BYTES + plainBytes + padding + TAG_BYTES;
}

// Nonces come from a pool refilled 4 KiB at a time: one randomFillSync per 341 packets instead
// of one ~20 µs randomBytes call per packet. Each 12-byte slice is handed out once.
const NONCE_POOL_BYTES = 12 * 341;
const noncePool = new Uint8Array(NONCE_POOL_BYTES);
let noncePoolOffset = NONCE_POOL_BYTES;

/** 12 fresh random bytes for a GCM nonce. */
export function randomNonce(): Uint8Array {
  if (noncePoolOffset + NONCE_BYTES > NONCE_POOL_BYTES) {
    randomFillSync(noncePool);
    noncePoolOffset = 0;
  }
  const n = noncePool.slice(noncePoolOffset, noncePoolOffset + NONCE_BYTES);
  noncePoolOffset += NONCE_BYTES;
  return n;
}

function algorithm(key: Uint8Array): 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm' {
  switch (key.length) {
    case 16:
      return 'aes-128-gcm';
    case 24:
      return 'aes-192-gcm';
    case 32:
      return 'aes-256-gcm';
    default:
      throw new RangeError('key size must be 16, 24 or 32 bytes');
  }
}

/**
 * Encrypts `msg` with `key` (security.go `encryptPayload`). `nonce` defaults to 12 random
 * bytes; pass one only to reproduce known bytes in tests: a repeated nonce breaks GCM.
 */
export function encryptPayload(
  vsn: EncryptionVersion,
  key: Uint8Array,
  msg: Uint8Array,
  additionalData: Uint8Array = EMPTY,
  nonce: Uint8Array = randomNonce(),
): Uint8Array {
  if (nonce.length !== NONCE_BYTES) throw new RangeError('nonce must be 12 bytes');
  let plain = msg;
  if (vsn === EncryptionVersion.Pkcs7) {
    const pad = BLOCK_BYTES - (msg.length % BLOCK_BYTES);
    plain = new Uint8Array(msg.length + pad);
    plain.set(msg);
    plain.fill(pad, msg.length);
  }
  const out = new Uint8Array(VERSION_BYTES + NONCE_BYTES + plain.length + TAG_BYTES);
  out[0] = vsn;
  out.set(nonce, VERSION_BYTES);
  const cipher = createCipheriv(algorithm(key), key, nonce);
  cipher.setAAD(additionalData);
  let off = VERSION_BYTES + NONCE_BYTES;
  const head = cipher.update(plain);
  out.set(head, off);
  off += head.length;
  const tail = cipher.final();
  out.set(tail, off);
  off += tail.length;
  out.set(cipher.getAuthTag(), off);
  return out;
}

function open(
  key: Uint8Array,
  msg: Uint8Array,
  additionalData: Uint8Array,
): Uint8Array | undefined {
  const nonce = msg.subarray(VERSION_BYTES, VERSION_BYTES + NONCE_BYTES);
  const body = msg.subarray(VERSION_BYTES + NONCE_BYTES, msg.length - TAG_BYTES);
  const tag = msg.subarray(msg.length - TAG_BYTES);
  try {
    const d = createDecipheriv(algorithm(key), key, nonce);
    d.setAAD(additionalData);
    d.setAuthTag(tag);
    const head = d.update(body);
    const tail = d.final(); // throws when the tag does not verify
    if (tail.length === 0) return new Uint8Array(head.buffer, head.byteOffset, head.length);
    const out = new Uint8Array(head.length + tail.length);
    out.set(head);
    out.set(tail, head.length);
    return out;
  } catch {
    return undefined;
  }
}

/**
 * Decrypts `msg` with the first key that opens it (security.go `decryptPayload`) and strips
 * the PKCS#7 padding of version 0. Never throws: `unsupported-version`, `truncated` (shorter
 * than an empty message's ciphertext) or `decrypt-failed` (no key opened it, or the padding is
 * invalid, where Go would panic).
 */
export function decryptPayload(
  keys: readonly Uint8Array[],
  msg: Uint8Array,
  additionalData: Uint8Array = EMPTY,
): DecodeResult<{ plaintext: Uint8Array }> {
  if (msg.length === 0) return fail('truncated');
  const vsn = msg[0]!;
  if (vsn > EncryptionVersion.NoPadding) return fail('unsupported-version');
  if (msg.length < encryptedLength(vsn as EncryptionVersion, 0)) return fail('truncated');
  for (const key of keys) {
    const plain = open(key, msg, additionalData);
    if (plain === undefined) continue;
    if (vsn === EncryptionVersion.NoPadding) return { ok: true, plaintext: plain };
    const pad = plain[plain.length - 1] ?? 0;
    if (pad === 0 || pad > BLOCK_BYTES || pad > plain.length) return fail('decrypt-failed');
    return { ok: true, plaintext: plain.subarray(0, plain.length - pad) };
  }
  return fail('decrypt-failed');
}
