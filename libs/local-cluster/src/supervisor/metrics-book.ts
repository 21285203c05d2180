/**
 * Counters as shown: each node's counters minus a baseline taken at the last reset (a node that
 * restarted since counts from its start, as its counters do), and the cluster's deliveries per
 * second from the deltas of every node's delivered counter.
 */
import type { NodeCounters } from '../protocol.js';
import { ZERO_COUNTERS } from './cluster-view.js';

/** Samples of deliveries/s kept (one a second). */
export const RATE_SAMPLES = 60;

interface Seen {
  readonly epoch: number;
  readonly counters: NodeCounters;
}

export class MetricsBook {
  private readonly baselines = new Map<string, Seen>();
  private readonly latest = new Map<string, Seen>();
  private readonly samples: number[] = [];
  private deliveriesThisSecond = 0;

  /** Records a node's counters (of its life `epoch`); returns them since the last reset. */
  observe(name: string, epoch: number, counters: NodeCounters): NodeCounters {
    const prev = this.latest.get(name);
    const delta =
      prev !== undefined && prev.epoch === epoch
        ? counters.delivered - prev.counters.delivered
        : counters.delivered;
    this.deliveriesThisSecond += Math.max(0, delta);
    this.latest.set(name, { epoch, counters });
    return this.since(name);
  }

  /** A node's counters since the last reset (zero before its first report). */
  since(name: string): NodeCounters {
    const now = this.latest.get(name);
    if (now === undefined) return ZERO_COUNTERS;
    const base = this.baselines.get(name);
    if (base === undefined || base.epoch !== now.epoch) return now.counters;
    const out = { ...now.counters };
    for (const k of Object.keys(out) as (keyof NodeCounters)[]) {
      out[k] = Math.max(0, now.counters[k] - base.counters[k]);
    }
    return out;
  }

  /** Every node's counters start from zero again. */
  reset(): void {
    for (const [name, seen] of this.latest) this.baselines.set(name, seen);
  }

  /** Closes one second: the deliveries counted since the last tick become a sample. */
  tick(): void {
    this.samples.push(this.deliveriesThisSecond);
    this.deliveriesThisSecond = 0;
    if (this.samples.length > RATE_SAMPLES) this.samples.shift();
  }

  /** Deliveries per second, oldest first. */
  rate(): readonly number[] {
    return [...this.samples];
  }
}
