import 'reflect-metadata';
import { IsBoolean, IsInt, IsNumber, Max, Min } from 'class-validator';
import { presetResolver, ProblemListError, type Problem, type Resolved } from '@plumtree/common';

/** Names of the configuration presets. */
export const PLUMTREE_PRESETS = ['default', 'lan', 'wan', 'largeCluster'] as const;
/** A preset name: `default` (the reference crate's defaults), `lan`, `wan` or `largeCluster`. */
export type PlumtreePresetName = (typeof PLUMTREE_PRESETS)[number];

/**
 * Configuration of the Plumtree core. Times are milliseconds, sizes are bytes or counts as named.
 *
 * Build one with {@link PlumtreeConfig.preset}, `PlumtreeConfig.lan()` etc., or
 * {@link resolvePlumtreeConfig} (preset plus overrides, validated). The defaults are those of the
 * reference crate memberlist-plumtree (`PlumtreeConfig::default()`), with the additions this core
 * needs named below.
 */
export class PlumtreeConfig {
  /**
   * Links a node opens when it joins a topic, all eager (the paper's `f`). Links are symmetric, so
   * a node ends with about twice this many neighbours; PRUNE turns the redundant ones lazy and
   * the eager links left form the tree. Default 3.
   */
  @IsInt() @Min(1) @Max(64) eagerFanout = 3;
  /**
   * Bound of the lazy set: every lazy peer receives each IHAVE batch, and a link pruned while the
   * lazy set is full is dropped. Default 6.
   */
  @IsInt() @Min(1) @Max(256) lazyFanout = 6;
  /** IHAVE batching period: announcements wait at most this long. Default 100 ms. */
  @IsInt() @Min(1) ihaveIntervalMs = 100;
  /**
   * Entries in one IHAVE batch; a full batch is flushed at once. An entry announces a run of
   * consecutive ids of one origin, so a burst of one publisher fills one entry per interval.
   * Default 16 (at most the decoder's 1,024 entries per frame).
   */
  @IsInt() @Min(1) @Max(1024) ihaveBatchSize = 16;
  /**
   * How many later IHAVE flushes announce an id again, to every neighbour (eager ones too), in
   * frames of their own (a flush with nothing new is scheduled `ihaveIntervalMs` later while
   * repeats are left). The paper and the reference crate announce once, to lazy peers only:
   * over reliable links no frame is lost. Where frames can be lost one by one, a node hears of
   * a message only through the one GOSSIP or IHAVE each neighbour sends it, so with loss p and
   * d neighbours it misses the message for good with probability about p^d (a node with no lazy
   * neighbour has no announcement to fall back on at all); with n repeats a miss needs the
   * GOSSIP or first IHAVE and n repeats lost on every link, about p^(d(n+1)). Costs n IHAVE
   * entries per message per neighbour, no payload. Default 0. Not in the reference crate.
   */
  @IsInt() @Min(0) @Max(8) ihaveRepeats = 0;
  /** How long a delivered message stays in the cache that answers GRAFTs. Default 60 s. */
  @IsInt() @Min(1) messageCacheTtlMs = 60_000;
  /** Maximum cached messages; the oldest is evicted first. Default 10,000. */
  @IsInt() @Min(1) messageCacheMaxSize = 10_000;
  /**
   * Maximum payload bytes cached; the oldest is evicted first. Default 16 MiB: 10,000 messages
   * of 1.6 KiB, so for small messages the count binds and large ones cannot make the cache a
   * memory problem (10,000 x 64 KiB would be 640 MiB).
   */
  @IsInt() @Min(1) messageCacheMaxBytes = 16 * 1024 * 1024;
  /**
   * Hop-count gain that triggers the paper's optimisation: when an IHAVE offers a path at least
   * this many hops shorter than the eager path a message came by, the two links are swapped.
   * Default 3.
   */
  @IsInt() @Min(1) @Max(255) optimizationThreshold = 3;
  /**
   * Least time between two optimisation swaps of one topic's tree on one node; 0 swaps at every
   * chance, as the paper does. One tree serves every publisher of a topic, and the shorter path
   * for one origin is often the longer one for another: with several publishers, unthrottled
   * swaps turn over the tree all the time (measured with 3 publishers on 7 loopback processes:
   * ~150 swaps, ~350 GRAFTs and ~500 PRUNEs per 400 messages, RMR 0.1-0.3 that never settled;
   * with swaps off, RMR 0.000). Default 10,000 ms: a tree still drifts towards short paths, one
   * swap per node per 10 s at most, and settles. Not in the reference crate.
   */
  @IsInt() @Min(0) optimizationCooldownMs = 10_000;
  /** Wait after the first IHAVE for a missing id before the first GRAFT. Default 500 ms. */
  @IsInt() @Min(1) graftTimeoutMs = 500;
  /**
   * The paper's shorter second timeout: base wait before each GRAFT retry to the next announcer;
   * retry n waits `min(graftRetryTimeoutMs * 2^(n-1), graftBackoffMaxMs)`. Default 250 ms.
   */
  @IsInt() @Min(1) graftRetryTimeoutMs = 250;
  /** Cap of the retry backoff. Default 4,000 ms (8 x graftTimeoutMs, as the reference caps it). */
  @IsInt() @Min(1) graftBackoffMaxMs = 4_000;
  /** GRAFTs sent for one missing id before it is given up (`graftFailed`). Default 5. */
  @IsInt() @Min(1) @Max(100) graftMaxRetries = 5;
  /**
   * Missing ids (announced by IHAVE, not received) tracked at most, all topics together; a new
   * one at the cap evicts the oldest (counted in `missingEvicted`). A peer's IHAVE can announce
   * 65,536 ids in a few bytes, so without a bound any peer grows this map at will. Default
   * 20,000 (about 5 MiB): a node misses ids for at most a few graft timeouts at a time, and the
   * 1,000- and 10,000-node simulations never hold more than a few hundred per node.
   */
  @IsInt() @Min(1) maxMissingIds = 20_000;
  /**
   * Announcers kept per missing id (the peers a GRAFT can go to); later ones are not kept
   * (counted in `announcersDropped`). Default 16: more than the eager and lazy fanouts of any
   * preset, so every neighbour of a tree fits.
   */
  @IsInt() @Min(1) @Max(1024) maxAnnouncersPerId = 16;
  /**
   * New missing ids one announcing peer may create at once (a token bucket per peer, refilled
   * at `newMissingPerPeerPerSecond`); ids beyond are not tracked (`missingOverBudget`). Tracking
   * an unknown id costs a few microseconds, so this bounds what a member announcing ids nobody
   * has costs this node. Default 20,000: a burst of 20,000 messages from one origin cannot
   * exhaust it, whatever the link speed (each id is new once per announcer).
   */
  @IsInt() @Min(1) newMissingPerPeerBurst = 20_000;
  /**
   * Refill of `newMissingPerPeerBurst`, ids per second. Default 10,000 (about 2% of a core at
   * ~2 µs an id). Measured on 9 loopback processes (`bench:cluster`, 2 loaded cores): a
   * 20,000-message burst created at most 5,048 new missing ids in one second from one peer
   * (10,392 in all), the closed loop at 1,282 msg/s at most 1,598; a topic whose IHAVEs keep
   * beating its payloads above ~10,000 msg/s wants it raised.
   */
  @IsNumber() @Min(0.001) newMissingPerPeerPerSecond = 10_000;
  /** Largest payload accepted for broadcast or from the network. Default 64 KiB. */
  @IsInt() @Min(1) @Max(16 * 1024 * 1024) maxMessageSize = 64 * 1024;
  /** Token-bucket refill rate of GRAFT answers per requesting peer. Default 10/s. */
  @IsNumber() @Min(0.001) graftRateLimitPerSecond = 10;
  /** Token-bucket capacity of GRAFT answers per requesting peer. Default 20. */
  @IsInt() @Min(1) graftRateLimitBurst = 20;
  /**
   * How long delivered ids are remembered for deduplication (the delivery contract's "while the
   * id is remembered"), counted from the last delivery of their origin incarnation on the topic:
   * ids are remembered per incarnation (every seq up to a watermark, and a bitmap above it), so
   * a burst of any length stays remembered while it runs, and an incarnation is only forgotten
   * once nothing of it is cached or missing. Default 120 s.
   */
  @IsInt() @Min(1) seenTtlMs = 120_000;
  /** Origin incarnations (per topic) remembered above which maintenance forgets the idlest. Default 100,000. */
  @IsInt() @Min(1) seenSoftCap = 100_000;
  /** Origin incarnations (per topic) never exceeded: a new one at the cap forgets the idlest first. Default 150,000. */
  @IsInt() @Min(1) seenHardCap = 150_000;
  /** Period of cache and seen-set expiry. Default 2 s. */
  @IsInt() @Min(1) maintenanceIntervalMs = 2_000;
  /** Upper bound of a topic's eager set; a link request beyond it is answered with PRUNE. Default 64. */
  @IsInt() @Min(1) maxEagerPeers = 64;
  /**
   * Baseline for benchmarks, not for production: flooding instead of Plumtree. Every peer of the
   * view is eager (no GRAFT to open links), a duplicate is dropped without PRUNE, a PRUNE is
   * ignored, so no IHAVE, GRAFT or PRUNE is ever sent and every node forwards every message to
   * every other subscriber. Default false.
   */
  @IsBoolean() flood = false;

