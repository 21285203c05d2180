/**
 * Options of the {@link DurableReplicator}, their defaults and their validation.
 *
 * Page sizing: a page the replicator asks for is `pageMessages` records / `pageBytes` bytes; a
 * page it serves is the request's limits clamped to `serveMaxMessages`, `serveMaxBytes` and
 * `maxFrameBytes` minus the response header, so a peer cannot make it read or send more than
 * that in one go, whatever it asks. Catch-up throughput is then at most
 * `pageMessages / (paceMs + round trip + append time)` records per second per topic: the pause
 * between pages is what leaves room for live traffic.
 */
import { PlumtreeNodeError } from '../plumtree-node-error.js';
import { formatProblems, type Problem } from '@plumtree/common';

/** What a caller may set; every field has a default. */
export interface DurableReplicatorOptions {
  /** Records asked for per catch-up request. Default 256. */
  readonly pageMessages?: number;
  /** Record bytes asked for per catch-up request. Default 512 KiB. */
  readonly pageBytes?: number;
  /** Most records served per response, whatever the request asks. Default 256. */
  readonly serveMaxMessages?: number;
  /** Most record bytes served per response, whatever the request asks. Default 512 KiB. */
  readonly serveMaxBytes?: number;
  /**
   * Largest frame the transport carries; responses are trimmed to fit. Pass the node's
   * `maxFrameBytes`. Default 128 KiB (the node's default: 64 KiB payload + 64 KiB overhead).
   */
  readonly maxFrameBytes?: number;
  /** Pause before the next page of a catch-up, so live traffic interleaves. Default 10 ms. */
  readonly paceMs?: number;
  /** A request unanswered this long is retried with another peer. Default 5,000 ms. */
  readonly requestTimeoutMs?: number;
  /**
   * How long a record that arrived after a gap is held back waiting for the gap to fill, counted
   * from the later of its hold and the end of the last catch-up (never while one is in flight).
   * After it, the held records are delivered anyway (a stream is never blocked for good).
   * Default 10,000 ms: after a partition heals, membership took up to 6 s to converge in the
   * fault suite (docs/faults.md), and until it does the peers that have the gap are unknown.
   */
  readonly gapWaitMs?: number;
  /**
   * A log left with holes (gaps given up) asks a peer again after `gapWaitMs`, then after twice
   * that, ... up to this long between attempts, until the holes fill. Default 60,000 ms.
   */
  readonly repairMaxDelayMs?: number;
  /** Held-back records per topic; when full, the buffer is flushed in order. Default 1,024. */
  readonly maxHeldPerTopic?: number;
  /**
   * Records per topic accepted but not yet appended and delivered. A live record beyond it is
   * refused (`onLive` returns false) and pulled later by catch-up. Default 4,096.
   */
  readonly maxPendingPerTopic?: number;
  /** Streams named per request; beyond it the oldest epochs are left out. Default 4,096. */
  readonly maxMarksPerRequest?: number;
  /** Catch-up requests of one peer served at once; more are dropped (it retries). Default 4. */
  readonly maxServesPerPeer?: number;
  /** Catch-up requests served at once, every peer together. Default 32. */
  readonly maxServes?: number;
  /**
   * Streams (origin incarnations) whose order a topic tracks. A new one at the cap first forgets
   * those idle past `retentionMs` with nothing held back, then the longest idle. Default 10,000.
   */
  readonly maxStreamsPerTopic?: number;
  /** A stream idle this long is forgotten first at the cap (the log's retention). Default 24 h. */
  readonly retentionMs?: number;
}

/** Every option with its value. */
export type ResolvedDurableReplicatorOptions = Required<DurableReplicatorOptions>;

/** The defaults. */
export const DEFAULT_DURABLE_REPLICATOR_OPTIONS: ResolvedDurableReplicatorOptions = {
  pageMessages: 256,
  pageBytes: 512 * 1024,
  serveMaxMessages: 256,
  serveMaxBytes: 512 * 1024,
  maxFrameBytes: 128 * 1024,
  paceMs: 10,
  requestTimeoutMs: 5_000,
  gapWaitMs: 10_000,
  repairMaxDelayMs: 60_000,
  maxHeldPerTopic: 1_024,
  maxPendingPerTopic: 4_096,
  maxMarksPerRequest: 4_096,
  maxServesPerPeer: 4,
  maxServes: 32,
  maxStreamsPerTopic: 10_000,
  retentionMs: 24 * 60 * 60 * 1000,
};

/** Invalid replicator options; `problems` lists every one found. */
export class DurableOptionsError extends PlumtreeNodeError {
  override readonly name = 'DurableOptionsError';
  constructor(readonly problems: readonly Problem[]) {
    super(formatProblems('durable replicator options', problems));
  }
}

const MIN: Record<keyof DurableReplicatorOptions, number> = {
  pageMessages: 1,
  pageBytes: 1,
  serveMaxMessages: 1,
  serveMaxBytes: 1,
  maxFrameBytes: 1024,
  paceMs: 0,
  requestTimeoutMs: 1,
  gapWaitMs: 0,
  repairMaxDelayMs: 1,
  maxHeldPerTopic: 1,
  maxPendingPerTopic: 1,
  maxMarksPerRequest: 1,
  maxServesPerPeer: 1,
  maxServes: 1,
  maxStreamsPerTopic: 1,
  retentionMs: 1,
};

/** Fill in defaults and check every field; throws {@link DurableOptionsError} listing all problems. */
export function resolveDurableReplicatorOptions(
  options: DurableReplicatorOptions = {},
): ResolvedDurableReplicatorOptions {
  const out: Record<string, number> = { ...DEFAULT_DURABLE_REPLICATOR_OPTIONS };
  const problems: Problem[] = [];
  for (const [key, value] of Object.entries(options)) {
    if (!(key in MIN)) {
      problems.push({ field: key, message: 'unknown option' });
      continue;
    }
    if (value === undefined) continue;
    const min = MIN[key as keyof DurableReplicatorOptions];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
      problems.push({ field: key, message: `must be an integer >= ${min} (got ${String(value)})` });
      continue;
    }
    out[key] = value;
  }
  if ((out['maxMarksPerRequest'] ?? 0) > 16_384) {
    problems.push({
      field: 'maxMarksPerRequest',
      message: 'must be at most 16384 (the frame cap)',
    });
  }
  if (problems.length > 0) throw new DurableOptionsError(problems);
  return out as unknown as ResolvedDurableReplicatorOptions;
}
