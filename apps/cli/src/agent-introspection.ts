/**
 * What the agent tells a harness that watches it through stdio only (the fault suite runs each
 * agent in its own network namespace; docs/faults.md):
 * - a `{"event":"suspect","node","addr","incarnation","from"}` line per SWIM suspicion, so a
 *   history shows when a member was suspected, by whom, before it was declared dead or refuted;
 * - a `{"event":"durable","type":"catchup-started"|...,"topic",...}` line per durable catch-up
 *   event (`node.durableEvents$`), so a history shows where missed messages came from;
 * stdin commands:
 * - `stats`: one `{"event":"stats",...}` line with the node's membership, per-topic peer counts
 *   and delivery backlog;
 * - `memory`: one `{"event":"memory",...}` line, `process.memoryUsage()` (after a full collection
 *   when node runs with `--expose-gc`, so `heapUsed` is what is retained: the soak's samples);
 * - `members`: one `{"event":"members","members":[...]}` line, the rows of `GET /members`.
 */
import type { DurableReplicatorEvent, PlumtreeNode } from '@plumtree/cluster';
import type { SwimEvent } from '@plumtree/swim';
import { memberJson } from './http-api.js';

/** The `stats` line's fields (without `event`). */
export function statsLine(node: PlumtreeNode): Record<string, unknown> {
  const s = node.stats();
  const topics: Record<string, { peers: number }> = {};
  for (const [t, ts] of Object.entries(s.topics)) topics[t] = { peers: ts.peers };
  const durable: Record<string, { pending: number; held: number }> = {};
  for (const [t, d] of Object.entries(s.durable.topics)) {
    durable[t] = { pending: d.pending, held: d.held };
  }
  return {
    swim: s.swim,
    topics,
    durable,
    deliveries: s.node.deliveries,
    deliveryQueue: s.node.deliveryQueue.pending,
    parked: s.parked.records,
  };
}

/** Answers an introspection command; false when `cmd` is not one. */
export function introspect(
  node: PlumtreeNode,
  cmd: string,
  out: (obj: Record<string, unknown>) => void,
): boolean {
  if (cmd === 'stats') out({ event: 'stats', ...statsLine(node) });
  else if (cmd === 'memory') {
    (globalThis as { gc?: () => void }).gc?.();
    out({ event: 'memory', ...process.memoryUsage() });
  } else if (cmd === 'members') {
    out({ event: 'members', members: node.swimNode.allMembers().map(memberJson) });
  } else return false;
  return true;
}

/** Prints a suspicion as a `suspect` line (JSON) or `suspect NODE ADDR from MEMBER`. */
export function printSuspicion(
  e: Extract<SwimEvent, { type: 'member-suspect' }>,
  out: (obj: Record<string, unknown>, text: string) => void,
): void {
  const m = e.member;
  out(
    { event: 'suspect', node: m.name, addr: m.address, incarnation: m.incarnation, from: e.from },
    `suspect ${m.name} ${m.address} from ${e.from}`,
  );
}

/** Prints a durable catch-up event as a `durable` line (JSON) or `durable TYPE TOPIC PEER`. */
export function printDurableEvent(
  e: DurableReplicatorEvent,
  out: (obj: Record<string, unknown>, text: string) => void,
): void {
  const { type, ...rest } = e;
  out(
    { event: 'durable', type, ...rest },
    `durable ${type} ${e.topic} ${'peer' in e ? String(e.peer) : ''}`,
  );
}
