/**
 * Starting a node for the Nest layer: options validated first (one error naming every bad
 * field), start failures turned into one clear {@link PlumtreeStartError}.
 */
import { PlumtreeNode, PlumtreeNodeError } from '@plumtree/cluster';
import {
  nodeOptionsOf,
  validatePlumtreeModuleOptions,
  type PlumtreeModuleOptions,
} from './plumtree-module-options.js';
import { PlumtreeStartError } from './plumtree.errors.js';

/** Validate `options` and start a node; rejects with `PlumtreeOptionsError` or `PlumtreeStartError`. */
export async function startPlumtreeNode(options: PlumtreeModuleOptions): Promise<PlumtreeNode> {
  validatePlumtreeModuleOptions(options);
  const nodeOptions = nodeOptionsOf(options);
  try {
    return await PlumtreeNode.start(nodeOptions);
  } catch (e) {
    if (e instanceof PlumtreeNodeError) throw e;
    const where = `${nodeOptions.bindAddr ?? '0.0.0.0'}:${nodeOptions.bindPort ?? 7946}`;
    const code = errorCode(e);
    const reason =
      code === 'EADDRINUSE'
        ? `port ${nodeOptions.bindPort ?? 7946} is already in use on ${nodeOptions.bindAddr ?? '0.0.0.0'} (EADDRINUSE); choose another bindPort or 0 for a free one`
        : code === 'EADDRNOTAVAIL'
          ? `address ${nodeOptions.bindAddr ?? ''} is not available on this host (EADDRNOTAVAIL)`
          : code === 'EACCES'
            ? `no permission to bind port ${nodeOptions.bindPort ?? 7946} (EACCES)`
            : (e as Error).message;
    throw new PlumtreeStartError(
      `Plumtree node ${JSON.stringify(nodeOptions.name)} could not start on ${where}: ${reason}`,
      e,
    );
  }
}

/** The errno code of `e` or of its causes, also when only its message names it. */
function errorCode(e: unknown): string | undefined {
  for (let c: unknown = e, depth = 0; c != null && depth < 5; depth++) {
    const code = (c as NodeJS.ErrnoException).code;
    if (typeof code === 'string') return code;
    const m = /\b(EADDRINUSE|EADDRNOTAVAIL|EACCES)\b/.exec(String((c as Error).message));
    if (m !== null) return m[1];
    c = (c as { cause?: unknown }).cause;
  }
  return undefined;
}
