import type { Rng } from '@plumtree/common';

/** Parameters of the {@link LatencyModel}. Milliseconds. */
export interface LatencyConfig {
  /** Fixed one-way cost of every message (serialisation, stack, switch). Default 0.2 ms. */
  readonly baseMs: number;
  /**
   * One-way cost per unit of distance; nodes sit in the unit square, so the largest
   * distance is sqrt(2). Default 2 ms: one-way latencies span 0.2 ms to about 3 ms.
   */
  readonly msPerUnit: number;
  /** Per-message jitter, uniform in [0, jitterMs). Default 0.1 ms. */
  readonly jitterMs: number;
}

/**
 * Defaults: a datacenter (0.2 ms to about 3 ms one way), the network the `lan` presets are
 * tuned for. `{ baseMs: 2, msPerUnit: 40, jitterMs: 1 }` models a metro area (2 to 60 ms).
 */
export const DEFAULT_LATENCY: LatencyConfig = { baseMs: 0.2, msPerUnit: 2, jitterMs: 0.1 };

/**
 * One-way link latency: each node gets random coordinates in the unit square from the seed, and
 *
 *   latency(a, b) = baseMs + msPerUnit * |pos(a) - pos(b)|          (deterministic per pair)
 *   sample(a, b)  = latency(a, b) + jitterMs * u,  u uniform in [0,1) from the network RNG
 *
 * Coordinates make latencies consistent (triangle inequality holds, near nodes are near for
 * everyone) without an N x N matrix: memory is two doubles per node.
 */
export class LatencyModel {
  private readonly xs: Float64Array;
  private readonly ys: Float64Array;
  readonly config: LatencyConfig;

  constructor(nodes: number, topologyRng: Rng, config: Partial<LatencyConfig> = {}) {
    this.config = { ...DEFAULT_LATENCY, ...config };
    for (const [k, v] of Object.entries(this.config)) {
      if (!Number.isFinite(v) || v < 0)
        throw new RangeError(`latency ${k} must be a finite number >= 0, got ${v}`);
    }
    this.xs = new Float64Array(nodes);
    this.ys = new Float64Array(nodes);
    for (let i = 0; i < nodes; i++) {
      this.xs[i] = topologyRng.next();
      this.ys[i] = topologyRng.next();
    }
  }

  /** Deterministic one-way latency between two nodes, without jitter. */
  latency(a: number, b: number): number {
    const dx = this.xs[a]! - this.xs[b]!;
    const dy = this.ys[a]! - this.ys[b]!;
    return this.config.baseMs + this.config.msPerUnit * Math.sqrt(dx * dx + dy * dy);
  }

  /** One message's latency: the pair's latency plus jitter drawn from `rng`. */
  sample(a: number, b: number, rng: Rng): number {
    const j = this.config.jitterMs;
    return j > 0 ? this.latency(a, b) + j * rng.next() : this.latency(a, b);
  }
}
