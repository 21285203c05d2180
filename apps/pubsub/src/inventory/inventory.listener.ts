/**
 * A second provider, on a pattern: `inventory.*` matches `inventory.reserved`,
 * `inventory.released`, ... (one segment); `inventory.#` would match any depth.
 */
import { Injectable, Logger } from '@nestjs/common';
import { PlumtreeContext, PlumtreeSubscribe } from '@plumtree/nestjs';

/** What the inventory topics carry. */
export interface InventoryChange {
  readonly item: string;
  readonly quantity: number;
}

/** Handles every `inventory.*` topic. */
@Injectable()
export class InventoryListener {
  private readonly logger = new Logger(InventoryListener.name);
  /** `topic:item` of each change handled, for tests. */
  readonly handled: string[] = [];

  // Without @Payload()/@Ctx() the handler gets (payload, context) as plain arguments.
  @PlumtreeSubscribe('inventory.*')
  onInventoryChange(change: InventoryChange, ctx: PlumtreeContext): void {
    this.handled.push(`${ctx.getTopic()}:${change.item}`);
    this.logger.log(`${ctx.getTopic()}: ${change.quantity} x ${change.item}`);
  }
}
