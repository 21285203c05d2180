import { formatProblems, type Problem } from '@plumtree/common';
import { PlumtreeError } from '../core/errors.js';

/**
 * Why a frame from the network was rejected. A closed union so the runtime can count drops per
 * reason (one metric label each, see {@link FRAME_DECODE_REASONS}).
 *
 * - `truncated`: the frame ends inside a field, or a length/count needs more bytes than remain.
 * - `too-large`: the whole frame is longer than `maxFrameBytes`.
 * - `unknown-version`: byte 0 is not a codec version this build speaks.
 * - `unknown-type`: byte 1 is not a {@link FrameType}.
 * - `bad-varint`: a varint longer than 8 bytes, above 2^53 - 1, or not minimally encoded.
 * - `bad-utf8`: a string field is not well-formed UTF-8 (overlong, surrogate, > U+10FFFF, ...).
 * - `limit-exceeded`: a length or count above a {@link FrameLimits} value.
 * - `out-of-range`: a number outside its field's domain (seq 0, IHAVE hops above 65535).
 * - `non-canonical`: headers not in strictly ascending key order (this also rejects duplicates),
 *   so every accepted frame re-encodes to exactly the same bytes.
 * - `trailing-bytes`: bytes left after the last field.
 */
export type FrameDecodeReason =
  | 'truncated'
  | 'too-large'
  | 'unknown-version'
  | 'unknown-type'
  | 'bad-varint'
  | 'bad-utf8'
  | 'limit-exceeded'
  | 'out-of-range'
  | 'non-canonical'
  | 'trailing-bytes';

/** Every {@link FrameDecodeReason}, e.g. to pre-register one drop counter per reason. */
export const FRAME_DECODE_REASONS: readonly FrameDecodeReason[] = [
  'truncated',
  'too-large',
  'unknown-version',
  'unknown-type',
  'bad-varint',
  'bad-utf8',
  'limit-exceeded',
  'out-of-range',
  'non-canonical',
  'trailing-bytes',
];

/**
 * A rejected frame. A plain object rather than an `Error`: malformed input is a counted drop,
 * not an exception, and a flood of garbage must not pay for a stack trace per frame.
 */
export interface FrameDecodeError {
  readonly reason: FrameDecodeReason;
  /** Byte offset in the frame where the offending field starts. */
  readonly offset: number;
  /** Which field, for logs (a constant string; nothing from the input is echoed). */
  readonly detail: string;
}

/**
 * A message our own code asked to encode violates the frame format (string too long, lone
 * surrogate, hops or id out of range, ...). A programmer error, hence thrown.
 */
export class FrameEncodeError extends PlumtreeError {
  override readonly name = 'FrameEncodeError';
  constructor(
    /** The offending field, e.g. `topic`, `id.seq`, `headers["x"]`. */
    readonly field: string,
    problem: string,
  ) {
    super(`cannot encode Plumtree frame: ${field} ${problem}`);
  }
}

/** Invalid {@link FrameLimits} given to `resolveFrameLimits`; lists every problem at once. */
export class FrameLimitsError extends PlumtreeError {
  override readonly name = 'FrameLimitsError';
  constructor(readonly problems: readonly Problem[]) {
    super(formatProblems('frame limits', problems));
  }
}
