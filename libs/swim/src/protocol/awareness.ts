/**
 * Lifeguard's local health awareness (memberlist `awareness.go`).
 *
 * A node that misses nacks, fails probes or has to refute suspicion of itself is probably the
 * slow one; it raises its score and stretches its probe interval so it accuses others less
 * eagerly. Successful probes lower the score again.
 */
export class Awareness {
  private score = 0;

  /** @param max the awareness multiplier cap (`awarenessMaxMultiplier`); the score stays in [0, max - 1]. */
  constructor(private readonly max: number) {}

  /** Add `delta` to the score, clamped to [0, max - 1]. Returns true when the score changed. */
  applyDelta(delta: number): boolean {
    const initial = this.score;
    this.score = Math.min(Math.max(this.score + delta, 0), this.max - 1);
    return this.score !== initial;
  }

  /** The current score; 0 is healthy. */
  get healthScore(): number {
    return this.score;
  }

  /** `timeoutMs * (score + 1)`: the probe interval stretched by the current score. */
  scaleTimeout(timeoutMs: number): number {
    return timeoutMs * (this.score + 1);
  }
}
