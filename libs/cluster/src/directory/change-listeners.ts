/**
 * The directory's change listeners: called with a node's name after its entry changed, each
 * isolated from the others' errors (the directory is consistent before any is called, and a
 * decoder that promised never to throw must not unwind through a listener's bug).
 */

/** See the file comment. */
export class ChangeListeners {
  private readonly listeners = new Set<(node: string) => void>();
  private report: ((error: unknown, node: string) => void) | undefined;
  /** Errors thrown by listeners. */
  errors = 0;

  /** Add `listener`; returns its removal. */
  add(listener: (node: string) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Where listeners' errors go; without a handler they are rethrown in a microtask. */
  onError(handler: ((error: unknown, node: string) => void) | undefined): void {
    this.report = handler;
  }

  /** Call every listener with `node`. */
  notify(node: string): void {
    for (const l of [...this.listeners]) {
      try {
        l(node);
      } catch (err) {
        this.errors++;
        const report = this.report;
        if (report !== undefined) {
          report(err, node);
        } else {
          queueMicrotask(() => {
            throw err;
          });
        }
      }
    }
  }
}