  /** The reference crate's defaults. */
  static default(): PlumtreeConfig {
    return new PlumtreeConfig();
  }

  /** Low latency, high bandwidth: faster IHAVE and GRAFT, smaller threshold (reference `lan()`). */
  static lan(): PlumtreeConfig {
    return Object.assign(new PlumtreeConfig(), {
      ihaveIntervalMs: 50,
      messageCacheTtlMs: 30_000,
      optimizationThreshold: 2,
      ihaveBatchSize: 8,
      graftTimeoutMs: 200,
      graftRetryTimeoutMs: 100,
      graftBackoffMaxMs: 1_600,
      graftRateLimitPerSecond: 20,
      graftRateLimitBurst: 40,
      graftMaxRetries: 3,
      seenTtlMs: 60_000,
      maintenanceIntervalMs: 1_000,
    } satisfies Partial<PlumtreeConfig>);
  }

  /** High latency links: more fanout, longer timeouts (reference `wan()`). */
  static wan(): PlumtreeConfig {
    return Object.assign(new PlumtreeConfig(), {
      eagerFanout: 4,
      lazyFanout: 8,
      ihaveIntervalMs: 200,
      messageCacheTtlMs: 120_000,
      optimizationThreshold: 4,
      graftTimeoutMs: 1_000,
      graftRetryTimeoutMs: 500,
      graftBackoffMaxMs: 8_000,
      graftRateLimitPerSecond: 5,
      graftRateLimitBurst: 15,
      graftMaxRetries: 7,
      seenTtlMs: 240_000,
      maintenanceIntervalMs: 5_000,
    } satisfies Partial<PlumtreeConfig>);
  }

