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
    const s = this.counter++;
    let i = this.at.length;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.earlier(this.at[p]!, this.seq[p]!, deadlineMs, s)) break;
      this.place(i, this.at[p]!, this.seq[p]!, this.keys[p]!);
      i = p;
    }
    this.place(i, deadlineMs, s, key);
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
      const { at, seq } = this;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && this.earlier(at[r]!, seq[r]!, at[l]!, seq[l]!) ? r : l;
        if (this.earlier(lastAt, lastSeq, at[c]!, seq[c]!)) break;
        this.place(i, at[c]!, seq[c]!, this.keys[c]!);
        i = c;
      }
      this.place(i, lastAt, lastSeq, lastKey);
    }
    return top;
  }

  /** Pop every key due at `nowMs`, earliest first, into `fn` (keys it pushes due now come too). */
  forEachDue(nowMs: number, fn: (key: K) => void): void {
    for (let key = this.popDue(nowMs); key !== undefined; key = this.popDue(nowMs)) fn(key);
  }

  /** Keep only the pairs `keep` accepts (dropping stale ones early), in heap order again. */
  compact(keep: (deadlineMs: number, key: K) => boolean): void {
    const entries: { at: number; seq: number; key: K }[] = [];
    for (let i = 0; i < this.at.length; i++) {
      if (keep(this.at[i]!, this.keys[i]!))
        entries.push({ at: this.at[i]!, seq: this.seq[i]!, key: this.keys[i]! });
    }
    // Sorted by (deadline, insertion): a sorted array is a valid min-heap.
    entries.sort((a, b) => a.at - b.at || a.seq - b.seq);
    this.clear();
    entries.forEach((e, i) => this.place(i, e.at, e.seq, e.key));
  }

  clear(): void {
    this.at.length = 0;
    this.seq.length = 0;
    this.keys.length = 0;
  }

  /** Whether (deadline a, insertion sa) pops before (b, sb): earlier deadline, then insertion. */
  private earlier(a: number, sa: number, b: number, sb: number): boolean {
    return a < b || (a === b && sa < sb);
  }

  /** Write an entry into slot `i` (one past the end appends). */
  private place(i: number, deadlineMs: number, s: number, key: K): void {
    this.at[i] = deadlineMs;
    this.seq[i] = s;
    this.keys[i] = key;
  }
}
