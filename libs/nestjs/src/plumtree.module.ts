/**
 * `PlumtreeModule.forRoot(options)` / `forRootAsync({ useFactory, inject, imports })`, built with
 * ConfigurableModuleBuilder; global by default (`isGlobal: false` to scope it). The options are
 * validated at startup (one `PlumtreeOptionsError` naming every bad field). The module starts and
 * owns a node, leaving the cluster gracefully on application shutdown (others see it as
 * "left"; use `app.enableShutdownHooks()` so SIGTERM gets there), or, with `shareServer: true`
 * and the server's `name` (or `server`), uses the node of the PlumtreeServer of a hybrid app.
 */
import {
  ConfigurableModuleBuilder,
  Inject,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { PlumtreeNodeRef } from './node-ref.js';
import { PLUMTREE_NODE_REF } from './plumtree.constants.js';
import {
  validatePlumtreeModuleOptions,
  type PlumtreeModuleOptions,
} from './plumtree-module-options.js';
import { PlumtreeService } from './plumtree.service.js';
import { PlumtreeSubscriberExplorer } from './plumtree-subscriber.explorer.js';
import { serverNode } from './server-registry.js';
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
export type PlumtreeModuleForRootOptions = typeof built.OPTIONS_TYPE;
/** The type `forRootAsync` takes (`useFactory`, `inject`, `imports`, `useClass`, `useExisting`). */
export type PlumtreeModuleAsyncOptions = typeof built.ASYNC_OPTIONS_TYPE;

/** Builds the module's node reference: validates, then starts a node or borrows a server's. */
export async function createNodeRef(options: PlumtreeModuleOptions): Promise<PlumtreeNodeRef> {
  validatePlumtreeModuleOptions(options);
  if (options.server !== undefined)
    return new PlumtreeNodeRef(options.server.whenListening(), false);
  if (options.shareServer === true) return new PlumtreeNodeRef(serverNode(options.name!), false);
  const node = await startPlumtreeNode(options);
  return new PlumtreeNodeRef(Promise.resolve(node), true);
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
export class PlumtreeModule extends built.ConfigurableModuleClass implements OnApplicationShutdown {
  constructor(@Inject(PLUMTREE_NODE_REF) private readonly ref: PlumtreeNodeRef) {
    super();
  }

  /** Leave the cluster gracefully when this module started the node. */
  async onApplicationShutdown(): Promise<void> {
    if (this.ref.owned) await this.ref.nodeOrUndefined?.leave();
  }
}
