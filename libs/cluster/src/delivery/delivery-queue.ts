/**
 * Deliveries leave the protocol's turn of the event loop through this bounded queue.
 *
 * Why: handlers are application code. Run synchronously inside the turn that read a batch of
 * frames, a slow handler (or a synchronous one that does real work) holds the event loop for the
 * whole batch, and SWIM's probes, acks and timers wait behind it: under load peers time the node
 * out and declare it dead although it is only busy. Queued, the handlers run in slices of at most
 * `sliceMs` (at least one delivery per slice); between slices the event loop serves timers and
 * sockets, so membership keeps answering whatever the handlers cost.
 *
 * Bounded: when more than `highWater` deliveries (or `highWaterBytes` of payload) wait, the node
 * stops reading Plumtree frames
 * (`onFull`, which pauses the frame transport's inbound side; SWIM's UDP and TCP are not
 * paused). Peers' queues toward this node then fill, they demote it to lazy, and it catches up
 * through IHAVE/GRAFT once it reads again (`onDrained`, at half of both marks). Memory at the slow
 * node is capped by the high-water marks plus what one read delivers; at its peers by their
 * queue caps.
 *
 * Order: one FIFO for all topics, so deliveries keep the order the core produced them in.
 *
 * Gated observers (a handler with a concurrency limit, `SubscribeOptions.gate`): while the
 * delivery at the head goes to an observer whose gate is shut, the queue waits (for every topic:
 * the FIFO keeps its order) and fills, with the backpressure above, until the gate calls back.
 */

import { FifoQueue } from '@plumtree/common';

/**
 * An observer that takes deliveries only while it has room (a handler running at most N at once):
 * the queue asks before handing it the delivery at its head, and waits while it is shut.
 */
export interface DeliveryGate {
  /** Whether the observer takes a delivery now. */
  isOpen(): boolean;
  /** The queue waits on this gate: call `resume` (once) when it may be open again. */
  onOpen(resume: () => void): void;
}

/** Where a queued delivery goes. */
export interface QueueObserver<T> {
  next(value: T): void;
  /** Present on a gated observer: see {@link DeliveryGate}. */
  readonly gate?: DeliveryGate;
}

/** One queued delivery: the value and the observers it goes to. */
interface Entry<T> {
  readonly value: T;
  readonly observers: readonly QueueObserver<T>[];
  readonly bytes: number;
}

/** Settings of a {@link DeliveryQueue}. */
export interface DeliveryQueueOptions {
  /** Waiting deliveries above which `onFull` is called. */
  readonly highWater: number;
  /** Waiting payload bytes above which `onFull` is called. */
  readonly highWaterBytes: number;
  /** Longest run of handlers in one slice, in ms (at least one delivery runs per slice). */
  readonly sliceMs: number;
  /** The queue went over `highWater`. */
  readonly onFull: () => void;
  /** The queue went down to half of both marks after `onFull`. */
  readonly onDrained: () => void;
  /** Monotonic clock in ms. Default `performance.now`. */
  readonly now?: () => number;
  /** Runs a slice later. Default `setImmediate` (after pending I/O and timers of this turn). */
  readonly schedule?: (fn: () => void) => void;
}

/** Counters of a {@link DeliveryQueue}. */
export interface DeliveryQueueStats {
  /** Deliveries waiting now. */
  readonly pending: number;
  /** Payload bytes waiting now. */
  readonly pendingBytes: number;
  /** Most deliveries that waited at once. */
  readonly maxPending: number;
  /** Times the queue went over `highWater` (reading was paused). */
  readonly pauses: number;
  /** Slices run. */
  readonly slices: number;
  /** Longest slice in ms (one handler can exceed `sliceMs`; this shows by how much). */
  readonly longestSliceMs: number;
}

/** See the file header. */
export class DeliveryQueue<T> {
  private readonly entries = new FifoQueue<Entry<T>>();
  private bytes = 0;
  private scheduled = false;
  /** The head waits for a shut gate; its `onOpen` callback schedules the next slice. */
  private waiting = false;
  private paused = false;
  private closed = false;
  private maxPending = 0;
  private pauses = 0;
  private slices = 0;
  private longestSliceMs = 0;
  private readonly now: () => number;
  private readonly schedule: (fn: () => void) => void;

  constructor(private readonly options: DeliveryQueueOptions) {
    if (!(options.highWater >= 1 && options.highWaterBytes >= 1)) {
      throw new RangeError('DeliveryQueue: high-water marks must be at least 1');
    }
    this.now = options.now ?? (() => performance.now());
    this.schedule = options.schedule ?? ((fn) => setImmediate(fn));
  }

  /** Deliveries waiting. */
  get pending(): number {
    return this.entries.length;
  }

  /**
   * Queues `value` (holding `bytes` of payload) for `observers`; they get it on a later turn, in
   * queue order.
   */
  push(value: T, observers: readonly QueueObserver<T>[], bytes: number): void {
    if (this.closed) return;
    this.entries.push({ value, observers, bytes });
    this.bytes += bytes;
    const pending = this.pending;
    if (pending > this.maxPending) this.maxPending = pending;
    if (
      !this.paused &&
      (pending > this.options.highWater || this.bytes > this.options.highWaterBytes)
    ) {
      this.paused = true;
      this.pauses++;
      this.options.onFull();
    }
    if (!this.scheduled && !this.waiting) {
      this.scheduled = true;
      this.schedule(this.runSlice);
    }
  }

  /**
   * Delivers everything that waits, now, then stops: nothing is queued or delivered after this.
   * Used by `close()`: deliveries the node received are not thrown away.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (let entry = this.entries.shift(); entry !== undefined; entry = this.entries.shift()) {
      for (const o of entry.observers) o.next(entry.value);
    }
    this.bytes = 0;
  }

  /** The counters. */
  stats(): DeliveryQueueStats {
    return {
      pending: this.pending,
      pendingBytes: this.bytes,
      maxPending: this.maxPending,
      pauses: this.pauses,
      slices: this.slices,
      longestSliceMs: this.longestSliceMs,
    };
  }

  /** A shut gate opened: deliver again. */
  private readonly resume = (): void => {
    if (!this.waiting) return;
    this.waiting = false;
    if (this.closed || this.scheduled) return;
    this.scheduled = true;
    this.schedule(this.runSlice);
  };

  private readonly runSlice = (): void => {
    this.scheduled = false;
    if (this.closed || this.pending === 0) return;
    this.slices++;
    const start = this.now();
    const deadline = start + this.options.sliceMs;
    do {
      const entry = this.entries.peek()!;
      const shut = shutGate(entry.observers);
      if (shut !== undefined) {
        this.waiting = true;
        shut.onOpen(this.resume);
        break;
      }
      this.entries.shift();
      this.bytes -= entry.bytes;
      for (const o of entry.observers) o.next(entry.value);
      if (this.closed) return;
    } while (this.entries.length > 0 && this.now() < deadline);
    const took = this.now() - start;
    if (took > this.longestSliceMs) this.longestSliceMs = took;
    if (
      this.paused &&
      this.pending <= this.options.highWater / 2 &&
      this.bytes <= this.options.highWaterBytes / 2
    ) {
      this.paused = false;
      this.options.onDrained();
    }
    if (this.pending > 0 && !this.scheduled && !this.waiting) {
      this.scheduled = true;
      this.schedule(this.runSlice);
    }
  };
}

/** The first observer of `observers` whose gate is shut. */
function shutGate<T>(observers: readonly QueueObserver<T>[]): DeliveryGate | undefined {
  for (const o of observers) if (o.gate !== undefined && !o.gate.isOpen()) return o.gate;
  return undefined;
}
