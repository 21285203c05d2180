/** Least-squares trend of memory samples: the soak's leak test. */

/** One point: time in ms, value in bytes. */
export interface Point {
  readonly t: number;
  readonly v: number;
}

/**
 * Slope of the least-squares line through `points`, in value units per minute:
 *
 * `slope = sum((t - mean t)(v - mean v)) / sum((t - mean t)^2)`, times 60,000 (ms per minute).
 *
 * Undefined with fewer than 3 points or when all times are equal.
 */
export function slopePerMinute(points: readonly Point[]): number | undefined {
  if (points.length < 3) return undefined;
  let mt = 0;
  let mv = 0;
  for (const p of points) {
    mt += p.t;
    mv += p.v;
  }
  mt /= points.length;
  mv /= points.length;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.t - mt) * (p.v - mv);
    den += (p.t - mt) ** 2;
  }
  return den === 0 ? undefined : (num / den) * 60_000;
}
