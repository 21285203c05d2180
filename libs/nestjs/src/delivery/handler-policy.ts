/**
 * How an event handler (`@PlumtreeSubscribe`, `@EventPattern`) takes its messages: acknowledgement
 * mode, retries with backoff, the dead-letter topic, and how many run at once. A handler's own
 * options (the decorator's, or `@EventPattern`'s extras) override the module's `handlers`
 * defaults field by field; both are checked with class-validator, the defaults once with the
 * module options, a handler's at bootstrap (every problem in one startup error).
 */
import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, Min, MinLength } from 'class-validator';
import { validationProblems } from '@plumtree/common';
import type { NodeOptionProblem } from '@plumtree/cluster';

/** Retries of a handler that throws (or rejects, or `nack`s). */
export interface PlumtreeRetryPolicy {
  /** Runs of the handler in all, the first included (1 = no retry). Default 1. */
  readonly attempts: number;
  /**
   * Delay before the first retry in ms, doubled for each next one up to `maxBackoffMs`, with
   * equal jitter (libs/common/src/backoff.ts). Default 100.
   */
  readonly backoffMs?: number;
  /** Longest delay between two attempts in ms. Default 30,000. */
  readonly maxBackoffMs?: number;
}

/** Delivery options of one event handler; the module's `handlers` gives the defaults. */
export interface PlumtreeHandlerOptions {
  /** Retries; see {@link PlumtreeRetryPolicy}. Default one attempt. */
  readonly retry?: PlumtreeRetryPolicy;
  /**
   * Where a message goes once every attempt failed: a topic, or `false` for nowhere (logged and
   * counted only). Default `<topic>.dlq`, the topic the message came on plus `.dlq`
   * (docs/nestjs.md, "Dead letters", for the format).
   */
  readonly deadLetter?: string | false;
  /**
   * `auto` (default): the handler acknowledges by returning (its promise or Observable ending),
   * and fails by throwing. `manual`: it calls `ctx.ack()` or `ctx.nack(error?)`, possibly after
   * it returned; a throw is a nack.
   */
  readonly ack?: 'auto' | 'manual';
  /** `ack: 'manual'`: an attempt that neither acks nor nacks within this many ms fails. Default 30,000. */
  readonly ackTimeoutMs?: number;
  /**
   * Messages this handler runs at once on this node; the rest wait in the node's bounded
   * delivery queue (docs/nestjs.md, "Concurrency"). Default unlimited.
   */
  readonly concurrency?: number;
}

/** A handler's options with every default filled in. */
export interface ResolvedHandlerPolicy {
  readonly attempts: number;
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
  /** undefined: `<topic>.dlq`. */
  readonly deadLetter: string | false | undefined;
  readonly ack: 'auto' | 'manual';
  readonly ackTimeoutMs: number;
  /** undefined: unlimited. */
  readonly concurrency: number | undefined;
}

/** The defaults of every handler when neither the module nor the handler says otherwise. */
export const DEFAULT_HANDLER_POLICY: ResolvedHandlerPolicy = Object.freeze({
  attempts: 1,
  backoffMs: 100,
  maxBackoffMs: 30_000,
  deadLetter: undefined,
  ack: 'auto',
  ackTimeoutMs: 30_000,
  concurrency: undefined,
});

/** The fields, flattened, as class-validator checks them. */
class HandlerSettings {
  @IsOptional() @IsInt() @Min(1) @Max(100) attempts?: number;
  @IsOptional() @IsInt() @Min(0) @Max(3_600_000) backoffMs?: number;
  @IsOptional() @IsInt() @Min(0) @Max(3_600_000) maxBackoffMs?: number;
  @IsOptional() @IsIn(['auto', 'manual']) ack?: string;
  @IsOptional() @IsInt() @Min(1) @Max(3_600_000) ackTimeoutMs?: number;
  @IsOptional() @IsInt() @Min(1) @Max(1_000_000) concurrency?: number;
  @IsOptional() @IsString() @MinLength(1) deadLetter?: string;
}

/** Every problem of `options`, each field named under `field` (`handlers`, `Class.method`). */
export function handlerOptionProblems(options: unknown, field: string): NodeOptionProblem[] {
  if (options === undefined) return [];
  if (typeof options !== 'object' || options === null) {
    return [{ field, message: 'must be an object' }];
  }
  const o = options as PlumtreeHandlerOptions;
  const retry = o.retry as Partial<PlumtreeRetryPolicy> | undefined;
  if (retry !== undefined && (typeof retry !== 'object' || retry === null)) {
    return [{ field: `${field}.retry`, message: 'must be an object' }];
  }
  const settings = plainToInstance(HandlerSettings, {
    attempts: retry === undefined ? undefined : (retry.attempts ?? Number.NaN),
    backoffMs: retry?.backoffMs,
    maxBackoffMs: retry?.maxBackoffMs,
    ack: o.ack,
    ackTimeoutMs: o.ackTimeoutMs,
    concurrency: o.concurrency,
    deadLetter: o.deadLetter === false ? undefined : o.deadLetter,
  });
  return validationProblems(settings).map((p) => ({
    field: `${field}.${RETRY_FIELDS.has(p.field) ? `retry.${p.field}` : p.field}`,
    message: p.message,
  }));
}

const RETRY_FIELDS = new Set(['attempts', 'backoffMs', 'maxBackoffMs']);

/** `options` (checked) over `defaults`, field by field. */
export function resolveHandlerPolicy(
  options: PlumtreeHandlerOptions | undefined,
  defaults: ResolvedHandlerPolicy = DEFAULT_HANDLER_POLICY,
): ResolvedHandlerPolicy {
  if (options === undefined) return defaults;
  return Object.freeze({
    attempts: options.retry?.attempts ?? defaults.attempts,
    backoffMs: options.retry?.backoffMs ?? defaults.backoffMs,
    maxBackoffMs: options.retry?.maxBackoffMs ?? defaults.maxBackoffMs,
    deadLetter: options.deadLetter !== undefined ? options.deadLetter : defaults.deadLetter,
    ack: options.ack ?? defaults.ack,
    ackTimeoutMs: options.ackTimeoutMs ?? defaults.ackTimeoutMs,
    concurrency: options.concurrency ?? defaults.concurrency,
  });
}
