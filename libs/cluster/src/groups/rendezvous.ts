/**
 * Rendezvous (highest random weight) hashing: the owner of a message in a queue group is the
 * member with the highest `score(message key, member)`. Every member that sees the same member
 * list picks the same owner without talking to the others; a member that goes away moves only
 * the messages it owned (each to the member with the next highest score), spread evenly over the
 * rest; a member that comes moves to itself only about 1/n of the messages.
 *
 * score(key, member) = fmix32(FNV-1a-32 over the UTF-16 units of `key`, started from
 * FNV-1a-32(member)) as an unsigned 32-bit number; ties (1 in 2^32) go to the lower name.
 */
import { fmix32 } from '@plumtree/common';

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function fnv1a(s: string, h: number): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  return h;
}

/** The rendezvous score of `member` for `key` (see the file comment). */
export function rendezvousScore(key: string, member: string): number {
  return fmix32(fnv1a(key, fnv1a(member, FNV_OFFSET))) >>> 0;
}

/** The member of `members` with the highest score for `key`; undefined when there is none. */
export function rendezvousOwner(key: string, members: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = -1;
  for (const m of members) {
    const s = rendezvousScore(key, m);
    if (s > bestScore || (s === bestScore && best !== undefined && m < best)) {
      best = m;
      bestScore = s;
    }
  }
  return best;
}
