/**
 * Where a module with `shareServer: true` finds the node of the `PlumtreeServer` of the same
 * name: a process-wide table of promises, resolved when that server listens. The module is
 * created before `app.connectMicroservice` constructs the server, hence promises, not lookups.
 */
import type { PlumtreeNode } from '@plumtree/cluster';

interface Slot {
  promise: Promise<PlumtreeNode>;
  resolve: (n: PlumtreeNode) => void;
  node: PlumtreeNode | undefined;
}

const slots = new Map<string, Slot>();

function slot(name: string): Slot {
  let s = slots.get(name);
  if (s === undefined || (s.node !== undefined && s.node.isClosed)) {
    let resolve!: (n: PlumtreeNode) => void;
    const promise = new Promise<PlumtreeNode>((r) => (resolve = r));
    s = { promise, resolve, node: undefined };
    slots.set(name, s);
  }
  return s;
}

/** The node of the server named `name`, once it listens. */
export function serverNode(name: string): Promise<PlumtreeNode> {
  return slot(name).promise;
}

/** A server named `name` is listening on `node`. */
export function registerServerNode(name: string, node: PlumtreeNode): void {
  const s = slot(name);
  s.node = node;
  s.resolve(node);
}

/** The server named `name` closed: a later server of that name starts a new slot. */
export function unregisterServerNode(name: string, node: PlumtreeNode): void {
  const s = slots.get(name);
  if (s?.node === node) slots.delete(name);
}
