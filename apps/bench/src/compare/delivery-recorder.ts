/**
 * What a subscriber of `bench:compare` records per delivery, kept cheap (no allocation per
 * message): which message indexes arrived (for duplicates), the latency of each distinct one,
 * and the time of the last. Pure: the caller passes the delivery time.
 */
import type { BenchMessage, SubscriberProgress, SubscriberReport } from './compare-protocol.js';

/** Per-delivery bookkeeping of one subscriber; see the file comment. */
export class DeliveryRecorder {
  private readonly seen: Uint8Array;
  private readonly latMs: Float64Array;
  private count = 0;
  private dups = 0;
  private invalid = 0;
  private probed = false;
  private lastAt = Number.NaN;

  /** @param messages the run's message count (indexes 0 .. messages-1). */
  constructor(private readonly messages: number) {
    this.seen = new Uint8Array(messages);
    this.latMs = new Float64Array(messages);
  }

  /** One handler call with `data` at wall-clock `atMs`. */
  record(data: unknown, atMs: number): void {
    const m = data as Partial<BenchMessage> | null;
    const i = m?.i;
    const t = m?.t;
    if (typeof i !== 'number' || typeof t !== 'number' || !Number.isInteger(i)) {
      this.invalid++;
      return;
    }
    if (i < 0) {
      this.probed = true;
      return;
    }
    if (i >= this.messages) {
      this.invalid++;
      return;
    }
    if (this.seen[i] === 1) {
      this.dups++;
      return;
    }
    this.seen[i] = 1;
    this.latMs[this.count++] = atMs - t;
    this.lastAt = atMs;
  }

  /** The counters pushed while the run goes on. */
  progress(): SubscriberProgress {
    return { type: 'progress', count: this.count, dups: this.dups, probed: this.probed };
  }

  /** The final report, latencies of the distinct deliveries included. */
  report(): SubscriberReport {
    return {
      type: 'report',
      count: this.count,
      dups: this.dups,
      invalid: this.invalid,
      lastAt: this.lastAt,
      latMs: this.latMs.slice(0, this.count),
    };
  }
}
