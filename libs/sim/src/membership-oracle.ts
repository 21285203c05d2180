import type { Rng } from '@plumtree/common';

/** Failure-detection timing of the {@link MembershipOracle}. Milliseconds. */
export interface DetectionConfig {
  /** Time from a crash until the first live node learns of it. Default 5,000 ms. */
  readonly detectionDelayMs: number;
  /**
   * Per-observer spread: observer o learns at `crash + detectionDelayMs + detectionJitterMs * u(o)`,
   * u uniform in [0,1). SWIM spreads a confirmed death by gossip, so nodes learn at different
   * times; default 2,000 ms.
   */
  readonly detectionJitterMs: number;
  /**
   * Observers whose learning times fall in the same bucket learn together, at the bucket's end
   * (never earlier than their own time): one simulator event per bucket instead of one per
   * observer. Default 10 ms.
   */
  readonly detectionBucketMs: number;
}

/** Defaults: detection like a memberlist LAN cluster's suspicion timeout plus gossip spread. */
export const DEFAULT_DETECTION: DetectionConfig = {
  detectionDelayMs: 5_000,
  detectionJitterMs: 2_000,
  detectionBucketMs: 10,
};

/** A set of nodes crashed at the same instant. */
export interface CrashBatch {
  readonly index: number;
  readonly atMs: number;
  readonly members: Int32Array;
  /** When the last live observer learns of this batch. */
  readonly allLearnedAtMs: number;
}

/** Observers that learn of one crash batch at one instant: one simulator event. */
export interface DetectionBucket {
  readonly batch: number;
  readonly atMs: number;
  readonly observers: Int32Array;
}

/**
 * The full-view membership oracle that SWIM later replaces: every node starts knowing every
 * other node; a crash is learned by each live node after the detection delay plus its own
 * jitter. State is per crash batch (one byte per node per batch), never per (observer, peer).
 * Crashes are permanent (no restart is modelled).
 */
export class MembershipOracle {
  /** `crashed[i]` is 1 once node i has crashed. */
  readonly crashed: Uint8Array;
  private readonly crashBatchOf: Int32Array;
  private readonly learned: Uint8Array[] = [];
  private readonly batchList: CrashBatch[] = [];
  readonly config: DetectionConfig;

  constructor(
    private readonly nodes: number,
    config: Partial<DetectionConfig> = {},
  ) {
    this.config = { ...DEFAULT_DETECTION, ...config };
    if (!(this.config.detectionBucketMs > 0)) throw new RangeError('detectionBucketMs must be > 0');
    if (!(this.config.detectionDelayMs >= 0) || !(this.config.detectionJitterMs >= 0)) {
      throw new RangeError('detectionDelayMs and detectionJitterMs must be >= 0');
    }
    this.crashed = new Uint8Array(nodes);
    this.crashBatchOf = new Int32Array(nodes).fill(-1);
  }

  /** Crash batches so far, in order. */
  get batches(): readonly CrashBatch[] {
    return this.batchList;
  }

  /** Whether `observer` has learned that `peer` crashed. */
  knowsDown(observer: number, peer: number): boolean {
    const b = this.crashBatchOf[peer]!;
    return b >= 0 && this.learned[b]![observer] === 1;
  }

  /** Record that `observer` now knows about `batch`. */
  learn(batch: number, observer: number): void {
    this.learned[batch]![observer] = 1;
  }

  /**
   * Crash `members` (already crashed ones are ignored) at `nowMs` and plan who learns when.
   * Returns the batch and its detection buckets in time order; the caller schedules them.
   */
  crash(
    members: readonly number[],
    nowMs: number,
    rng: Rng,
  ): { batch: CrashBatch; buckets: DetectionBucket[] } {
    const fresh = members.filter((m) => this.crashed[m] === 0);
    const index = this.batchList.length;
    for (const m of fresh) {
      this.crashed[m] = 1;
      this.crashBatchOf[m] = index;
    }
    this.learned.push(new Uint8Array(this.nodes));
    const { detectionDelayMs, detectionJitterMs, detectionBucketMs } = this.config;
    const first = nowMs + detectionDelayMs;
    const bucketCount = Math.floor(detectionJitterMs / detectionBucketMs) + 1;
    const bucketOf = new Int32Array(this.nodes).fill(-1);
    const sizes = new Int32Array(bucketCount);
    // Every node draws (crashed or not) so the learning times of a seed do not depend on
    // which nodes crashed earlier.
    for (let o = 0; o < this.nodes; o++) {
      const u = rng.next();
      if (this.crashed[o] === 1) continue;
      const b = Math.min(bucketCount - 1, Math.floor((detectionJitterMs * u) / detectionBucketMs));
      bucketOf[o] = b;
      sizes[b]!++;
    }
    const buckets: DetectionBucket[] = [];
    const lists = Array.from(sizes, (s) => new Int32Array(s));
    const fill = new Int32Array(bucketCount);
    for (let o = 0; o < this.nodes; o++) {
      const b = bucketOf[o]!;
      if (b >= 0) lists[b]![fill[b]!++] = o;
    }
    let last = first;
    for (let b = 0; b < bucketCount; b++) {
      if (lists[b]!.length === 0) continue;
      // The bucket's end, capped at the largest possible learning time.
      const atMs = first + Math.min(detectionJitterMs, (b + 1) * detectionBucketMs);
      buckets.push({ batch: index, atMs, observers: lists[b]! });
      last = atMs;
    }
    const batch: CrashBatch = {
      index,
      atMs: nowMs,
      members: Int32Array.from(fresh),
      allLearnedAtMs: last,
    };
    this.batchList.push(batch);
    return { batch, buckets };
  }
}
