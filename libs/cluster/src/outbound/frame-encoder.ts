/**
 * Turns the core's transmits into frame bytes with as little work as the protocol allows:
 *
 * - one encoding per message object: the core hands the same object to every eager peer (and one
 *   shared IHAVE to every lazy peer), so consecutive transmits of one object reuse its bytes;
 * - GOSSIPs leaving for one peer together go as runs (GOSSIP_RUN frames: the shared fields once,
 *   ~5 bytes per message instead of ~50), encoded once for every peer that gets the same run;
 * - no re-encoding of forwarded payloads: the bytes of every GOSSIP or GOSSIP_RUN frame this node
 *   received (or encoded once) are kept on the message's id object, which the core carries
 *   unchanged into every copy it sends on (`{ ...msg, hops }` and GRAFT answers). A copy that is
 *   the whole received frame again (a single GOSSIP, or every message of a run in order) is the
 *   received frame with its hop count patched in place (`patchGossipHops`). The patch is safe
 *   while the frame is still queued for another peer because every copy of one id object leaves
 *   this node with the same hop count (received hops + 1; 1 for its own messages).
 *
 * The remembered frames cost no memory of their own for received messages: the decoded payload
 * is a view of the frame, so the frame lives exactly as long as the core caches the message.
 */
import {
  encodeFrame,
  FrameType,
  patchGossipHops,
  type GossipMessage,
  type MessageId,
  type PlumtreeMessage,
} from '@plumtree/plumtree';

/**
 * The frame a GOSSIP arrived in (or was last encoded in), kept on its id object under a symbol:
 * a property store and load measured ~10 ns against ~330 ns for a WeakMap set and get (Node 20,
 * fresh id objects, 2M iterations); symbols stay out of JSON and `Object.keys`.
 */
const SOURCE = Symbol('plumtree.gossipFrame');

/** The frame of a GOSSIP: its bytes, its place in them and how many messages they hold. */
interface FrameSource {
  readonly frame: Uint8Array;
  readonly index: number;
  readonly count: number;
}

type WithSource = MessageId & { [SOURCE]?: FrameSource };

/** Counters of the encoder. */
export interface FrameEncoderStats {
  /** Frames encoded from scratch (runs included). */
  encoded: number;
  /** Of those, GOSSIP_RUN frames. */
  runsEncoded: number;
  /** GOSSIP and GOSSIP_RUN frames sent as received bytes with the hop count patched. */
  forwardedZeroCopy: number;
  /** Transmits that reused the bytes of the previous transmit (same message, other peer). */
  reused: number;
}

/** See the file header. One per node. */
export class FrameEncoder {
  readonly stats: FrameEncoderStats = {
    encoded: 0,
    runsEncoded: 0,
    forwardedZeroCopy: 0,
    reused: 0,
  };
  private lastMessage: PlumtreeMessage | undefined;
  private lastBytes: Uint8Array | undefined;

  /** Remember the bytes of a received (or handed-off) GOSSIP frame for forwarding. */
  rememberGossip(id: MessageId, frame: Uint8Array): void {
    (id as WithSource)[SOURCE] = { frame, index: 0, count: 1 };
  }

  /** Remember the bytes of a received (or handed-off) GOSSIP_RUN frame for forwarding. */
  rememberRun(messages: readonly GossipMessage[], frame: Uint8Array): void {
    const count = messages.length;
    for (let i = 0; i < count; i++) {
      (messages[i]!.id as WithSource)[SOURCE] = { frame, index: i, count };
    }
  }

  /** The frame bytes of `msg`. Throws `FrameEncodeError` for a message the format cannot hold. */
  encode(msg: PlumtreeMessage): Uint8Array {
    if (msg === this.lastMessage) {
      this.stats.reused++;
      return this.lastBytes!;
    }
    const bytes = msg.type === FrameType.Gossip ? this.encodeRun([msg]) : this.fresh(msg);
    this.lastMessage = msg;
    this.lastBytes = bytes;
    return bytes;
  }

  /**
   * The frame of `run`: GOSSIPs of one topic, hops, origin and epoch, seqs increasing (one GOSSIP
   * frame for one message, a GOSSIP_RUN for more). Throws `FrameEncodeError` like `encode`.
   */
  encodeRun(run: readonly GossipMessage[]): Uint8Array {
    const first = run[0]!;
    const src = (first.id as WithSource)[SOURCE];
    if (src !== undefined && src.index === 0 && src.count === run.length && sameSource(run, src)) {
      patchGossipHops(src.frame, first.hops);
      this.stats.forwardedZeroCopy++;
      return src.frame;
    }
    const bytes =
      run.length === 1
        ? this.fresh(first)
        : this.fresh({
            type: FrameType.GossipRun,
            topic: first.topic,
            hops: first.hops,
            messages: run,
          });
    if (run.length > 1) this.stats.runsEncoded++;
    // Other peers sent the same run, and GRAFT answers (same hops), reuse these bytes.
    const count = run.length;
    for (let i = 0; i < count; i++) {
      (run[i]!.id as WithSource)[SOURCE] = { frame: bytes, index: i, count };
    }
    return bytes;
  }

  /** Forget the last message, so a later object at the same address cannot alias it. */
  endBatch(): void {
    this.lastMessage = undefined;
    this.lastBytes = undefined;
  }

  private fresh(msg: PlumtreeMessage): Uint8Array {
    const bytes = encodeFrame(msg);
    this.stats.encoded++;
    return bytes;
  }
}

/**
 * Whether a run should end between `prev` and `next` so that each side can leave as the frame it
 * arrived in: `prev` is the last message of its remembered frame and `next` the first of another.
 * GOSSIPs read in one turn from several frames would otherwise leave as one run encoded afresh
 * (a subscriber's CPU profile in a burst: ~2 % in the run encoder, plus the new buffers' GC).
 */
export function endsSourceFrame(prev: GossipMessage, next: GossipMessage): boolean {
  const a = (prev.id as WithSource)[SOURCE];
  if (a === undefined || a.index !== a.count - 1) return false;
  const b = (next.id as WithSource)[SOURCE];
  return b !== undefined && b.index === 0 && b.frame !== a.frame;
}

/** Whether every message of `run` sits at its own index of `src`'s frame. */
function sameSource(run: readonly GossipMessage[], src: FrameSource): boolean {
  for (let i = 1; i < run.length; i++) {
    const s = (run[i]!.id as WithSource)[SOURCE];
    if (s === undefined || s.frame !== src.frame || s.index !== i) return false;
  }
  return true;
}
