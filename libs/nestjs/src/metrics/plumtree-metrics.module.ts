/**
 * `PlumtreeMetricsModule`: Prometheus metrics of the module's node (prom-client), optional.
 * Import it beside `PlumtreeModule`:
 *
 * ```ts
 * imports: [PlumtreeModule.forRoot({ ... }), PlumtreeMetricsModule.forRoot()]
 * ```
 *
 * and `GET /metrics` serves the text exposition of every family in docs/metrics.md. Options: the
 * route (`path`, or `path: false` for none, to expose the registry another way, for example
 * through `@willsoto/nestjs-prometheus` with `registry: register`), a registry of your own,
 * constant labels, and prom-client's process metrics. `PlumtreeMetricsService.metrics()` gives
 * the text to any code.
 */
import {
  Controller,
  Get,
  Header,
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnModuleDestroy,
  type Type,
} from '@nestjs/common';
import {
  createPlumtreeMetrics,
  type PlumtreeMetrics,
  type PlumtreeMetricsOptions,
} from '@plumtree/cluster';
import { PlumtreeNodeRef } from '../node-ref.js';
import { PLUMTREE_NODE_REF } from '../plumtree.constants.js';

/** Options of {@link PlumtreeMetricsModule.forRoot}. */
export interface PlumtreeMetricsModuleOptions extends PlumtreeMetricsOptions {
  /** HTTP route of the exposition; `false` for none. Default `metrics`. */
  readonly path?: string | false;
}

const METRICS_OPTIONS = Symbol('plumtree:metrics-options');

/** The node's metrics, created once the node runs. */
@Injectable()
export class PlumtreeMetricsService implements OnModuleDestroy {
  private created: Promise<PlumtreeMetrics> | undefined;

  constructor(
    @Inject(PLUMTREE_NODE_REF) private readonly ref: PlumtreeNodeRef,
    @Inject(METRICS_OPTIONS) private readonly options: PlumtreeMetricsModuleOptions,
  ) {}

  /** The metrics (registry, text, content type), once the node runs. */
  get(): Promise<PlumtreeMetrics> {
    this.created ??= this.ref.ready.then((node) => {
      const { path: _path, ...rest } = this.options;
      return createPlumtreeMetrics(node, rest);
    });
    return this.created;
  }

  /** The Prometheus text exposition. */
  async metrics(): Promise<string> {
    return (await this.get()).metrics();
  }

  async onModuleDestroy(): Promise<void> {
    (await this.created?.catch(() => undefined))?.close();
  }
}

/** A controller serving `GET /<path>` (Nest routes are static: one class per module instance). */
function metricsController(path: string): Type {
  @Controller()
  class PlumtreeMetricsController {
    constructor(private readonly metrics: PlumtreeMetricsService) {}

    @Get(path)
    @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
    scrape(): Promise<string> {
      return this.metrics.metrics();
    }
  }
  return PlumtreeMetricsController;
}

/** See the file comment. */
@Module({})
export class PlumtreeMetricsModule {
  /** The module with `options` (see {@link PlumtreeMetricsModuleOptions}). */
  static forRoot(options: PlumtreeMetricsModuleOptions = {}): DynamicModule {
    const path = options.path ?? 'metrics';
    return {
      module: PlumtreeMetricsModule,
      controllers: path === false ? [] : [metricsController(path)],
      providers: [{ provide: METRICS_OPTIONS, useValue: options }, PlumtreeMetricsService],
      exports: [PlumtreeMetricsService],
    };
  }
}
