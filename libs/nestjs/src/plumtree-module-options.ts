/**
 * Options of `PlumtreeModule`, `PlumtreeServer` and `PlumtreeClient`, and their resolution, once,
 * at startup: the Nest-level fields through class-validator, the node's through the node's own
 * resolver, all problems in one {@link PlumtreeOptionsError}. The resolved node options are what
 * the module hands to `PlumtreeNode.start`, which checks nothing again.
 */
import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, Max, Min } from 'class-validator';
import { resolveOnce, validationProblems, type Resolved } from '@plumtree/common';
import {
  PlumtreeNodeOptionsError,
  resolvePlumtreeNodeOptions,
  type NodeOptionProblem,
  type PlumtreeNodeOptions,
  type RequestOptions,
  type ResolvedNodeOptions,
} from '@plumtree/cluster';
import {
  handlerOptionProblems,
  resolveHandlerPolicy,
  type PlumtreeHandlerOptions,
  type ResolvedHandlerPolicy,
} from './delivery/handler-policy.js';
import { PlumtreeOptionsError } from './plumtree.errors.js';

/**
 * Everything `PlumtreeModule.forRoot` (and `PlumtreeServer` / `PlumtreeClient`) accepts: the
 * node options (`name`, `bindAddr`, `bindPort`, `seeds`, `topics`, `swim`, `plumtree`, `codec`,
 * ...; see `PlumtreeNodeOptions`) plus the Nest-level fields below.
 */
export interface PlumtreeModuleOptions extends Partial<PlumtreeNodeOptions> {
  /**
   * Hybrid apps: do not start a node; use the one of the `PlumtreeServer` whose `name` equals
   * this `name` (connected with `app.connectMicroservice`), once it listens. Default false.
   */
  readonly shareServer?: boolean;
  /** Like `shareServer`, with the server instance itself (no `name` needed). */
  readonly server?: { whenListening(): Promise<import('@plumtree/cluster').PlumtreeNode> };
  /**
   * How long a request (`PlumtreeClient.send`, `PlumtreeService.request`) waits for its reply;
   * a reply stream must end within it. Default 5,000 ms.
   */
  readonly requestTimeoutMs?: number;
  /**
   * Attempts of one request on distinct responders, `send` and `request` alike. An attempt is
   * retried only when it provably did not run (not delivered, or no handler there). Default 2.
   */
  readonly requestMaxAttempts?: number;
  /**
   * Also retry an attempt that timed out or whose responder went down: at-least-once (the
   * handler may run twice) instead of at-most-once. Default false.
   */
  readonly requestRetryOnTimeout?: boolean;
  /**
   * Defaults of every event handler (`@PlumtreeSubscribe`, `@EventPattern`) of this module or
   * server: retries, dead-letter topic, acknowledgement mode, concurrency; a handler's own options
   * override them field by field. Default one attempt, dead letters on `<topic>.dlq`, `ack:
   * 'auto'`, unlimited concurrency.
   */
  readonly handlers?: PlumtreeHandlerOptions;
}

/** The Nest-level fields, checked with class-validator. */
class NestLevelSettings {
  @IsOptional() @IsBoolean() shareServer?: boolean;
  @IsOptional() @IsInt() @Min(1) @Max(3_600_000) requestTimeoutMs?: number;
  @IsOptional() @IsInt() @Min(1) @Max(100) requestMaxAttempts?: number;
  @IsOptional() @IsBoolean() requestRetryOnTimeout?: boolean;
}

const NEST_LEVEL_KEYS = [
  'shareServer',
  'server',
  'requestTimeoutMs',
  'requestMaxAttempts',
  'requestRetryOnTimeout',
  'handlers',
] as const;

/** The node part of the options (Nest-level fields removed). */
export function nodeOptionsOf(options: PlumtreeModuleOptions): PlumtreeNodeOptions {
  const rest: Record<string, unknown> = { ...options };
  for (const k of NEST_LEVEL_KEYS) delete rest[k];
  return rest as unknown as PlumtreeNodeOptions;
}

