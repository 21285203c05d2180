/**
 * `PlumtreeModule.forRoot(options)` / `forRootAsync({ useFactory, inject, imports })`, built with
 * ConfigurableModuleBuilder; global by default (`isGlobal: false` to scope it). The options are
 * resolved once at startup (one `PlumtreeOptionsError` naming every bad field) and handed
 * resolved to the node. The module starts and owns a node, leaving the cluster gracefully on
 * application shutdown (others see it as "left"; use `app.enableShutdownHooks()` so SIGTERM
 * gets there), or, with `shareServer: true`
 * and the server's `name` (or `server`), uses the node of the PlumtreeServer of a hybrid app:
 * that server must be constructed before `app.init()`, which rejects otherwise (nothing would
 * ever give the module a node).
 */
import {
  ConfigurableModuleBuilder,
  type ConfigurableModuleAsyncOptions,
  Inject,
  Module,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { loadTracing } from './delivery/trace-context.js';
import { PlumtreeNodeRef } from './node-ref.js';
import { PLUMTREE_NODE_REF } from './plumtree.constants.js';
import {
  resolvePlumtreeModuleOptions,
  type PlumtreeModuleOptions,
} from './plumtree-module-options.js';
import { PlumtreeOptionsError } from './plumtree.errors.js';
import { PlumtreeService } from './plumtree.service.js';
import { PlumtreeSubscriberExplorer } from './plumtree-subscriber.explorer.js';
import { isServerDeclared, serverNode } from './server-registry.js';
import { startPlumtreeNode } from './start-node.js';

const built = new ConfigurableModuleBuilder<PlumtreeModuleOptions>()
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
  }))
  .build();

/** The injection token of the module options (what `forRoot` / `forRootAsync` produced). */
export const PLUMTREE_MODULE_OPTIONS = built.MODULE_OPTIONS_TOKEN;
/** The type `forRoot` takes (options plus `isGlobal`). */
export type PlumtreeModuleForRootOptions = PlumtreeModuleOptions & { readonly isGlobal?: boolean };
/** The type `forRootAsync` takes (`useFactory`, `inject`, `imports`, `useClass`, `useExisting`). */
export type PlumtreeModuleAsyncOptions = ConfigurableModuleAsyncOptions<PlumtreeModuleOptions> & {
  readonly isGlobal?: boolean;
};
/** The class `PlumtreeModule` extends: its `forRoot` and `forRootAsync` (ConfigurableModuleBuilder). */
export const PlumtreeConfigurableModule = built.ConfigurableModuleClass;

/**
 * Builds the module's node reference: resolves the options once, then starts a node with them
 * (resolved, so nothing below checks them again) or borrows a server's.
 */
export async function createNodeRef(options: PlumtreeModuleOptions): Promise<PlumtreeNodeRef> {
  const resolved = resolvePlumtreeModuleOptions(options);
  void loadTracing();
  if (options.server !== undefined) {
    return new PlumtreeNodeRef(options.server.whenListening(), false, options, resolved.handlers);
  }
  if (options.shareServer === true) {
    return new PlumtreeNodeRef(serverNode(options.name!), false, options, resolved.handlers);
  }
  const node = await startPlumtreeNode(resolved);
  return new PlumtreeNodeRef(Promise.resolve(node), true, options, resolved.handlers);
}

/** See the file comment. */
@Module({
  imports: [DiscoveryModule],
  providers: [
    {
      provide: PLUMTREE_NODE_REF,
      useFactory: createNodeRef,
      inject: [built.MODULE_OPTIONS_TOKEN],
    },
    PlumtreeService,
    PlumtreeSubscriberExplorer,
  ],
  exports: [PlumtreeService, PLUMTREE_NODE_REF],
})
export class PlumtreeModule
  extends PlumtreeConfigurableModule
  implements OnModuleInit, OnApplicationShutdown
{
  constructor(@Inject(PLUMTREE_NODE_REF) private readonly ref: PlumtreeNodeRef) {
    super();
  }

  /** `shareServer` needs its server by now: fail `app.init()` rather than wait forever. */
  onModuleInit(): void {
    const o = this.ref.options;
    if (o.shareServer !== true || o.server !== undefined || isServerDeclared(o.name!)) return;
    throw new PlumtreeOptionsError([
      {
        field: 'shareServer',
        message:
          `no PlumtreeServer named ${JSON.stringify(o.name)} was created: construct it ` +
          '(app.connectMicroservice({ strategy: new PlumtreeServer({ name, ... }) })) before ' +
          'app.init(), or drop shareServer to give the module its own node',
      },
    ]);
  }

  /** Leave the cluster gracefully when this module started the node. */
  async onApplicationShutdown(): Promise<void> {
    await this.ref.release();
  }
}
