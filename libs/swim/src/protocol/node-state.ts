/**
 * A member's record inside the SWIM core (memberlist's `nodeState`) and the conversions between
 * it, the read-only {@link SwimMember} the core hands out, and the wire's version vector and state.
 */
import { NodeStateType } from '../wire/message-types.js';
import { addressOf } from './address.js';
import type { MemberState, SwimMember } from './types.js';

/** The mutable record of one member, owned by the core. */
export interface NodeState {
  name: string;
  addr: Uint8Array;
  port: number;
  meta: Uint8Array;
  incarnation: number;
  state: MemberState;
  stateChangeMs: number;
  pMin: number;
  pMax: number;
  pCur: number;
  dMin: number;
  dMax: number;
  dCur: number;
}

/** Copy a six-byte `Vsn` into the record (missing entries read as 0). */
export function setVsn(state: NodeState, vsn: Uint8Array): void {
  state.pMin = vsn[0] ?? 0;
  state.pMax = vsn[1] ?? 0;
  state.pCur = vsn[2] ?? 0;
  state.dMin = vsn[3] ?? 0;
  state.dMax = vsn[4] ?? 0;
  state.dCur = vsn[5] ?? 0;
}

/** The record's `Vsn`, in memberlist's order. */
export function vsnOf(n: NodeState): Uint8Array {
  return Uint8Array.from([n.pMin, n.pMax, n.pCur, n.dMin, n.dMax, n.dCur]);
}

/** The push-pull state byte of a member state. */
export function stateToWire(state: MemberState): NodeStateType {
  switch (state) {
    case 'alive':
      return NodeStateType.Alive;
    case 'suspect':
      return NodeStateType.Suspect;
    case 'dead':
      return NodeStateType.Dead;
    case 'left':
      return NodeStateType.Left;
  }
}

/** The member state of a push-pull state byte; unknown values read as left. */
export function stateFromWire(state: NodeStateType): MemberState {
  switch (state) {
    case NodeStateType.Alive:
      return 'alive';
    case NodeStateType.Suspect:
      return 'suspect';
    case NodeStateType.Dead:
      return 'dead';
    default:
      return 'left';
  }
}

/** A read-only snapshot of the record. */
export function toMember(n: NodeState): SwimMember {
  return {
    name: n.name,
    addr: n.addr,
    port: n.port,
    address: addressOf(n.addr, n.port),
    state: n.state,
    incarnation: n.incarnation,
    meta: n.meta,
    stateChangeMs: n.stateChangeMs,
    pMin: n.pMin,
    pMax: n.pMax,
    pCur: n.pCur,
    dMin: n.dMin,
    dMax: n.dMax,
    dCur: n.dCur,
  };
}