/**
 * The request options the module options set (`requestTimeoutMs`, `requestMaxAttempts`,
 * `requestRetryOnTimeout`), under `overrides`: what `PlumtreeClient.send` and
 * `PlumtreeService.request` use.
 */
export function requestOptionsOf(
  options: PlumtreeModuleOptions,
  overrides: RequestOptions = {},
): RequestOptions {
  return {
    ...(options.requestTimeoutMs !== undefined ? { timeoutMs: options.requestTimeoutMs } : {}),
    ...(options.requestMaxAttempts !== undefined
      ? { maxAttempts: options.requestMaxAttempts }
      : {}),
    ...(options.requestRetryOnTimeout !== undefined
      ? { retryOnTimeout: options.requestRetryOnTimeout }
      : {}),
    ...overrides,
  };
}

/** Whether these options share a server's node instead of starting one. */
export function sharesServer(options: PlumtreeModuleOptions): boolean {
  return options.shareServer === true || options.server !== undefined;
}

interface ModuleOptionsResolution {
  /** The options as given: the Nest-level fields are read from here. */
  readonly options: PlumtreeModuleOptions;
  /** The node's options, resolved; undefined when the options share a server's node. */
  readonly node: ResolvedNodeOptions | undefined;
  /** The handler defaults (`handlers`) over the built-in ones. */
  readonly handlers: ResolvedHandlerPolicy;
}

/** What {@link resolvePlumtreeModuleOptions} returned: checked once, frozen. */
export type ResolvedPlumtreeModuleOptions = Resolved<ModuleOptionsResolution>;

/**
 * Check every field and resolve the node's options; throws one {@link PlumtreeOptionsError}
 * naming every problem (Nest-level fields first, then the node's, `swim.x` and `plumtree.x`
 * included). Options this function returned are returned as they are.
 */
export const resolvePlumtreeModuleOptions = resolveOnce(checkModuleOptions);

/** {@link resolvePlumtreeModuleOptions} for its check alone. */
export function validatePlumtreeModuleOptions(options: PlumtreeModuleOptions): void {
  resolvePlumtreeModuleOptions(options);
}

function checkModuleOptions(options: PlumtreeModuleOptions): ModuleOptionsResolution {
  const problems: NodeOptionProblem[] = [];
  if (typeof options !== 'object' || options === null) {
    throw new PlumtreeOptionsError([{ field: '(options)', message: 'must be an object' }]);
  }
  const nest = plainToInstance(NestLevelSettings, {
    shareServer: options.shareServer,
    requestTimeoutMs: options.requestTimeoutMs,
    requestMaxAttempts: options.requestMaxAttempts,
    requestRetryOnTimeout: options.requestRetryOnTimeout,
  });
  problems.push(...validationProblems(nest));
  problems.push(...handlerOptionProblems(options.handlers, 'handlers'));
  if (options.server !== undefined && typeof options.server?.whenListening !== 'function') {
    problems.push({ field: 'server', message: 'must be a PlumtreeServer' });
  }
  let node: ResolvedNodeOptions | undefined;
  if (options.shareServer === true && options.server === undefined) {
    if (typeof options.name !== 'string' || options.name.length === 0) {
      problems.push({ field: 'name', message: 'shareServer needs the name of the PlumtreeServer' });
    }
  } else if (!sharesServer(options)) {
    try {
      node = resolvePlumtreeNodeOptions(nodeOptionsOf(options));
    } catch (e) {
      if (!(e instanceof PlumtreeNodeOptionsError)) throw e;
      problems.push(...e.problems);
    }
  }
  if (problems.length > 0) throw new PlumtreeOptionsError(problems);
  return { options, node, handlers: resolveHandlerPolicy(options.handlers) };
}
