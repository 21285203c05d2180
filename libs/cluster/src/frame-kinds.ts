/**
 * The kinds of frame that share a node's frame transport, told apart by their first byte, and
 * the one table that hands each kind to the engine that reads it.
 *
 * | byte | kind                                  | codec                        | engine                    |
 * |------|---------------------------------------|------------------------------|---------------------------|
 * | 0x01 | Plumtree: GOSSIP, IHAVE, GRAFT, PRUNE | plumtree wire/frame-codec.ts | tree/topic-trees.ts       |
 * | 0x80 | hand-off: request, ACK, NACK          | handoff/handoff-codec.ts     | handoff/handoff.ts        |
 * | 0x81 | request                               | rpc/rpc-codec.ts             | rpc/rpc.ts                |
 * | 0x82 | reply                                 | rpc/rpc-codec.ts             | rpc/rpc.ts                |
 * | 0x83 | catch-up request                      | durable/catchup-codec.ts     | durable/durable-topics.ts |
 * | 0x84 | catch-up response                     | durable/catchup-codec.ts     | durable/durable-topics.ts |
 * | 0x85 | queue group acknowledgement           | groups/group-ack-codec.ts    | groups/queue-groups.ts    |
 *
 * A Plumtree frame's first byte is its codec version (`FRAME_CODEC_VERSION`): the Plumtree kind is
 * that byte, so a future codec version is a new kind here. The other kinds start at 0x80, far
 * from any codec version.
 */
import { FRAME_CODEC_VERSION } from '@plumtree/plumtree';

/**
 * First byte of each frame kind. An object rather than a TypeScript `enum`: the Plumtree byte is
 * the codec's constant, and a computed enum member would stop {@link FrameKind} from being a
 * union of literals, which is what makes a {@link FrameRoutes} table that misses a kind a type
 * error.
 */
export const FrameKind = {
  /** A Plumtree frame; its first byte is the Plumtree codec version. */
  Plumtree: FRAME_CODEC_VERSION,
  /** A hand-off from a publisher outside the topic's tree, or its answer. */
  Handoff: 0x80,
  /** A request to one subscriber. */
  RpcRequest: 0x81,
  /** The reply to a request. */
  RpcResponse: 0x82,
  /** A durable topic's catch-up request. */
  CatchupRequest: 0x83,
  /** A page of records answering a catch-up request. */
  CatchupResponse: 0x84,
  /** A queue group member's acknowledgement of the messages it handled. */
  GroupAck: 0x85,
} as const;

/** One of the {@link FrameKind} bytes. */
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

/** Reads one received frame: the sender's name and the frame bytes, first byte included. */
export type FrameHandler = (from: string, frame: Uint8Array) => void;

/** The handler of every frame kind. */
export type FrameRoutes = Readonly<Record<FrameKind, FrameHandler>>;

/**
 * One handler for every received frame: a lookup of the first byte in `routes`; a frame of no
 * known kind (or empty) goes to `unknown`.
 */
export function routeFrames(routes: FrameRoutes, unknown: FrameHandler): FrameHandler {
  const table: (FrameHandler | undefined)[] = new Array<FrameHandler | undefined>(256);
  for (const kind of Object.values(FrameKind)) table[kind] = routes[kind];
  return (from, frame) => {
    const handler = frame.length > 0 ? table[frame[0]!] : undefined;
    if (handler !== undefined) handler(from, frame);
    else unknown(from, frame);
  };
}
