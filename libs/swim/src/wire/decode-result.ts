/**
 * What a wire decoder returns. Decoders never throw on bytes from the network: a malformed
 * packet is a value the caller counts and drops, never an exception.
 */

/**
 * Why bytes were refused. A closed set, so callers can count drops per reason.
 * - `truncated`: the input ended before the structure did (on a stream: more bytes may come).
 * - `bad-msgpack`: not a msgpack value Go's decoder would accept into the expected struct.
 * - `unknown-type`: a message type byte memberlist does not define, or one not valid here.
 * - `bad-crc`: a `hasCrcMsg` checksum did not match.
 * - `bad-compression`: the LZW stream is corrupt or does not end with its EOF code.
 * - `unsupported-algo`: a `compress` message names an algorithm other than LZW.
 * - `unsupported-version`: an encryption version byte above 1.
 * - `decrypt-failed`: no key of the keyring opens the ciphertext (or the padding is bad).
 * - `encryption-required`: plaintext arrived while a keyring requires encryption.
 * - `label-mismatch`: the label header differs from the configured label.
 * - `bad-label`: a label header with length zero.
 * - `too-large`: a declared or decompressed size above the configured bound.
 * - `too-deep`: nesting (compound in compress in compound ...) beyond the bound.
 */
export type DecodeFailureReason =
  | 'truncated'
  | 'bad-msgpack'
  | 'unknown-type'
  | 'bad-crc'
  | 'bad-compression'
  | 'unsupported-algo'
  | 'unsupported-version'
  | 'decrypt-failed'
  | 'encryption-required'
  | 'label-mismatch'
  | 'bad-label'
  | 'too-large'
  | 'too-deep';

/** A refused input and why. */
export interface DecodeFailure {
  ok: false;
  reason: DecodeFailureReason;
}

/** Success carrying `T`'s fields, or a {@link DecodeFailure}. */
export type DecodeResult<T extends object> = ({ ok: true } & T) | DecodeFailure;

/** Builds a {@link DecodeFailure}. */
export function fail(reason: DecodeFailureReason): DecodeFailure {
  return { ok: false, reason };
}

/**
 * Thrown inside the codec only and caught at every public decoder boundary; it never escapes.
 * Throwing keeps the hot decoding path free of result checks after every byte read.
 */
export class WireDecodeError extends Error {
  /** Why decoding stopped. */
  readonly reason: DecodeFailureReason;

  constructor(reason: DecodeFailureReason) {
    super(reason);
    this.reason = reason;
  }
}
