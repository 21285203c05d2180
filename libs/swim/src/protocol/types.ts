/**
 * What the SWIM core gives out and takes in besides decoded messages: members, transmits, stream
 * requests, events, delegate hooks.
 */
import type { AckResp, Message, Ping, PushNodeState } from '../wire/messages.js';
import type { SwimAddress } from './address.js';

/** A member's state as memberlist names them. `left` is a dead member that announced its leave. */
export type MemberState = 'alive' | 'suspect' | 'dead' | 'left';

/**
 * A member's protocol versions in memberlist's `Vsn` order: lowest, highest and current memberlist
 * protocol; the same for the delegate.
 */
export interface ProtocolVersions {
  readonly pMin: number;
  readonly pMax: number;
  readonly pCur: number;
  readonly dMin: number;
  readonly dMax: number;
  readonly dCur: number;
}

/** A member as the core sees it (memberlist `Node` plus `nodeState`). */
export interface SwimMember extends ProtocolVersions {
  readonly name: string;
  /** IP address, 4 or 16 bytes. */
  readonly addr: Uint8Array;
  readonly port: number;
  /** `host:port` of {@link addr} and {@link port}. */
  readonly address: string;
  readonly state: MemberState;
  readonly incarnation: number;
  /** Delegate metadata, at most 512 bytes. */
  readonly meta: Uint8Array;
  /** When the core last changed {@link state} (its clock). */
  readonly stateChangeMs: number;
}

/**
 * One UDP packet to send: the messages go into one compound message (or are sent alone when there
 * is one), within `udpBufferSize` as estimated by the core.
 */
export interface SwimTransmit {
  readonly to: SwimAddress;
  readonly messages: readonly Message[];
  /**
   * Add a CRC header (protocol >= 5): memberlist does when it knows the recipient understands
   * version 5, which is when the packet was addressed to a known member.
   */
  readonly crc: boolean;
}

/**
 * One side of a push-pull exchange: what to write on the stream. Shaped like the codec's push-pull
 * `StreamMessage` (`{ type: MessageType.PushPull, ...state }`).
 */
export interface PushPullState {
  readonly join: boolean;
  readonly nodes: PushNodeState[];
  /** Delegate state (`LocalState`); empty when there is none. */
  readonly userState: Uint8Array;
}

/** A stream (TCP) exchange the shell must open for the core. Each has an id the answer refers to. */
export type SwimStreamRequest =
  | {
      /** Push-pull: send `local`, read the remote's state, then call `handlePushPullResponse`. */
      readonly kind: 'push-pull';
      readonly id: number;
      readonly to: SwimAddress;
      readonly local: PushPullState;
      readonly deadlineMs: number;
    }
  | {
      /**
       * TCP fallback ping of a probe: send `ping`, read one ack, then call
       * `handleStreamPingResult` (with null when nothing valid came back by `deadlineMs`).
       */
      readonly kind: 'ping';
      readonly id: number;
      readonly to: SwimAddress;
      readonly ping: Ping;
      readonly deadlineMs: number;
    }
  | {
      /** Reliable user message (memberlist `SendReliable`): write it, then call `handleStreamDone`, or `handleStreamFailure` on error. */
      readonly kind: 'user';
      readonly id: number;
      readonly to: SwimAddress;
      readonly payload: Uint8Array;
      readonly deadlineMs: number;
    };

/** Why the core dropped an input instead of acting on it (counted in `stats.drops`). */
export type SwimDropReason =
  | 'ping-wrong-node'
  | 'stale-ack'
  | 'error-response'
  | 'bad-protocol-version'
  | 'alive-filtered'
  | 'merge-rejected'
  | 'incompatible-protocol'
  | 'unknown-stream';

