/**
 * The module's handle on its node: started by the module (owned) or borrowed from a
 * `PlumtreeServer` (hybrid apps), possibly not listening yet when providers are created.
 */
import type { PlumtreeNode } from '@plumtree/cluster';
import { DEFAULT_HANDLER_POLICY, type ResolvedHandlerPolicy } from './delivery/handler-policy.js';
import type { PlumtreeModuleOptions } from './plumtree-module-options.js';
import { PlumtreeNotStartedError } from './plumtree.errors.js';

/** A node that is, or will be, available. */
export class PlumtreeNodeRef {
  private current: PlumtreeNode | undefined;

  constructor(
    /** Resolves once the node runs. */
    readonly ready: Promise<PlumtreeNode>,
    /** Whether the module started the node (and so leaves it on shutdown). */
    readonly owned: boolean,
    /** The module options (request defaults, the shared server's name). */
    readonly options: PlumtreeModuleOptions = {},
    /** The module's handler defaults, resolved with its options. */
    readonly handlerDefaults: ResolvedHandlerPolicy = DEFAULT_HANDLER_POLICY,
  ) {
    ready.then(
      (n) => (this.current = n),
      () => undefined,
    );
    ready.catch(() => undefined);
  }

  /** Leave the cluster when the module started the node (shutdown, or a failed startup). */
  async release(): Promise<void> {
    if (this.owned) await this.current?.leave();
  }

  /** The node; throws `PlumtreeNotStartedError` while a shared server has not listened yet. */
  get node(): PlumtreeNode {
    if (this.current === undefined) throw new PlumtreeNotStartedError('The Plumtree node');
    return this.current;
  }

  /** The node when it runs, else undefined. */
  get nodeOrUndefined(): PlumtreeNode | undefined {
    return this.current;
  }
}
