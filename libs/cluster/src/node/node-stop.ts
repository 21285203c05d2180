/**
 * A node's two ways to stop. Leaving says goodbye (the node's groups acknowledged, its trees
 * PRUNEd, durable records logged, frames drained, the SWIM leave broadcast) and then closes;
 * closing stops at once, in the order that keeps what was received: the engines stop sending,
 * what was received is handed to the delivery queue, the sockets and the store close, and the
 * observers complete last.
 */
import type { BootHost } from './node-boot.js';
import { waitForDrain } from './node-network.js';

/** How long `leave()` waits for durable appends in flight. */
const DURABLE_IDLE_TIMEOUT_MS = 2_000;
/** How long `leave()` lets queued frames (the PRUNEs) drain before closing the transport. */
const LEAVE_DRAIN_MS = 500;

/** What stopping needs of its node: what starting it needed, but SWIM's members. */
export type StopHost = Omit<BootHost, 'directory' | 'membersChanged'>;

/** The leave sequence up to the close, which `close` (the node's, idempotent) runs. */
export async function leaveNode(host: StopHost, close: () => Promise<void>): Promise<void> {
  const { engines, parts } = host;
  host.life.leaving = true;
  // What the handlers finished is acknowledged before the group sees this node go.
  engines.groups.flush();
  const topics = engines.trees.unsubscribeAll(Date.now());
  // Durable records accepted are logged and handed over before the node goes.
  await engines.durable.whenAllIdle(topics, DURABLE_IDLE_TIMEOUT_MS);
  await waitForDrain(parts.frames, LEAVE_DRAIN_MS);
  engines.handoff.close();
  engines.rpc.close();
  await parts.swim.leave(host.options.leaveTimeoutMs).catch(() => false);
  await close();
}

/**
 * Close at once (see the file comment). Everything up to the sockets' closing runs before this
 * returns its promise; call it once (the node keeps the promise).
 */
export async function closeNode(host: StopHost): Promise<void> {
  const { engines, parts } = host;
  host.life.closed = true;
  engines.close();
  parts.lazarus?.stop();
  // Records not yet logged are dropped: they were not delivered, and catch-up pulls them later.
  engines.durable.close();
  // What was received is handed over before the observers complete.
  engines.deliveries.closeQueue();
  await parts.frames.close();
  await parts.swim.close();
  await parts.persistence?.close();
  engines.deliveries.completeAll();
  host.completeSubjects();
}
