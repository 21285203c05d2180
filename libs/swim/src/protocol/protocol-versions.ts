import type { PushNodeState } from '../wire/messages.js';
import type { ProtocolVersions } from './types.js';

/** The six protocol versions of a member (memberlist's `Vsn` order), and whether it is alive. */
export interface VersionVector extends ProtocolVersions {
  readonly alive: boolean;
  readonly name: string;
}

/**
 * memberlist's `verifyProtocol`: find the common range of protocol and delegate versions that every
 * alive member (local view and remote push-pull state) understands, then check that every member
 * (alive or not) currently speaks a version inside it. Returns the reason when some member cannot be
 * understood, null when the merge may proceed. Remote members without a `Vsn` count as version 0
 * speakers and do not narrow the range, as in memberlist.
 */
export function verifyProtocol(
  remote: readonly PushNodeState[],
  local: readonly VersionVector[],
): string | null {
  let maxpmin = 0;
  let minpmax = 255;
  let maxdmin = 0;
  let mindmax = 255;
  for (const rn of remote) {
    if (rn.State !== 0 || rn.Vsn.length === 0) continue;
    maxpmin = Math.max(maxpmin, rn.Vsn[0] ?? 0);
    minpmax = Math.min(minpmax, rn.Vsn[1] ?? 0);
    maxdmin = Math.max(maxdmin, rn.Vsn[3] ?? 0);
    mindmax = Math.min(mindmax, rn.Vsn[4] ?? 0);
  }
  for (const n of local) {
    if (!n.alive) continue;
    maxpmin = Math.max(maxpmin, n.pMin);
    minpmax = Math.min(minpmax, n.pMax);
    maxdmin = Math.max(maxdmin, n.dMin);
    mindmax = Math.min(mindmax, n.dMax);
  }
  const check = (name: string, pCur: number, dCur: number): string | null => {
    if (pCur < maxpmin || pCur > minpmax) {
      return `Node '${name}' protocol version (${pCur}) is incompatible: [${maxpmin}, ${minpmax}]`;
    }
    if (dCur < maxdmin || dCur > mindmax) {
      return `Node '${name}' delegate protocol version (${dCur}) is incompatible: [${maxdmin}, ${mindmax}]`;
    }
    return null;
  };
  for (const n of remote) {
    const problem = check(
      n.Name,
      n.Vsn.length > 0 ? (n.Vsn[2] ?? 0) : 0,
      n.Vsn.length > 0 ? (n.Vsn[5] ?? 0) : 0,
    );
    if (problem) return problem;
  }
  for (const n of local) {
    const problem = check(n.name, n.pCur, n.dCur);
    if (problem) return problem;
  }
  return null;
}
