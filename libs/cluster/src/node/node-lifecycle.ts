/**
 * Where a node is in its life, shared read-only with its engines: they stop sending, joining and
 * retrying once the node leaves or closes, each at the step the node's contract names.
 */

/** What an engine reads of its node's life. */
export interface NodeLife {
  /** SWIM and the frame transport are up (`start` got past them). */
  readonly started: boolean;
  /** `close()` was called (also at the end of `leave()`, and when `start` failed). */
  readonly closed: boolean;
  /** `leave()` was called: the node is saying goodbye, then closes. */
  readonly leaving: boolean;
  /** Closed or leaving: nothing new is accepted. */
  readonly stopping: boolean;
}

/** The node's own, writable copy. */
export class NodeLifecycle implements NodeLife {
  started = false;
  closed = false;
  leaving = false;

  get stopping(): boolean {
    return this.closed || this.leaving;
  }
}
