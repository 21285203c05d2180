/**
 * A FIFO queue with O(1) push and shift: an array read from a moving head, so shifting never
 * moves the items behind it.
 *
 * @remarks
 * The consumed slots are dropped when the queue runs empty, or once more than 1024 of them make
 * up over half the array: memory stays within twice the waiting items, and the copy that drops
 * them is paid for by the shifts before it. One copy for the Plumtree core's outputs and the
 * node's delivery queue.
 *
 * @public
 */
export class FifoQueue<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  /** Items waiting. */
  get length(): number {
    return this.items.length - this.head;
  }

  /** Appends `item` at the tail. */
  push(item: T): void {
    this.items.push(item);
  }

  /** The item at the head, left in place; `undefined` when empty. */
  peek(): T | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }

  /** Removes and returns the item at the head; `undefined` when empty. */
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Keeps only the items `keep` accepts, in order. */
  retain(keep: (item: T) => boolean): void {
    this.items = this.items.slice(this.head).filter((i) => i !== undefined && keep(i));
    this.head = 0;
  }

  /** Drops every item. */
  clear(): void {
    this.items = [];
    this.head = 0;
  }
}
