/**
 * Queue group memberships of every directory entry, indexed by group name, so "who in group g
 * takes topic t" needs no scan over every entry (docs/queue-groups.md).
 */
import { compareGroupMemberships, type GroupMembership } from './directory-codec.js';
import { TopicHolders } from './topic-holders.js';

/** See the file comment. */
export class GroupIndex {
  /** Group name -> its members' topics and patterns. */
  private readonly byGroup = new Map<string, TopicHolders>();

  /** `node` is a member of every group of `groups`. */
  add(node: string, groups: readonly GroupMembership[]): void {
    for (const g of groups) {
      let holders = this.byGroup.get(g.group);
      if (holders === undefined) {
        holders = new TopicHolders();
        this.byGroup.set(g.group, holders);
      }
      holders.add(g.topic, node);
    }
  }

  /** `node` is no longer a member of the groups of `groups`. */
  remove(node: string, groups: readonly GroupMembership[]): void {
    for (const g of groups) {
      const holders = this.byGroup.get(g.group);
      if (holders === undefined) continue;
      holders.remove(g.topic, node);
      if (holders.isEmpty()) this.byGroup.delete(g.group);
    }
  }

  /** Nodes of `group` whose membership topic or pattern matches the concrete `topic`. */
  matching(topic: string, group: string): Set<string> {
    return this.byGroup.get(group)?.matching(topic) ?? new Set();
  }
}

/** Whether two sorted membership lists are equal. */
export function sameGroups(a: readonly GroupMembership[], b: readonly GroupMembership[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (compareGroupMemberships(a[i]!, b[i]!) !== 0) return false;
  return true;
}
