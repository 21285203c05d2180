/**
 * When is a test cluster ready for a test to publish and expect delivery? Three conditions, each
 * checked among the nodes that can reach each other (same partition group, not killed):
 *
 * 1. membership: every node sees exactly its reachable nodes as alive (no suspects, none missing,
 *    none it should have declared failed);
 * 2. directory: for every topic in some node's tree, every node knows the same subscribers, so a
 *    publisher outside the tree hands off to a live one;
 * 3. trees: the eager and lazy links of each topic connect all its subscribers. A message
 *    published before a node has links in the tree reaches it neither as GOSSIP nor as IHAVE
 *    (Plumtree has no anti-entropy), so "members agree" alone is not enough.
 *
 * The checks return what is still wrong, as lines for the timeout error.
 */
import type { PlumtreeNode } from '@plumtree/cluster';

/** The nodes that can talk to each other: one partition group's live nodes. */
export type NodeGroup = readonly PlumtreeNode[];

/** Membership problems of one group. */
export function membershipProblems(group: NodeGroup): string[] {
  const expected = group.map((n) => n.name).sort();
  const problems: string[] = [];
  for (const n of group) {
    const members = n.members();
    const alive = members
      .filter((m) => m.state === 'alive')
      .map((m) => m.name)
      .sort();
    const suspect = members.filter((m) => m.state === 'suspect').map((m) => m.name);
    if (alive.join() !== expected.join() || suspect.length > 0) {
      problems.push(
        `${n.name} sees alive [${alive.join(', ')}]` +
          (suspect.length > 0 ? ` suspect [${suspect.join(', ')}]` : '') +
          `, expected [${expected.join(', ')}]`,
      );
    }
  }
  return problems;
}

/** The topics in some node's tree, each with the number of the group's nodes in it. */
export function topicsInTree(group: NodeGroup): Map<string, number> {
  const counts = new Map<string, number>();
  for (const [topic, members] of treeMembers(group)) counts.set(topic, members.length);
  return counts;
}

function treeMembers(group: NodeGroup): Map<string, PlumtreeNode[]> {
  const inTree = new Map<string, PlumtreeNode[]>();
  for (const n of group) {
    for (const t of n.topics()) {
      let list = inTree.get(t);
      if (list === undefined) inTree.set(t, (list = []));
      list.push(n);
    }
  }
  return inTree;
}

/** Directory and tree problems of one group. */
export function topicProblems(group: NodeGroup): string[] {
  const problems: string[] = [];
  for (const [topic, members] of treeMembers(group)) {
    const names = new Set(members.map((m) => m.name));
    for (const n of group) {
      const expected = [...names].filter((x) => x !== n.name).sort();
      const known = n.subscribersOf(topic).sort();
      if (known.join() !== expected.join()) {
        problems.push(
          `${n.name} knows subscribers of ${topic} [${known.join(', ')}], expected [${expected.join(', ')}]`,
        );
      }
    }
    if (members.length < 2) continue;
    const cut = unreachable(members, topic, names);
    if (cut !== undefined) problems.push(cut);
  }
  return problems;
}

/**
 * Whether the union of eager and lazy links (as each side keeps them) leads from every
 * subscriber to every other: any of them may publish. Undefined when it does.
 */
function unreachable(
  members: readonly PlumtreeNode[],
  topic: string,
  names: ReadonlySet<string>,
): string | undefined {
  const links = new Map<string, string[]>();
  for (const m of members) {
    const s = m.stats().topics[topic];
    links.set(
      m.name,
      [...(s?.eagerPeers ?? []), ...(s?.lazyPeers ?? [])].filter((p) => names.has(p)),
    );
  }
  for (const source of members) {
    const seen = new Set<string>([source.name]);
    const queue = [source.name];
    while (queue.length > 0) {
      for (const p of links.get(queue.pop()!) ?? []) {
        if (!seen.has(p)) {
          seen.add(p);
          queue.push(p);
        }
      }
    }
    if (seen.size < names.size) {
      const missing = [...names].filter((x) => !seen.has(x));
      return `tree of ${topic} does not reach [${missing.join(', ')}] from ${source.name}`;
    }
  }
  return undefined;
}
