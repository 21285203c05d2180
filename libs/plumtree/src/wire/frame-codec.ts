/**
 * Plumtree frame codec, version 1: one {@link PlumtreeMessage} per frame. The transport delimits
 * frames (length prefix on the stream); a frame's own fields end exactly at its last byte.
 *
 * Primitive encodings:
 * - `u8`, `u16be`: fixed-width unsigned integers (big-endian).
 * - `varint`: unsigned LEB128, 1..8 bytes, value at most 2^53 - 1 (the 8th byte is at most
 *   0x0f), minimal only (no trailing 0x00 group). Used for ids, times, counts and long lengths.
 * - `str8`: `u8` byte length L, then L bytes of well-formed UTF-8 (no lone surrogates; a BOM
 *   is data). Topic, origin and header keys: at most 255 bytes by construction.
 * - `id` (MessageId): `str8 origin`, `varint epoch` (0..2^53-1), `varint seq` (1..2^53-1).
 *
 * Every frame starts with the same two bytes; GOSSIP keeps `hops` at a fixed offset so a
 * forwarder can patch it in place ({@link patchGossipHops}) and send the received bytes on:
 *
 * | offset | size    | field                                                      |
 * |--------|---------|------------------------------------------------------------|
 * | 0      | 1       | codec version = 1                                          |
 * | 1      | 1       | frame type: 1 GOSSIP, 2 IHAVE, 3 GRAFT, 4 PRUNE, 5 RUN     |
 *
 * GOSSIP (type 1):
 * | offset | size    | field                                                      |
 * |--------|---------|------------------------------------------------------------|
 * | 2      | 2       | hops, u16be (0..65535)                                     |
 * | 4      | 1 + T   | topic, str8                                                |
 * | .      | var     | id                                                         |
 * | .      | 1..8    | publishedAtMs, varint (ms since Unix epoch, 0 = unknown)   |
 * | .      | 1..8    | header count H, varint                                     |
 * | .      | H x     | key str8, value length varint, value UTF-8; keys strictly  |
 * |        |         | ascending in UTF-16 code unit order (JS `<`), so unique    |
 * | .      | 1..8    | payload length P, varint                                   |
 * | .      | P       | payload bytes (the last field)                             |
 *
 * IHAVE (type 2):
 * | 2      | 1 + T   | topic, str8                                                |
 * | .      | 1..8    | entry count N, varint                                      |
 * | .      | N x     | id, then count C varint (>= 1: ids seq .. seq + C - 1 of   |
 * |        |         | that origin and epoch), then hops varint (0..65535)        |
 *
 * GRAFT (type 3):
 * | 2      | 1 + T   | topic, str8                                                |
 * | .      | 1..8    | id count N, varint (0 = pure link request)                 |
 * | .      | N x     | id                                                         |
 *
 * PRUNE (type 4):
 * | 2      | 1 + T   | topic, str8                                                |
 *
 * GOSSIP_RUN (type 5): N >= 2 GOSSIPs of one topic, origin, epoch and hop count, seqs strictly
 * increasing; the shared fields are written once (hops at the same offset as GOSSIP's):
 * | 2      | 2       | hops, u16be                                                |
 * | 4      | 1 + T   | topic, str8                                                |
 * | .      | var     | id of the first message                                    |
 * | .      | 1..8    | message count N, varint (2..)                              |
 * | .      | 1..8    | first publishedAtMs, varint                                |
 * | .      | N x     | message: (not for the first) seq delta varint (>= 1) and   |
 * |        |         | publishedAtMs delta, zigzag varint; header code varint: 0  |
 * |        |         | none, 1 the previous message's (which has some), 2 + H     |
 * |        |         | then H entries as in GOSSIP (differing from the previous   |
 * |        |         | message's); payload length varint; payload                 |
 * A 1 KiB message of a burst costs about 5 bytes in a run instead of ~50 as a GOSSIP.
 *
 * Canonical form: every message has exactly one encoding, and the decoder rejects all others
 * (non-minimal varints, unsorted or duplicate header keys, a run message repeating the previous
 * message's headers in full, trailing bytes), so a decoded frame re-encodes to the same bytes. An empty header set is encoded as H = 0 and decoded as an
 * absent `headers` property.
 *
 * Domains checked on decode besides the limits (FrameLimits): seq >= 1, IHAVE hops <= 65535, an
 * IHAVE count >= 1 ending at most at 2^53 - 1, a run of at least 2 messages with increasing seqs
 * and times in 0..2^53-1 ('out-of-range'); GOSSIP hops cannot exceed 65535 by construction.
 *
 * This file holds the public surface; frame-encode.ts measures and writes, frame-decode.ts reads.
 *
 * Overhead of a GOSSIP with topic T bytes, origin O bytes, no headers and a 1 KiB payload:
 * 4 + (1 + T) + (1 + O + epoch + seq) + 6 (publishedAtMs, current dates) + 1 + 2 bytes, e.g.
 * 53 bytes for topic "orders.created", a 17-byte node name, a millisecond epoch and seq < 128.
 */

