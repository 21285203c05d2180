/**
 * At most N runs of one handler at once on this node. The slots are the gate of the handler's
 * subscription (`SubscribeOptions.gate`): while all are taken the node's delivery queue holds the
 * next message at its head, so what waits stays in that bounded queue, whose high-water marks
 * pause reading (libs/cluster/src/delivery/delivery-queue.ts), and nothing queues here.
 */
import type { DeliveryGate } from '@plumtree/cluster';

/** See the file comment. */
export class HandlerSlots implements DeliveryGate {
  private running = 0;
  private waiter: (() => void) | undefined;

  constructor(readonly limit: number) {}

  /** Runs in progress. */
  get inUse(): number {
    return this.running;
  }

  isOpen(): boolean {
    return this.running < this.limit;
  }

  onOpen(resume: () => void): void {
    this.waiter = resume;
  }

  /** A run starts (the queue handed a delivery: it checked `isOpen` just before). */
  take(): void {
    this.running++;
  }

  /** A run ended: wake the queue if it waits. */
  release(): void {
    this.running--;
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }
}
