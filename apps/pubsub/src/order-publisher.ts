/**
 * The publishing side, through the Nest client proxy (`PlumtreeClient` registered with
 * `ClientsModule`): `emit` publishes an event, `send` asks one node for an answer. Every
 * `publishEveryMs` it creates an order, reserves its stock, ships it, and asks for a quote.
 */
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { NoRespondersError } from '@plumtree/cluster';
import type { Quote, QuoteRequest } from './pubsub.controller.js';
import { PUBSUB_CLIENT, PUBSUB_CONFIG } from './pubsub.tokens.js';
import type { PubsubConfig } from './pubsub-config.js';

const ITEMS = ['tea', 'coffee', 'cocoa'] as const;

/** Publishes the demo traffic; see the file comment. */
@Injectable()
export class OrderPublisher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OrderPublisher.name);
  private timer: NodeJS.Timeout | undefined;
  private nextId = 1;

  constructor(
    @Inject(PUBSUB_CLIENT) private readonly client: ClientProxy,
    @Inject(PUBSUB_CONFIG) private readonly config: PubsubConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.publishEveryMs <= 0) return;
    this.timer = setInterval(() => {
      this.tick().catch((e: unknown) => this.logger.warn(`publish failed: ${String(e)}`));
    }, this.config.publishEveryMs);
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /**
   * One round of demo traffic; resolves with the quote, or undefined when no member answers
   * `prices.quote` yet (a request goes to this app's own handler first when it has one, else to
   * another member that answers the topic). Public so tests can drive it.
   */
  async tick(): Promise<Quote | undefined> {
    const id = this.nextId++;
    const item = ITEMS[id % ITEMS.length]!;
    const order = { id: id + this.config.bindPort * 1_000_000, item, quantity: 1 + (id % 3) };
    // emit: an event to every subscriber of the topic; resolves when published.
    await lastValueFrom(this.client.emit('orders.created', order));
    await lastValueFrom(this.client.emit('inventory.reserved', { item, quantity: order.quantity }));
    await lastValueFrom(this.client.emit('orders.shipped', { id: order.id }));
    // send: a request to ONE responder of prices.quote; its @MessagePattern handler answers.
    const request: QuoteRequest = { item, quantity: order.quantity };
    let quote: Quote;
    try {
      quote = await lastValueFrom(this.client.send<Quote>('prices.quote', request));
    } catch (e) {
      if (!(e instanceof NoRespondersError)) throw e;
      this.logger.log('no quote: no member answers prices.quote yet');
      return undefined;
    }
    this.logger.log(`quote: ${quote.item} costs ${quote.totalCents} cents (by ${quote.quotedBy})`);
    return quote;
  }
}
