/**
 * Where a module or client with `shareServer: true` finds the node of the `PlumtreeServer` of the
 * same name: a process-wide table, filled when the server is constructed (so `app.init()` can
 * tell a missing server from one that has not listened yet) and resolved when it listens, or
 * rejected when its `listen` fails (so nothing waits for a node that will never run). The module
 * is created before `app.connectMicroservice` constructs the server, hence promises, not lookups.
 */
import type { PlumtreeNode } from '@plumtree/cluster';

interface Slot {
  promise: Promise<PlumtreeNode>;
  resolve: (n: PlumtreeNode) => void;
  reject: (e: unknown) => void;
  node: PlumtreeNode | undefined;
  /** A server of this name was constructed. */
  declared: boolean;
  settled: boolean;
}

const slots = new Map<string, Slot>();

function slot(name: string): Slot {
  let s = slots.get(name);
  // A slot whose server failed, or whose node closed, makes room for a later server.
  const stale = s !== undefined && s.settled && (s.node === undefined || s.node.isClosed);
  if (s === undefined || stale) {
    let resolve!: (n: PlumtreeNode) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<PlumtreeNode>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(() => undefined);
    s = { promise, resolve, reject, node: undefined, declared: false, settled: false };
    slots.set(name, s);
  }
  return s;
}

/** The node of the server named `name`, once it listens; rejects when its `listen` fails. */
export function serverNode(name: string): Promise<PlumtreeNode> {
  return slot(name).promise;
}

/** A server named `name` was constructed (it may listen later). */
export function declareServer(name: string): void {
  slot(name).declared = true;
}

/** Whether a server named `name` was constructed and has not failed or closed. */
export function isServerDeclared(name: string): boolean {
  const s = slots.get(name);
  return s !== undefined && s.declared && (s.node === undefined || !s.node.isClosed);
}

/** A server named `name` is listening on `node`. */
export function registerServerNode(name: string, node: PlumtreeNode): void {
  const s = slot(name);
  s.node = node;
  s.declared = true;
  s.settled = true;
  s.resolve(node);
}

/** The `listen` of the server named `name` failed: whoever waits for its node gets `error`. */
export function failServerNode(name: string, error: unknown): void {
  const s = slots.get(name);
  if (s === undefined || s.settled) return;
  s.settled = true;
  s.declared = false;
  s.reject(error);
}

/** The server named `name` closed: a later server of that name starts a new slot. */
export function unregisterServerNode(name: string, node: PlumtreeNode): void {
  const s = slots.get(name);
  if (s?.node === node) slots.delete(name);
}
