/**
 * `PlumtreeHealthIndicator` for @nestjs/terminus: `up` with member and topic counts, `down` when
 * the node is not listening or is isolated (see {@link checkPlumtreeHealth}).
 *
 * ```ts
 * @Controller('health')
 * class HealthController {
 *   constructor(private health: HealthCheckService, private plumtree: PlumtreeHealthIndicator) {}
 *   @Get() @HealthCheck()
 *   check() { return this.health.check([() => this.plumtree.isHealthy('plumtree')]); }
 * }
 * ```
 */
import { Inject, Injectable, Optional } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { PlumtreeService } from '../plumtree.service.js';
import { checkPlumtreeHealth, type HealthCheckedNode } from './plumtree-health-check.js';

/** Options of {@link PlumtreeHealthIndicator.isHealthy}. */
export interface PlumtreeHealthOptions {
  /**
   * The node to check. Default: the node of the injected `PlumtreeService` (`PlumtreeModule`).
   * A pure microservice without the module passes its server's node here (`server.unwrap()`).
   */
  readonly node?: HealthCheckedNode;
  /** Alive members (this node included) below which the node counts as isolated. Default 2. */
  readonly minMembers?: number;
}

/** Terminus health indicator of the Plumtree node; add it to the providers of a health module. */
@Injectable()
export class PlumtreeHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    // Typed by what it reads, so the indicator's signature (and this subpath's API) does not
    // drag in the whole service; Nest injects the module's PlumtreeService by class.
    @Optional()
    @Inject(PlumtreeService)
    private readonly plumtree?: { readonly node: HealthCheckedNode },
  ) {}

  /**
   * The node's health under `key` (default `plumtree`): `up` with `node`, `members`, `suspect`,
   * `topics`, `subscriptions` and `healthScore`; `down` with a `message` (and `reason`
   * `not-listening` or `isolated`) otherwise.
   */
  isHealthy<const Key extends string = 'plumtree'>(
    key: Key = 'plumtree' as Key,
    options: PlumtreeHealthOptions = {},
  ): HealthIndicatorResult<Key> {
    const session = this.health.check(key);
    const result = checkPlumtreeHealth(options.node ?? this.currentNode(), options.minMembers);
    if (result.up) return session.up({ ...result.data });
    return session.down({ ...result.data, reason: result.reason });
  }

  /** The module's node, or undefined when there is no module or its node is not running yet. */
  private currentNode(): HealthCheckedNode | undefined {
    try {
      return this.plumtree?.node;
    } catch {
      return undefined; // a shared server that has not listened yet: not listening
    }
  }
}
