/**
 * The payload of `orders.created`. `@PlumtreeSubscribe(..., { dto: OrderCreated })` validates
 * each payload against it before the handler runs (class-transformer + class-validator).
 */
import { IsInt, IsPositive, IsString, MinLength } from 'class-validator';

/** A new order. */
export class OrderCreated {
  @IsInt() @IsPositive() id!: number;
  @IsString() @MinLength(1) item!: string;
  @IsInt() @IsPositive() quantity!: number;
}
