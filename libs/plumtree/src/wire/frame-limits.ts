import type { Problem } from '@plumtree/common';
import { FrameLimitsError } from './frame-errors.js';

/** Codec version written in byte 0 of every frame. */
export const FRAME_CODEC_VERSION = 1;

/** Offset of the big-endian u16 hop count of GOSSIP and GOSSIP_RUN, patched in place by forwarders. */
export const GOSSIP_HOPS_OFFSET = 2;

/** Largest hop count a frame carries (GOSSIP's fixed u16; IHAVE uses the same domain). */
export const MAX_FRAME_HOPS = 0xffff;

/** Largest byte length of a u8-prefixed string: topic, origin, header key. */
export const MAX_STR8_BYTES = 0xff;

/**
 * Policy caps applied when decoding frames from the network. The format's own caps
 * (255-byte topic/origin/header key, u16 hops, 2^53 - 1 varints) hold regardless.
 */
export interface FrameLimits {
  /** Whole frame, checked first. Default 1 MiB + 64 KiB (payload plus headers and ids). */
  readonly maxFrameBytes: number;
  /** GOSSIP payload. Default 1 MiB. Keep it at or above the core's `maxMessageSize`. */
  readonly maxPayloadBytes: number;
  /** Topic, 0..255. Default 255. */
  readonly maxTopicBytes: number;
  /** Header entries in one GOSSIP. Default 64. */
  readonly maxHeaders: number;
  /** Sum of the UTF-8 lengths of all header keys and values in one GOSSIP. Default 16 KiB. */
  readonly maxHeaderBytes: number;
  /** Entries in one IHAVE. Default 1024 (the core's `ihaveBatchSize` is at most 1024). */
  readonly maxIHaveEntries: number;
  /**
   * Ids one IHAVE announces, its entries' counts summed: bounds the work and the repair state a
   * single frame can cause. Default 65,536.
   */
  readonly maxIHaveIds: number;
  /** Ids in one GRAFT. Default 1024. */
  readonly maxGraftIds: number;
  /** Messages in one GOSSIP_RUN. Default 1024. */
  readonly maxRunMessages: number;
}

/** The limits `decodeFrame` applies when given none. */
export const DEFAULT_FRAME_LIMITS: Readonly<FrameLimits> = Object.freeze({
  maxFrameBytes: 1024 * 1024 + 64 * 1024,
  maxPayloadBytes: 1024 * 1024,
  maxTopicBytes: MAX_STR8_BYTES,
  maxHeaders: 64,
  maxHeaderBytes: 16 * 1024,
  maxIHaveEntries: 1024,
  maxIHaveIds: 65_536,
  maxGraftIds: 1024,
  maxRunMessages: 1024,
});

/**
 * Merge `partial` over {@link DEFAULT_FRAME_LIMITS} and validate the result once, at
 * configuration time: every limit a non-negative safe integer, `maxTopicBytes` at most 255.
 * Throws {@link FrameLimitsError} listing every problem.
 */
export function resolveFrameLimits(partial: Partial<FrameLimits> = {}): FrameLimits {
  const limits: FrameLimits = { ...DEFAULT_FRAME_LIMITS, ...partial };
  const problems: Problem[] = [];
  for (const key of Object.keys(DEFAULT_FRAME_LIMITS) as (keyof FrameLimits)[]) {
    const v = limits[key];
    if (!Number.isSafeInteger(v) || v < 0) {
      problems.push({ field: key, message: `must be a non-negative integer (got ${String(v)})` });
    }
  }
  if (limits.maxTopicBytes > MAX_STR8_BYTES) {
    problems.push({
      field: 'maxTopicBytes',
      message: `must be at most ${MAX_STR8_BYTES} (got ${limits.maxTopicBytes})`,
    });
  }
  if (problems.length > 0) throw new FrameLimitsError(problems);
  return limits;
}