/** What the core tells the application. */
export type SwimEvent =
  /** A member became alive from dead, left or unknown (memberlist `NotifyJoin`; also fires for the local node). */
  | { readonly type: 'member-join'; readonly member: SwimMember }
  /** An alive member's meta changed (memberlist `NotifyUpdate`). */
  | { readonly type: 'member-update'; readonly member: SwimMember }
  /** A member is suspected; not a memberlist event, given for observability. */
  | { readonly type: 'member-suspect'; readonly member: SwimMember; readonly from: string }
  /** A member was declared dead (memberlist `NotifyLeave` with state dead). */
  | { readonly type: 'member-failed'; readonly member: SwimMember }
  /** A member left gracefully (memberlist `NotifyLeave` with state left; also the local node on leave). */
  | { readonly type: 'member-left'; readonly member: SwimMember }
  /** A direct probe was acked in time (memberlist `NotifyPingComplete`). */
  | {
      readonly type: 'ping-complete';
      readonly member: SwimMember;
      readonly rttMs: number;
      readonly payload: Uint8Array;
    }
  /** Answer to {@link SwimCore.ping}: the RTT, or null when no ack came within the probe timeout. */
  | {
      readonly type: 'ping-result';
      readonly name: string;
      readonly seqNo: number;
      readonly rttMs: number | null;
    }
  /** A user message arrived (memberlist `NotifyMsg`). */
  | { readonly type: 'user-message'; readonly from: string; readonly payload: Uint8Array }
  /** An alive message claims a known name from another address (memberlist `NotifyConflict`). */
  | {
      readonly type: 'conflict';
      readonly existing: SwimMember;
      readonly other: {
        readonly name: string;
        readonly address: string;
        readonly meta: Uint8Array;
      };
    }
  /** Outcome of one seed of {@link SwimCore.join} (memberlist `Join` counts the successes). */
  | {
      readonly type: 'join-result';
      readonly seed: SwimAddress;
      readonly ok: boolean;
      readonly error?: string;
    }
  /** A periodic push-pull failed (memberlist logs it). */
  | { readonly type: 'push-pull-failed'; readonly peer: SwimAddress; readonly error: string }
  /** The leave broadcast has been sent its full retransmit count, or nobody is alive to hear it. */
  | { readonly type: 'leave-complete' }
  /** The meta update's alive broadcast has been sent its full retransmit count (or was superseded). */
  | { readonly type: 'update-complete'; readonly incarnation: number }
  /** The Lifeguard health score changed (0 is healthy). */
  | { readonly type: 'health-score'; readonly score: number };

/** A node as the alive and merge filters see it. */
export interface SwimNodeInfo {
  readonly name: string;
  readonly addr: Uint8Array;
  readonly port: number;
  readonly meta: Uint8Array;
  readonly state: MemberState;
  readonly vsn: Uint8Array;
}

/**
 * Optional hooks of the application (memberlist's Delegate, PingDelegate, AliveDelegate,
 * MergeDelegate). Notifications are events ({@link SwimEvent}); hooks are here because the core
 * needs their answer synchronously. They are trusted code: what they throw propagates.
 */
export interface SwimDelegate {
  /** Payload of every ack this node sends (memberlist `PingDelegate.AckPayload`). */
  ackPayload?(): Uint8Array;
  /**
   * Extra user broadcasts to piggyback, at most `limitBytes` in total counting `overheadBytes` per
   * message (memberlist `Delegate.GetBroadcasts`); asked after the core's own user queue.
   */
  getBroadcasts?(overheadBytes: number, limitBytes: number): Uint8Array[];
  /** State sent in push-pull (memberlist `Delegate.LocalState`). */
  localState?(join: boolean): Uint8Array;
  /** State received in push-pull (memberlist `Delegate.MergeRemoteState`). */
  mergeRemoteState?(userState: Uint8Array, join: boolean): void;
  /** Return a reason to ignore an alive message (memberlist `AliveDelegate.NotifyAlive`). */
  notifyAlive?(node: SwimNodeInfo): string | null;
  /** Return a reason to refuse a join's remote state (memberlist `MergeDelegate.NotifyMerge`). */
  notifyMerge?(nodes: readonly SwimNodeInfo[]): string | null;
  /** Whether to skip the TCP fallback ping for this member (memberlist `DisableTcpPingsForNode`). */
  disableTcpPingsForNode?(name: string): boolean;
}

/** The result of a TCP fallback ping. */
export type StreamPingResult = AckResp | null;
