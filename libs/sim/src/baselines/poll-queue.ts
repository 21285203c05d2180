/**
 * A FIFO for a node's polled outputs: `push` appends, `shift` takes the oldest in O(1). The
 * backing array is reset whenever it has been drained, which the harness does after every input.
 */
export class PollQueue<T> {
  private items: T[] = [];
  private head = 0;

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head === this.items.length) {
      if (this.head > 0) {
        this.items.length = 0;
        this.head = 0;
      }
      return undefined;
    }
    const item = this.items[this.head]!;
    this.items[this.head++] = undefined as T;
    return item;
  }
}
