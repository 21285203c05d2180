/**
 * A plain provider that reacts to new orders: `@PlumtreeSubscribe` works on any provider, no
 * controller or microservice needed. The payload is validated against {@link OrderCreated}
 * first; an invalid one is logged, counted and emitted on `PlumtreeService.invalid$` instead.
 */
import { Injectable, Logger } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { PlumtreeContext, PlumtreeSubscribe } from '@plumtree/nestjs';
import { OrderCreated } from './order-created.dto.js';

/** Handles `orders.created`. */
@Injectable()
export class OrdersListener {
  private readonly logger = new Logger(OrdersListener.name);
  /** Order ids handled, for tests. */
  readonly handled: number[] = [];

  @PlumtreeSubscribe('orders.created', { dto: OrderCreated })
  onOrderCreated(@Payload() order: OrderCreated, @Ctx() ctx: PlumtreeContext): void {
    this.handled.push(order.id);
    this.logger.log(
      `order ${order.id}: ${order.quantity} x ${order.item} (from ${ctx.getOrigin()}, ${ctx.getHops()} hops)`,
    );
  }
}
