/**
 * The health rule of a node, apart from Nest so it can be table-tested: a node is healthy when it
 * runs and sees at least `minMembers` alive members (itself included). A node alone in its
 * cluster still answers its own handlers but reaches nobody: for a bus that is an outage.
 */
import type { PlumtreeNode } from '@plumtree/cluster';

/** Why a node is reported down. */
export type PlumtreeDownReason = 'not-listening' | 'isolated';

/** What a health check found; `data` is what terminus shows beside the status. */
export type PlumtreeHealthCheck =
  | { readonly up: true; readonly data: PlumtreeHealthData }
  | {
      readonly up: false;
      readonly reason: PlumtreeDownReason;
      readonly data: Partial<PlumtreeHealthData> & { readonly message: string };
    };

/** Figures reported with the status. */
export interface PlumtreeHealthData {
  /** The node's name. */
  readonly node: string;
  /** Alive members, this node included. */
  readonly members: number;
  /** Members under suspicion (not yet declared failed). */
  readonly suspect: number;
  /** Concrete topics whose tree this node is in. */
  readonly topics: number;
  /** Topics and patterns this node subscribes to. */
  readonly subscriptions: number;
  /** Lifeguard's local health score: 0 is healthy, higher means this node itself is slow. */
  readonly healthScore: number;
}

/** The part of a node a health check reads. */
export type HealthCheckedNode = Pick<
  PlumtreeNode,
  'name' | 'isClosed' | 'members' | 'topics' | 'subscriptionsList' | 'swimNode'
>;

/** Default of `minMembers`: this node and at least one other. */
export const DEFAULT_MIN_MEMBERS = 2;

/**
 * Check `node` (undefined: not started). Down with `not-listening` when there is no node or it
 * is closed or leaving; down with `isolated` when fewer than `minMembers` members are alive
 * (suspects do not count: they may be gone); up otherwise.
 */
export function checkPlumtreeHealth(
  node: HealthCheckedNode | undefined,
  minMembers: number = DEFAULT_MIN_MEMBERS,
): PlumtreeHealthCheck {
  if (node === undefined) {
    return {
      up: false,
      reason: 'not-listening',
      data: { message: 'the Plumtree node is not listening' },
    };
  }
  if (node.isClosed) {
    return {
      up: false,
      reason: 'not-listening',
      data: { node: node.name, message: `the Plumtree node ${node.name} is closed` },
    };
  }
  const all = node.members();
  const alive = all.filter((m) => m.state === 'alive').length;
  const data: PlumtreeHealthData = {
    node: node.name,
    members: alive,
    suspect: all.filter((m) => m.state === 'suspect').length,
    topics: node.topics().length,
    subscriptions: node.subscriptionsList().length,
    healthScore: node.swimNode.healthScore,
  };
  if (alive < minMembers) {
    return {
      up: false,
      reason: 'isolated',
      data: {
        ...data,
        message: `isolated: ${alive} alive member${alive === 1 ? '' : 's'}, at least ${minMembers} expected`,
      },
    };
  }
  return { up: true, data };
}
