/**
 * Starting a node for the Nest layer: options resolved first, unless they come resolved (one
 * error naming every bad field), handed resolved to the node, and start failures turned into one
 * clear {@link PlumtreeStartError}.
 *
 * With `beforeJoin` (what `PlumtreeServer.listen` uses), the node starts without joining, the
 * hook runs (the server subscribes every handler there), and only then are the seeds joined. A
 * join is a push-pull with each seed, which merges this node's directory entry before it answers:
 * once the join returns, the members joined through hold every subscription and responder of
 * this node, so a request or an event sent through them right after `listen` reaches it.
 */
import {
  PlumtreeNode,
  PlumtreeNodeError,
  resolvePlumtreeNodeOptions,
  withoutSeeds,
  type ResolvedNodeOptions,
} from '@plumtree/cluster';
import {
  nodeOptionsOf,
  resolvePlumtreeModuleOptions,
  type PlumtreeModuleOptions,
  type ResolvedPlumtreeModuleOptions,
} from './plumtree-module-options.js';
import { PlumtreeStartError } from './plumtree.errors.js';

/** Options of {@link startPlumtreeNode}. */
export interface StartNodeHooks {
  /** Runs after the node started, before it joins its seeds; a throw closes the node. */
  readonly beforeJoin?: (node: PlumtreeNode) => void;
}

/**
 * Resolve `options` (unless resolved already), start a node and join its seeds; rejects with
 * `PlumtreeOptionsError` or `PlumtreeStartError` (or what `beforeJoin` threw), leaving nothing
 * running.
 */
export async function startPlumtreeNode(
  options: PlumtreeModuleOptions | ResolvedPlumtreeModuleOptions,
  hooks: StartNodeHooks = {},
): Promise<PlumtreeNode> {
  const resolved = resolvePlumtreeModuleOptions(options);
  // Options that share a server carry no node options; started anyway, they are checked here.
  const nodeOptions = resolved.node ?? resolvePlumtreeNodeOptions(nodeOptionsOf(resolved.options));
  const deferJoin = hooks.beforeJoin !== undefined;
  let node: PlumtreeNode;
  try {
    node = await PlumtreeNode.start(deferJoin ? withoutSeeds(nodeOptions) : nodeOptions);
  } catch (e) {
    throw startError(nodeOptions, e);
  }
  if (!deferJoin) return node;
  try {
    hooks.beforeJoin!(node);
  } catch (e) {
    await node.close();
    throw e;
  }
  const seeds = nodeOptions.seeds;
  try {
    // As PlumtreeNode.start does: keep trying while no seed answers (one started at once with
    // this one may not listen yet), until joinTimeoutMs; the join's members are stored.
    await node.join(seeds);
  } catch (e) {
    await node.close();
    throw startError(nodeOptions, e);
  }
  return node;
}

function startError(nodeOptions: ResolvedNodeOptions, e: unknown): unknown {
  if (e instanceof PlumtreeNodeError) return e;
  const { bindAddr, bindPort } = nodeOptions;
  const where = `${bindAddr}:${bindPort}`;
  const joinFailed = (e as Error).name === 'JoinError';
  const code = joinFailed ? 'ECONNREFUSED' : errorCode(e);
  const reason =
    code === 'EADDRINUSE'
      ? `port ${bindPort} is already in use on ${bindAddr} (EADDRINUSE); choose another bindPort or 0 for a free one`
      : code === 'EADDRNOTAVAIL'
        ? `address ${bindAddr} is not available on this host (EADDRNOTAVAIL)`
        : code === 'EACCES'
          ? `no permission to bind port ${bindPort} (EACCES)`
          : (e as Error).message;
  return new PlumtreeStartError(
    `Plumtree node ${JSON.stringify(nodeOptions.name)} could not start on ${where}: ${reason}`,
    e,
    code,
  );
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
