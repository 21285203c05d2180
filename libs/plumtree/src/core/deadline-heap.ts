/**
 * A binary min-heap of (deadline, key) pairs with lazy deletion: callers keep the authoritative
 * deadline elsewhere and skip popped pairs that no longer match it. Ties pop in insertion order,
 * which keeps runs deterministic.
 */
export class DeadlineHeap<K> {
  private readonly at: number[] = [];
  private readonly seq: number[] = [];
  private readonly keys: K[] = [];
  private counter = 0;

  get size(): number {
    return this.at.length;
  }

  /** Earliest deadline, or undefined when empty. */
  peek(): number | undefined {
    return this.at[0];
  }

  push(deadlineMs: number, key: K): void {
    const at = this.at;
    const seq = this.seq;
    const keys = this.keys;
    let i = at.length;
    const s = this.counter++;
    at.push(deadlineMs);
    seq.push(s);
    keys.push(key);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (at[p]! < deadlineMs || (at[p] === deadlineMs && seq[p]! < s)) break;
      at[i] = at[p]!;
      seq[i] = seq[p]!;
      keys[i] = keys[p]!;
      i = p;
    }
    at[i] = deadlineMs;
    seq[i] = s;
    keys[i] = key;
  }

  /** Remove and return the earliest key if its deadline is <= nowMs. */
  popDue(nowMs: number): K | undefined {
    if (this.at.length === 0 || this.at[0]! > nowMs) return undefined;
    const top = this.keys[0]!;
    const lastAt = this.at.pop()!;
    const lastSeq = this.seq.pop()!;
    const lastKey = this.keys.pop()!;
    const n = this.at.length;
    if (n > 0) {
      const at = this.at;
      const seq = this.seq;
      const keys = this.keys;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        let c = l;
        if (r < n && (at[r]! < at[l]! || (at[r] === at[l] && seq[r]! < seq[l]!))) c = r;
        if (at[c]! > lastAt || (at[c] === lastAt && seq[c]! > lastSeq)) break;
        at[i] = at[c]!;
        seq[i] = seq[c]!;
        keys[i] = keys[c]!;
        i = c;
      }
      at[i] = lastAt;
      seq[i] = lastSeq;
      keys[i] = lastKey;
    }
    return top;
  }

  clear(): void {
    this.at.length = 0;
    this.seq.length = 0;
    this.keys.length = 0;
  }
}
