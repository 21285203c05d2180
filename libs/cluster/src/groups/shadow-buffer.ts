/**
 * The messages a queue group member holds for another member (their owner) until the owner
 * acknowledges them: if the owner dies first, the survivors hand them to their handlers again
 * (docs/queue-groups.md).
 *
 * Bounded by count and bytes: when full, the oldest entry is dropped and counted (it loses its
 * takeover guarantee, never its first delivery, which is the owner's). Acknowledged keys are
 * remembered for a while (bounded as well), so an acknowledgement that overtakes the message it
 * names still clears it when the message arrives.
 */

/** One message held for its owner. */
export interface ShadowEntry<T> {
  readonly key: string;
  /** The member expected to handle it. */
  owner: string;
  readonly bytes: number;
  readonly value: T;
  /** When it was shadowed or last given a new owner (the engine's clock). */
  atMs: number;
}

/** Counters of one buffer. */
export interface ShadowCounters {
  /** Entries held now. */
  readonly held: number;
  /** Bytes held now. */
  readonly heldBytes: number;
  /** Entries ever shadowed. */
  readonly shadowed: number;
  /** Entries cleared by their owner's acknowledgement. */
  readonly acknowledged: number;
  /** Entries dropped because the buffer was full. */
  readonly dropped: number;
}

/** Limits of a {@link ShadowBuffer}. */
export interface ShadowLimits {
  readonly maxEntries: number;
  readonly maxBytes: number;
  /** Acknowledged keys remembered for acknowledgements that arrive before their message. */
  readonly maxAckedKeys: number;
}

/** See the file comment. */
export class ShadowBuffer<T> {
  /** Insertion order is age order: the first entry is the oldest. */
  private readonly entries = new Map<string, ShadowEntry<T>>();
  private readonly ackedKeys = new Set<string>();
  private bytes = 0;
  private shadowed = 0;
  private acknowledged = 0;
  private dropped = 0;

  constructor(private readonly limits: ShadowLimits) {}

  /** Hold `value` for `owner`; false when its acknowledgement arrived already (nothing held). */
  add(key: string, owner: string, bytes: number, value: T, atMs: number): boolean {
    if (this.ackedKeys.delete(key)) {
      this.acknowledged++;
      return false;
    }
    if (this.entries.has(key)) return true;
    this.entries.set(key, { key, owner, bytes, value, atMs });
    this.bytes += bytes;
    this.shadowed++;
    while (
      this.entries.size > this.limits.maxEntries ||
      (this.bytes > this.limits.maxBytes && this.entries.size > 1)
    ) {
      const oldest = this.entries.values().next().value!;
      this.delete(oldest);
      this.dropped++;
    }
    return true;
  }

  /** The owner handled `key`: forget it (or remember the key when it has not arrived yet). */
  ack(key: string): void {
    const e = this.entries.get(key);
    if (e !== undefined) {
      this.delete(e);
      this.acknowledged++;
      return;
    }
    this.ackedKeys.add(key);
    if (this.ackedKeys.size > this.limits.maxAckedKeys) {
      this.ackedKeys.delete(this.ackedKeys.values().next().value!);
    }
  }

  /**
   * Give the entries `select` picks the owner `pick` names (from `nowMs`); those it gives to
   * `self` are removed and returned (oldest first) for this member to handle. An entry `pick`
   * finds no owner for stays as it is.
   */
  reassign(
    select: (e: ShadowEntry<T>) => boolean,
    pick: (e: ShadowEntry<T>) => string | undefined,
    self: string,
    nowMs: number,
  ): ShadowEntry<T>[] {
    const mine: ShadowEntry<T>[] = [];
    for (const e of [...this.entries.values()]) {
      if (!select(e)) continue;
      const owner = pick(e);
      if (owner === undefined) continue;
      if (owner === self) {
        this.delete(e);
        mine.push(e);
      } else {
        e.owner = owner;
        e.atMs = nowMs;
      }
    }
    return mine;
  }

  /** Whether an entry is held for `owner`. */
  holdsFor(owner: string): boolean {
    for (const e of this.entries.values()) if (e.owner === owner) return true;
    return false;
  }

  counters(): ShadowCounters {
    return {
      held: this.entries.size,
      heldBytes: this.bytes,
      shadowed: this.shadowed,
      acknowledged: this.acknowledged,
      dropped: this.dropped,
    };
  }

  private delete(e: ShadowEntry<T>): void {
    this.entries.delete(e.key);
    this.bytes -= e.bytes;
  }
}
