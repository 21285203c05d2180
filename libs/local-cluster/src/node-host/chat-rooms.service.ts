/**
 * `ChatRoomsService`: the application of a node process, an ordinary Nest provider on
 * `PlumtreeService`. A room is a topic: joining subscribes to it (`topic$`), which puts the node
 * in that topic's tree; leaving unsubscribes, which takes it out. Messages are published with
 * `PlumtreeService.publish`, and each delivery is handed to the host with its hops and latency.
 */
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Delivery } from '@plumtree/cluster';
import { PlumtreeService } from '@plumtree/nestjs';
import { Subject, type Subscription } from 'rxjs';
import type { ChatPayload, NodeEvent } from '../protocol.js';

/** Longest chat line, characters. */
export const MAX_TEXT_CHARS = 2_000;

/** A chat delivery as reported. */
export type ChatDelivery = Extract<NodeEvent, { kind: 'delivery' }>;

/** Which rooms are durable, given to the provider by the node's module. */
export const DURABLE_ROOMS = Symbol('DURABLE_ROOMS');

@Injectable()
export class ChatRoomsService implements OnApplicationShutdown {
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly deliveriesSubject = new Subject<ChatDelivery>();
  private publishedCount = 0;

  /** Every chat message delivered at this node (hot). */
  readonly deliveries$ = this.deliveriesSubject.asObservable();

  constructor(
    private readonly plumtree: PlumtreeService,
    @Inject(DURABLE_ROOMS) private readonly durable: ReadonlySet<string>,
  ) {}

  /** The rooms this node is in. */
  rooms(): string[] {
    return [...this.subscriptions.keys()];
  }

  /** Messages this node published. */
  get published(): number {
    return this.publishedCount;
  }

  /** Join `room` (a no-op when already in it). Durable rooms catch up what was missed. */
  join(room: string): void {
    if (this.subscriptions.has(room)) return;
    const sub = this.plumtree.topic$<unknown>(room, { durable: this.durable.has(room) }).subscribe({
      next: (d) => this.onDelivery(d),
      // The node closing completes the stream: the room is left with it.
      complete: () => this.subscriptions.delete(room),
    });
    this.subscriptions.set(room, sub);
  }

  /** Leave `room`: the node leaves the room's tree. */
  leave(room: string): void {
    this.subscriptions.get(room)?.unsubscribe();
    this.subscriptions.delete(room);
  }

  /** Publish a chat line on `room`; resolves to its message id (hand-off when not in the room). */
  async send(room: string, text: string): Promise<string> {
    const payload: ChatPayload = { text: text.slice(0, MAX_TEXT_CHARS) };
    const id = await this.plumtree.publish(room, payload);
    this.publishedCount++;
    return id;
  }

  onApplicationShutdown(): void {
    for (const s of this.subscriptions.values()) s.unsubscribe();
    this.subscriptions.clear();
    this.deliveriesSubject.complete();
  }

  private onDelivery(d: Delivery<unknown>): void {
    const p = d.payload as Partial<ChatPayload> | null;
    // Anything else on a chat topic (another publisher's format) is shown as its JSON.
    const text =
      typeof p === 'object' && p !== null && typeof p.text === 'string'
        ? p.text
        : JSON.stringify(d.payload ?? null);
    this.deliveriesSubject.next({
      kind: 'delivery',
      topic: d.topic,
      id: d.id,
      origin: d.origin,
      text: text.slice(0, MAX_TEXT_CHARS),
      hops: d.hops,
      receivedFrom: d.receivedFrom,
      publishedAtMs: d.publishedAtMs,
      latencyMs: d.publishedAtMs > 0 ? Math.max(0, Date.now() - d.publishedAtMs) : 0,
    });
  }
}
