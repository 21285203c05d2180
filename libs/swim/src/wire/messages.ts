/**
 * The memberlist message bodies, named after the Go structs of net.go with the Go field names,
 * so that a reader can hold this file next to memberlist's source.
 *
 * Go `[]byte` is a `Uint8Array`. Go distinguishes a nil slice (encoded as msgpack nil) from an
 * empty one (encoded as an empty raw string); memberlist nearly always sends nil for "nothing",
 * so an empty `Uint8Array` is encoded as nil, and the one instance `GO_EMPTY_BYTES` (msgpack.ts)
 * stands for Go's empty non-nil slice.
 * Go `string` is a JS string (UTF-8 on the wire). Go integers are JS numbers: every field fits
 * in 53 bits (`uint16`, `uint32`, and `int` counts bounded by the input size).
 *
 * Fields tagged `codec:",omitempty"` in Go are optional here: absent, zero or empty means the
 * key is left out of the msgpack map, exactly as Go leaves it out.
 */
import type { CompressionType, MessageType, NodeStateType } from './message-types.js';

/** `ping`: a direct probe. */
export interface Ping {
  SeqNo: number;
  /** The name of the node being probed, so a restarted node with a new name does not ack. */
  Node: string;
  /** Where to send the ack (protocol >= 5 lets a node behind NAT be reached). */
  SourceAddr?: Uint8Array;
  SourcePort?: number;
  SourceNode?: string;
}

/** `indirectPingReq`: ask a peer to probe `Target` for us. */
export interface IndirectPingReq {
  SeqNo: number;
  /** The target's IP address: 4 or 16 bytes (Go `net.IP`). */
  Target: Uint8Array;
  Port: number;
  Node: string;
  /** True when the requester wants a nack if the target does not answer (protocol >= 4). */
  Nack: boolean;
  SourceAddr?: Uint8Array;
  SourcePort?: number;
  SourceNode?: string;
}

/** `ackResp`: answer to a ping; `Payload` comes from the ping delegate. */
export interface AckResp {
  SeqNo: number;
  Payload: Uint8Array;
}

/** `nackResp`: an indirect probe was tried and the target did not answer. */
export interface NackResp {
  SeqNo: number;
}

/** `errResp`: an error relayed from the remote end of a stream. */
export interface ErrResp {
  Error: string;
}

/** `suspect`: `From` suspects `Node` at `Incarnation`. */
export interface Suspect {
  Incarnation: number;
  Node: string;
  From: string;
}

/** `alive`: `Node` is alive at `Incarnation` (also how a node announces itself on join). */
export interface Alive {
  Incarnation: number;
  Node: string;
  /** IP address: 4 or 16 bytes. */
  Addr: Uint8Array;
  Port: number;
  /** Delegate metadata, at most 512 bytes (`MetaMaxSize`). */
  Meta: Uint8Array;
  /** Six versions, see {@link VsnIndex}. */
  Vsn: Uint8Array;
}

/** `dead`: `From` declares `Node` dead at `Incarnation`; `From === Node` means it left. */
export interface Dead {
  Incarnation: number;
  Node: string;
  From: string;
}

/** `pushPullHeader`: first message of a push-pull exchange over a stream. */
export interface PushPullHeader {
  /** How many {@link PushNodeState} follow. */
  Nodes: number;
  /** Length of the raw user state bytes after the node states. */
  UserStateLen: number;
  /** True for a join, false for periodic anti-entropy. */
  Join: boolean;
}

/** `userMsgHeader`: precedes a user message sent over a stream. */
export interface UserMsgHeader {
  UserMsgLen: number;
}

/** `pushNodeState`: one member's state in a push-pull exchange. */
export interface PushNodeState {
  Name: string;
  Addr: Uint8Array;
  Port: number;
  Meta: Uint8Array;
  Incarnation: number;
  State: NodeStateType;
  Vsn: Uint8Array;
}

/** `compress`: a payload compressed with `Algo`. */
export interface Compress {
  Algo: CompressionType;
  Buf: Uint8Array;
}

/** Positions in the six-byte `Vsn` of {@link Alive} and {@link PushNodeState}. */
export const VsnIndex = {
  /** Lowest memberlist protocol version spoken. */
  PMin: 0,
  /** Highest memberlist protocol version spoken. */
  PMax: 1,
  /** Protocol version in use. */
  PCur: 2,
  /** Lowest delegate protocol version. */
  DMin: 3,
  /** Highest delegate protocol version. */
  DMax: 4,
  /** Delegate protocol version in use. */
  DCur: 5,
} as const;

/**
 * A decoded message body with its type: what arrives in a packet after the label, encryption,
 * CRC, compression and compound layers have been peeled off (see packet.ts). `User` carries the
 * raw bytes after the type byte, which memberlist hands to the delegate untouched.
 */
export type Message =
  | { type: typeof MessageType.Ping; body: Ping }
  | { type: typeof MessageType.IndirectPing; body: IndirectPingReq }
  | { type: typeof MessageType.AckResp; body: AckResp }
  | { type: typeof MessageType.NackResp; body: NackResp }
  | { type: typeof MessageType.Suspect; body: Suspect }
  | { type: typeof MessageType.Alive; body: Alive }
  | { type: typeof MessageType.Dead; body: Dead }
  | { type: typeof MessageType.Err; body: ErrResp }
  | { type: typeof MessageType.User; body: Uint8Array };