import { FrameType, type PlumtreeMessage } from '../types.js';
import { ByteReader } from '@plumtree/common';
import { FrameEncodeError } from './frame-errors.js';
import {
  checkHops,
  headersSize,
  headerKeysOf,
  measure,
  sortedHeaderKeys,
  write,
} from './frame-encode.js';
import { DEFAULT_FRAME_LIMITS, FRAME_CODEC_VERSION, GOSSIP_HOPS_OFFSET } from './frame-limits.js';
import { readTopic, type FrameReader } from './frame-decode.js';

export { decodeFrame, type DecodeResult } from './frame-decode.js';

// ---------------------------------------------------------------------------------------------
// Encoding

/**
 * Encode `msg` into a new buffer of exactly its encoded size (measured first, allocated once).
 * The result is a `Uint8Array` that may share a pooled `ArrayBuffer` with other small buffers
 * (Node's `Buffer` pool): use its `byteOffset` and `length`, not `.buffer` alone.
 * Throws {@link FrameEncodeError} when `msg` breaks the format: a string over its byte cap or
 * holding a lone surrogate, hops outside 0..65535, an epoch, seq or publishedAtMs that is not a
 * safe integer in its range (seq starts at 1), a run that is not one origin's increasing seqs,
 * an unknown type.
 */
export function encodeFrame(msg: PlumtreeMessage): Uint8Array {
  const keys = headerKeysOf(msg);
  const size = measure(msg, keys);
  // Node's pooled, uninitialised allocation: 3-5x cheaper than `new Uint8Array` for 1 KiB
  // frames. Safe only because `write` fills every byte, which the check below enforces.
  const pooled = Buffer.allocUnsafe(size);
  // A plain Uint8Array view, so `slice()` copies as callers expect (Buffer's does not).
  const out = new Uint8Array(pooled.buffer, pooled.byteOffset, size);
  const end = write(msg, keys, out, 0);
  if (end !== size) throw new FrameEncodeError('frame', `internal: measured ${size}, wrote ${end}`);
  return out;
}

/**
 * Encode `msg` into `target` at `offset` (e.g. straight into a batched write buffer after its
 * length prefix); returns the offset after the frame. Throws {@link FrameEncodeError} like
 * {@link encodeFrame}, and when the frame does not fit (nothing is written then).
 */
export function encodeFrameInto(msg: PlumtreeMessage, target: Uint8Array, offset: number): number {
  const keys = headerKeysOf(msg);
  const size = measure(msg, keys);
  if (!Number.isSafeInteger(offset) || offset < 0 || offset + size > target.length) {
    throw new FrameEncodeError(
      'target',
      `has no room for ${size} bytes at offset ${offset} (length ${target.length})`,
    );
  }
  return write(msg, keys, target, offset);
}

