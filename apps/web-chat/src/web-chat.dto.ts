/**
 * Bodies of the web chat's commands, validated by Nest's `ValidationPipe` (unknown fields are
 * refused).
 */
import {
  IsArray,
  IsBoolean,
  IsNumber,
  IsString,
  Length,
  Max,
  Min,
  MinLength,
} from 'class-validator';

/** Join or leave a room. */
export class RoomDto {
  @IsString() @MinLength(1) room!: string;
}

/** Send a chat line. */
export class SendDto {
  @IsString() @MinLength(1) room!: string;
  @IsString() @Length(1, 2_000) text!: string;
}

/** Loss on one node, rates in [0, 1]. */
export class LossDto {
  @IsNumber() @Min(0) @Max(1) packets!: number;
  @IsNumber() @Min(0) @Max(1) frames!: number;
}

/** A partition: groups of node names (nodes in no group form one more group). */
export class PartitionDto {
  @IsArray() groups!: string[][];
}

/** All peers eager, or the default fanout. */
export class EagerAllDto {
  @IsBoolean() on!: boolean;
}
