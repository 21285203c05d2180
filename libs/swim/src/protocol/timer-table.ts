/**
 * The core's one timer table (quinn's `connection/timer.rs`): every deadline of the SWIM core lives
 * here under a key, and {@link TimerTable.next} gives the earliest, which the shell turns into its
 * one real `setTimeout`.
 *
 * Keys are strings built by {@link timerKey}; setting a key again moves its deadline. A binary
 * heap with lazy deletion keeps `set`, `cancel` and `popDue` logarithmic, so a 1,000-member core
 * with hundreds of suspicion timers stays cheap to poll.
 */
export class TimerTable {
  private readonly deadlines = new Map<string, { at: number; gen: number }>();
  private heap: Array<{ at: number; key: string; gen: number }> = [];
  private gen = 0;

  /** Number of armed timers. */
  get size(): number {
    return this.deadlines.size;
  }

  /** Arm (or re-arm) `key` at `atMs`. */
  set(key: string, atMs: number): void {
    const gen = ++this.gen;
    this.deadlines.set(key, { at: atMs, gen });
    this.push({ at: atMs, key, gen });
    // Stale heap entries pile up when timers are re-armed often; rebuild when they dominate.
    if (this.heap.length > 64 && this.heap.length > 4 * this.deadlines.size) this.rebuild();
  }

  /** Disarm `key`; no effect when it is not armed. */
  cancel(key: string): void {
    this.deadlines.delete(key);
  }

  /** The deadline of `key`, if armed. */
  get(key: string): number | undefined {
    return this.deadlines.get(key)?.at;
  }

  /** Whether `key` is armed. */
  has(key: string): boolean {
    return this.deadlines.has(key);
  }

  /** The earliest armed deadline, or undefined when nothing is armed. */
  next(): number | undefined {
    this.dropStale();
    return this.heap[0]?.at;
  }

  /**
   * Disarm and return the earliest timer due at `nowMs` (deadline <= nowMs) with its deadline, or
   * undefined. Callers loop on it so that timers armed while handling one are seen in deadline order.
   */
  popDue(nowMs: number): { key: string; atMs: number } | undefined {
    this.dropStale();
    const top = this.heap[0];
    if (!top || top.at > nowMs) return undefined;
    this.pop();
    this.deadlines.delete(top.key);
    return { key: top.key, atMs: top.at };
  }

  private dropStale(): void {
    for (;;) {
      const top = this.heap[0];
      if (!top) return;
      const live = this.deadlines.get(top.key);
      if (live && live.gen === top.gen) return;
      this.pop();
    }
  }

  private rebuild(): void {
    this.heap = [];
    for (const [key, d] of this.deadlines) this.push({ at: d.at, key, gen: d.gen });
  }

  private push(e: { at: number; key: string; gen: number }): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && less(h[l]!, h[m]!)) m = l;
      if (r < h.length && less(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}

/** Ties resolve by arming order, so equal deadlines fire in the order they were set. */
function less(a: { at: number; gen: number }, b: { at: number; gen: number }): boolean {
  return a.at < b.at || (a.at === b.at && a.gen < b.gen);
}

/** The kinds of timers in the SWIM core's table. */
export const TimerKind = {
  /** Next probe of the round-robin probe cycle. */
  ProbeTick: 'probe-tick',
  /** Next gossip round. */
  GossipTick: 'gossip-tick',
  /** Next periodic push-pull. */
  PushPullTick: 'push-pull-tick',
  /** End of the direct phase of the current probe: no ack, go indirect. */
  ProbeTimeout: 'probe-timeout',
  /** End of the current probe: no ack by then means suspect. */
  ProbeDeadline: 'probe-deadline',
  /** Expiry of an ack handler kept for an indirect ping we relay (nack) or a user `ping`. */
  AckHandler: 'ack',
  /** A member's suspicion timer: declare it dead. */
  Suspicion: 'suspicion',
} as const;

/** One of the {@link TimerKind} values. */
export type TimerKind = (typeof TimerKind)[keyof typeof TimerKind];

/** The table key of a timer: its kind, plus the sequence number or member name it belongs to. */
export function timerKey(kind: TimerKind, id?: string | number): string {
  return id === undefined ? kind : `${kind}:${id}`;
}

/** Splits a key made by {@link timerKey}. */
export function parseTimerKey(key: string): { kind: TimerKind; id: string | undefined } {
  const i = key.indexOf(':');
  return i < 0
    ? { kind: key as TimerKind, id: undefined }
    : { kind: key.slice(0, i) as TimerKind, id: key.slice(i + 1) };
}

/**
 * The next instant of a fixed-period ticker that already fired at `atMs`; missed ticks are
 * dropped (as a Go ticker drops them).
 */
export function nextTick(atMs: number, periodMs: number, nowMs: number): number {
  const next = atMs + periodMs;
  if (next > nowMs) return next;
  return atMs + periodMs * (Math.floor((nowMs - atMs) / periodMs) + 1);
}
