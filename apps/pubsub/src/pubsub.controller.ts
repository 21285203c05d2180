/**
 * The microservice side: `@EventPattern` and `@MessagePattern` handlers served by the
 * `PlumtreeServer` transport, like any Nest transport's.
 */
import { Controller, Logger } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { PlumtreeContext, PlumtreeService } from '@plumtree/nestjs';

/** A price quote request and its answer. */
export interface QuoteRequest {
  readonly item: string;
  readonly quantity: number;
}
/** The answer to a {@link QuoteRequest}. */
export interface Quote {
  readonly item: string;
  readonly totalCents: number;
  /** The node that answered. */
  readonly quotedBy: string;
}

/** Unit price of every item, in cents. */
const UNIT_PRICE_CENTS = 250;

/** Events and requests of the pubsub example. */
@Controller()
export class PubsubController {
  private readonly logger = new Logger(PubsubController.name);
  /** Ids of the shipped orders seen, for tests. */
  readonly shipped: number[] = [];

  constructor(private readonly plumtree: PlumtreeService) {}

  /**
   * An event: every node whose server has this handler receives each message once.
   * (`<string>` picks Nest 12's untyped overload; its typed one wants an event map.)
   */
  @EventPattern<string>('orders.shipped')
  onShipped(@Payload() order: { id: number }, @Ctx() ctx: PlumtreeContext): void {
    this.shipped.push(order.id);
    this.logger.log(`order ${order.id} shipped (message ${ctx.getMessageId()})`);
  }

  /** A request: ONE subscriber answers each `send('prices.quote', ...)` (lowest RTT first). */
  @MessagePattern('prices.quote')
  quote(@Payload() req: QuoteRequest, @Ctx() ctx: PlumtreeContext): Quote {
    this.logger.log(`quote for ${ctx.getOrigin()}: ${req.quantity} x ${req.item}`);
    return {
      item: req.item,
      totalCents: req.quantity * UNIT_PRICE_CENTS,
      quotedBy: this.plumtree.node.name,
    };
  }
}