  /** 1,000+ nodes: wider trees, bigger caches (reference `large_cluster()`). */
  static largeCluster(): PlumtreeConfig {
    return Object.assign(new PlumtreeConfig(), {
      eagerFanout: 5,
      lazyFanout: 10,
      ihaveIntervalMs: 150,
      messageCacheTtlMs: 90_000,
      messageCacheMaxSize: 50_000,
      optimizationThreshold: 5,
      ihaveBatchSize: 32,
      graftTimeoutMs: 750,
      graftRetryTimeoutMs: 375,
      graftBackoffMaxMs: 6_000,
      graftMaxRetries: 5,
      seenTtlMs: 180_000,
      maintenanceIntervalMs: 3_000,
    } satisfies Partial<PlumtreeConfig>);
  }

  /** The preset of that name (each preset is the static factory of that name). */
  static preset(name: PlumtreePresetName): PlumtreeConfig {
    return PlumtreeConfig[name]();
  }
}

/** Configuration as a user writes it: an optional preset plus any overrides. */
export type PlumtreeConfigInput = Partial<Omit<PlumtreeConfig, never>> & {
  preset?: PlumtreePresetName;
};

/** One invalid field (the shared problem shape of `@plumtree/common`). */
export type ConfigProblem = Problem;

/** Thrown once for an invalid configuration; names every bad field. */
export class PlumtreeConfigError extends ProblemListError {
  override readonly name = 'PlumtreeConfigError';
  constructor(problems: readonly ConfigProblem[]) {
    super('Plumtree configuration', problems);
  }
}

/** A configuration {@link resolvePlumtreeConfig} returned: checked, frozen, taken as it is below. */
export type ResolvedPlumtreeConfig = Resolved<PlumtreeConfig>;

const KNOWN_FIELDS: ReadonlySet<string> = new Set(Object.keys(new PlumtreeConfig()));

/**
 * Build a validated configuration: start from `input.preset` (default `default`), apply the
 * overrides, and check every field. Throws one {@link PlumtreeConfigError} listing every problem:
 * unknown preset, unknown field, wrong type, out-of-range value, inconsistent pair. A
 * configuration this function returned is returned as it is (it was checked at the edge).
 */
export const resolvePlumtreeConfig: (
  input?: PlumtreeConfigInput | PlumtreeConfig,
) => ResolvedPlumtreeConfig = presetResolver({
  presets: PLUMTREE_PRESETS,
  defaultPreset: 'default',
  preset: PlumtreeConfig.preset,
  fields: KNOWN_FIELDS,
  crossChecks: plumtreeCrossChecks,
  error: (problems) => new PlumtreeConfigError(problems),
});

/** The pairs of fields that must agree. */
function plumtreeCrossChecks(base: PlumtreeConfig): Problem[] {
  const problems: Problem[] = [];
  if (base.seenHardCap < base.seenSoftCap) {
    problems.push({ field: 'seenHardCap', message: 'must be at least seenSoftCap' });
  }
  if (base.graftBackoffMaxMs < base.graftRetryTimeoutMs) {
    problems.push({ field: 'graftBackoffMaxMs', message: 'must be at least graftRetryTimeoutMs' });
  }
  if (base.maxEagerPeers < base.eagerFanout) {
    problems.push({ field: 'maxEagerPeers', message: 'must be at least eagerFanout' });
  }
  return problems;
}