/** The exact byte length {@link encodeFrame} would produce; validates like it. */
export function encodedFrameSize(msg: PlumtreeMessage): number {
  return measure(msg, headerKeysOf(msg));
}

/**
 * The encoded size of a GOSSIP's header section (the count and every entry), validated as
 * {@link encodeFrame} validates it: throws {@link FrameEncodeError} for a value that is not a
 * string, a key over 255 UTF-8 bytes, a lone surrogate in a key or value. The encoder measures
 * headers with it; a publisher checks application headers with it before building a frame. The
 * policy caps (`maxHeaders`, `maxHeaderBytes` in {@link FrameLimits}) are the decoder's.
 */
export function encodedHeadersSize(headers: Readonly<Record<string, string>> | undefined): number {
  return headersSize(headers, sortedHeaderKeys(headers));
}

// ---------------------------------------------------------------------------------------------
// Hop patching and peeking (for forwarders and routing; no full decode)

/** Whether `frame` starts as a version-1 frame of a type whose hops sit at the fixed offset. */
function hasHops(frame: Uint8Array): boolean {
  return (
    frame.length >= GOSSIP_HOPS_OFFSET + 2 &&
    frame[0] === FRAME_CODEC_VERSION &&
    (frame[1] === FrameType.Gossip || frame[1] === FrameType.GossipRun)
  );
}

/**
 * Set the hop count of an encoded GOSSIP or GOSSIP_RUN frame in place (bytes 2..3), so a
 * forwarder sends the bytes it received instead of re-encoding. Note that a payload decoded from
 * this frame is a view of the same memory; the patch does not touch it. Throws
 * {@link FrameEncodeError} when `frame` is not such a version-1 frame or `hops` is outside
 * 0..65535 (both programmer errors: only frames that decoded successfully should be forwarded).
 */
export function patchGossipHops(frame: Uint8Array, hops: number): void {
  checkHops(hops, 'hops', -1);
  if (!hasHops(frame)) {
    throw new FrameEncodeError('frame', 'is not a version-1 GOSSIP or GOSSIP_RUN frame');
  }
  frame[GOSSIP_HOPS_OFFSET] = hops >>> 8;
  frame[GOSSIP_HOPS_OFFSET + 1] = hops & 0xff;
}

/**
 * The hop count of a version-1 GOSSIP or GOSSIP_RUN frame, read from its fixed offset without
 * decoding the rest; undefined when `frame` is too short or not such a frame. Never throws.
 */
export function readGossipHops(frame: Uint8Array): number | undefined {
  if (!hasHops(frame)) return undefined;
  return (frame[GOSSIP_HOPS_OFFSET]! << 8) | frame[GOSSIP_HOPS_OFFSET + 1]!;
}

/** The frame type of a version-1 frame, or undefined (short, other version, unknown type). */
export function peekFrameType(bytes: Uint8Array): FrameType | undefined {
  if (bytes.length < 2 || bytes[0] !== FRAME_CODEC_VERSION) return undefined;
  const t = bytes[1]!;
  return t >= FrameType.Gossip && t <= FrameType.GossipRun ? (t as FrameType) : undefined;
}

/**
 * The topic of a version-1 frame without decoding the rest (to route before a full decode);
 * undefined when the header or the topic is malformed. The rest of the frame is not validated:
 * a frame with a readable topic may still fail {@link decodeFrame}. Never throws.
 */
export function peekTopic(bytes: Uint8Array): string | undefined {
  const type = peekFrameType(bytes);
  if (type === undefined) return undefined;
  const hops = type === FrameType.Gossip || type === FrameType.GossipRun;
  const r: FrameReader = new ByteReader(bytes, hops ? GOSSIP_HOPS_OFFSET + 2 : 2);
  return readTopic(r, DEFAULT_FRAME_LIMITS);
}
