/**
 * The publish window: a burst of publishes is held to what the tree carries, so nothing is
 * queued without bound and then dropped on overflow.
 *
 * A message entering a tree at this node (its own publish, or a hand-off it accepts for a
 * publisher outside the tree) is *admitted* through {@link PublishWindow.admit}: injected at
 * once while the window is open, else kept in arrival order until it opens. The caller's promise
 * settles when the message is admitted, which is how `publish()` and Nest's `emit()` push back.
 *
 * The window is shut while
 * - the payload bytes admitted since the last flush turn reach `turnBytes`: a turn's frames are
 *   written at its end, so a synchronous burst is spread over turns and the transport's queues
 *   are measured between them; or
 * - some peer's queue is under pressure and still moving (the frame transport's `isPressured`:
 *   above its high-water mark, not yet back to half of it). A queue that stopped moving (a peer
 *   dead or silent before membership says so) does not shut it: the outbound engine demotes
 *   such a peer when its queue overflows.
 *
 * It opens again on the next turn (after the transport's flush), when the transport reports a
 * queue relieved, and, while something waits for a queue that may stop moving, on a poll every
 * {@link PRESSURE_POLL_MS}. The engine owns no socket: {@link PublishWindowHost} says whether the
 * node's queues are under pressure.
 */

/** How often a shut window looks again while messages wait (a queue may have stopped moving). */
export const PRESSURE_POLL_MS = 50;

/** What the window needs from its node. */
export interface PublishWindowHost {
  /** Whether some peer's queue is under pressure and still moving (see the file comment). */
  isPressured(nowMs: number): boolean;
}

/** Window counters (`stats().node.publishWindow`). */
export interface PublishWindowCounters {
  /** Messages admitted at once. */
  readonly admitted: number;
  /** Messages that waited for the window before being admitted. */
  readonly waited: number;
  /** Messages waiting now. */
  readonly waiting: number;
  /** Most messages waiting at one time. */
  readonly maxWaiting: number;
}

interface Waiter {
  readonly bytes: number;
  readonly accept: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (e: unknown) => void;
}

/** See the file comment. One per node. */
export class PublishWindow {
  private queue: (Waiter | undefined)[] = [];
  private head = 0;
  private turnBytes = 0;
  private turnArmed = false;
  private poll: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly counters = { admitted: 0, waited: 0, maxWaiting: 0 };

  constructor(
    private readonly host: PublishWindowHost,
    /** Payload bytes admitted per turn at most (one message is always admitted). */
    private readonly turnBytesMax: number,
  ) {}

  /**
   * Run `accept` (inject the message, queue its frames) now when the window is open, else once it
   * opens, in arrival order; the promise settles with what `accept` returns or throws.
   */
  admit<T>(bytes: number, accept: () => T): Promise<T> {
    if (this.head === this.queue.length && this.isOpen(bytes)) {
      this.counters.admitted++;
      this.take(bytes);
      try {
        return Promise.resolve(accept());
      } catch (e) {
        return Promise.reject(e as Error);
      }
    }
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ bytes, accept, resolve: resolve as (v: unknown) => void, reject });
      const n = this.queue.length - this.head;
      if (n > this.counters.maxWaiting) this.counters.maxWaiting = n;
      this.armTurn();
    });
  }

  /** A queue under pressure was relieved: look again on the next turn. */
  relieved(): void {
    if (this.head < this.queue.length) this.armTurn();
  }

  /** Reject every waiting message with `error` (the node is closing); later admits still run. */
  close(error: () => Error): void {
    this.closed = true;
    if (this.poll !== undefined) clearTimeout(this.poll);
    this.poll = undefined;
    const rest = this.queue;
    const head = this.head;
    this.queue = [];
    this.head = 0;
    for (let i = head; i < rest.length; i++) rest[i]!.reject(error());
  }

  stats(): PublishWindowCounters {
    return { ...this.counters, waiting: this.queue.length - this.head };
  }

  private isOpen(bytes: number): boolean {
    if (this.turnBytes > 0 && this.turnBytes + bytes > this.turnBytesMax) return false;
    return !this.host.isPressured(Date.now());
  }

  private take(bytes: number): void {
    this.turnBytes += bytes;
    this.armTurn();
  }

  /** The next turn resets the turn's bytes and admits what waits. */
  private armTurn(): void {
    if (this.turnArmed || this.closed) return;
    this.turnArmed = true;
    // Armed after the transport's flush of this turn (setImmediate runs in order): its
    // queues are measured with this turn's frames in them.
    setImmediate(this.onTurn);
  }

  private readonly onTurn = (): void => {
    this.turnArmed = false;
    this.turnBytes = 0;
    this.drain();
  };

  private drain(): void {
    const q = this.queue;
    while (this.head < q.length) {
      const w = q[this.head]!;
      if (!this.isOpen(w.bytes)) break;
      q[this.head++] = undefined;
      this.counters.waited++;
      this.take(w.bytes);
      try {
        w.resolve(w.accept());
      } catch (e) {
        w.reject(e);
      }
    }
    // Slots admitted stay (as undefined) until the queue is empty: one burst's worth at most.
    if (this.head === q.length) {
      this.queue = [];
      this.head = 0;
    }
    // Shut by pressure with nothing admitted: look again soon (a relief reaches `relieved`).
    if (this.head < this.queue.length && !this.turnArmed && this.poll === undefined) {
      this.poll = setTimeout(() => {
        this.poll = undefined;
        this.drain();
      }, PRESSURE_POLL_MS);
    }
  }
}
