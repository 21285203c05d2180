/**
 * Frames leaving the node: the Plumtree core's transmits, encoded once and queued on the frame
 * transport, and what happens when a peer's queue is full.
 *
 * - Encoding: {@link FrameEncoder} encodes a message once for all its peers and forwards received
 *   GOSSIP bytes with the hop count patched in place.
 * - Runs: GOSSIPs for one peer wait until the frame transport's next flush turn (its
 *   `beforeFlush` hook), then leave as runs (GOSSIP_RUN frames of one origin incarnation, at most
 *   {@link RUN_MAX_BYTES} of payload), so a burst costs a few bytes per message instead of a
 *   frame header each. A control frame for the same peer sends its waiting GOSSIPs first: a
 *   peer sees every frame of this node in the order the core produced them.
 * - Sending: every frame of every engine goes through {@link Outbound.sendFrame}, which applies
 *   the `frameFilter` fault hook (a filtered frame looks sent) and counts refusals by result.
 * - Backpressure: a GOSSIP refused with `overflow` demotes that eager peer to lazy for the topic
 *   (the core's `demotePeer`, which sends it a PRUNE); it recovers through IHAVE/GRAFT once its
 *   queue drains. The refused payload (within a per-peer budget), IHAVEs and PRUNEs wait in
 *   {@link DeferredControl} and are retried every {@link CONTROL_RETRY_MS} until the queue takes
 *   them; a refused GRAFT is retried by the core's own missing-message timer.
 *
 * The engine owns no socket and no core: the node gives it both through {@link OutboundHost}.
 */
import {
  DEFAULT_FRAME_LIMITS,
  encodeFrame,
  FrameType,
  type FrameCounters,
  type GossipMessage,
  type IHaveEntry,
  type IHaveMessage,
  type MessageId,
  type PruneMessage,
  type Transmit,
} from '@plumtree/plumtree';
import type { SendResult } from '../transport/index.js';
import { countFrame, zeroFrames } from '../tree/frame-counters.js';
import { DeferredControl } from './deferred-control.js';
import { endsSourceFrame, FrameEncoder, type FrameEncoderStats } from './frame-encoder.js';

/** Retry period of frames refused by a full queue. */
export const CONTROL_RETRY_MS = 50;
/** Announcements kept per peer while its queue is full. */
const DEFERRED_ANNOUNCEMENTS_PER_PEER = 4096;

/**
 * Payload bytes of one GOSSIP_RUN at most: well inside a peer's `maxFrameBytes` (at least
 * `maxMessageSize` + 1 KiB), and large enough that a run's shared fields cost nothing per message.
 */
export const RUN_MAX_BYTES = 60 * 1024;

/**
 * Payloads above this go alone in a GOSSIP frame: a run saves ~45 bytes per message, nothing
 * next to a large payload, and a run of large messages would let one socket read hand the
 * delivery queue several times the messages one frame holds (its bound counts frames per read).
 */
export const RUN_MESSAGE_MAX_BYTES = 4 * 1024;

/** What the engine needs from its node. */
export interface OutboundHost {
  /** Queue a frame on the frame transport. */
  send(peer: string, frame: Uint8Array): SendResult;
  /** Make sure the frame transport runs a flush turn (and the runs waiting here join it). */
  requestFlush(): void;
  /** How many peers' queues are under pressure now (above the transport's high-water mark). */
  pressuredPeers(): number;
  /** Fault injection: false drops the frame (see `PlumtreeNodeOptions.frameFilter`). */
  readonly frameFilter: ((peer: string, frame: Uint8Array) => boolean) | undefined;
  /** Whether `peer` is an alive (or suspect) member. */
  isAlive(peer: string): boolean;
  /** Demote an eager peer of `topic` to lazy (the core's `demotePeer`); true when it was eager. */
  demote(topic: string, peer: string): boolean;
  /** Frame bytes queued for `topic`'s peers (per-topic stats). */
  countBytesSent(topic: string, bytes: number): void;
  /** A frame that could not be encoded. */
  countDrop(reason: string): void;
}

/** Sizes of the backlog of refused frames. */
export interface OutboundLimits {
  /** IHAVE entries per frame sent from the backlog. */
  readonly ihaveBatch: number;
  /** Refused payload bytes kept per peer. */
  readonly gossipBytesPerPeer: number;
}

/** Outbound counters (`stats().node`). */
export interface OutboundCounters {
  /** Plumtree frames handed to the frame transport, by type. */
  readonly framesSent: FrameCounters;
  /** Sends the frame transport did not queue, by result (`overflow`, `closed`, `unknown-peer`). */
  readonly sendFailures: Readonly<Record<string, number>>;
  /** Eager peers demoted to lazy because their queue was full. */
  readonly backpressureDemotions: number;
  /** Queues that overflowed while other peers were under pressure too (shared: no demotion). */
  readonly sharedOverflows: number;
  /** Frames dropped by the `frameFilter` fault-injection hook. */
  readonly framesDroppedByFilter: number;
  /** Announcements dropped because a full peer's backlog was full too. */
  readonly deferredAnnouncementsDropped: number;
  /** Frame encoding work (fresh encodings, zero-copy forwards, reuses). */
  readonly encoder: Readonly<FrameEncoderStats>;
}

/** See the file comment. */
export class Outbound {
  private readonly encoder = new FrameEncoder();
  /** PRUNEs, payloads and announcements refused by a full queue. */
  private readonly deferred: DeferredControl;
  /** `topic \u0001 peer` keys of demotions this node made for backpressure (labels the event). */
  private readonly backpressured = new Set<string>();
  /** GOSSIPs per peer waiting for the next flush turn, to leave as runs. */
  private readonly waiting = new Map<string, GossipMessage[]>();
  private readonly framesSent = zeroFrames();
  private readonly sendFailures: Record<string, number> = {};
  private backpressureDemotions = 0;
  /** Overflows while other peers were under pressure too (no demotion). */
  private sharedOverflows = 0;
  private framesDroppedByFilter = 0;

  constructor(
    private readonly host: OutboundHost,
    limits: OutboundLimits,
  ) {
    this.deferred = new DeferredControl(
      DEFERRED_ANNOUNCEMENTS_PER_PEER,
      limits.ihaveBatch,
      limits.gossipBytesPerPeer,
    );
  }

  /** Queue a frame, through the fault-injection filter when one is set. */
  sendFrame(peer: string, frame: Uint8Array): SendResult {
    const filter = this.host.frameFilter;
    if (filter !== undefined && !filter(peer, frame)) {
      this.framesDroppedByFilter++;
      // The sender cannot tell a lost frame from a delivered one.
      return 'queued';
    }
    return this.queue(peer, frame);
  }

  /** Queue a frame on the transport, counting refusals by result. */
  private queue(peer: string, frame: Uint8Array): SendResult {
    const r = this.host.send(peer, frame);
    if (r !== 'queued') this.sendFailures[r] = (this.sendFailures[r] ?? 0) + 1;
    return r;
  }

  /** Whether the fault filter lets one GOSSIP to `peer` through (counted when it does not). */
  private passesFilter(peer: string, msg: GossipMessage): boolean {
    let bytes: Uint8Array;
    try {
      bytes = encodeFrame(msg);
    } catch {
      return true; // the run's encoding counts it
    }
    if (this.host.frameFilter!(peer, bytes)) return true;
    this.framesDroppedByFilter++;
    return false;
  }

  /**
   * Take one transmit of the core: a GOSSIP waits for the flush turn (see the file comment);
   * anything else is encoded and queued now, after the GOSSIPs waiting for the same peer. A
   * refusal for a full queue is deferred.
   */
  transmit(t: Transmit): void {
    const msg = t.message;
    if (msg.type === FrameType.Gossip) {
      // The fault filter sees each GOSSIP when the core sends it, as it would without runs.
      if (this.host.frameFilter !== undefined && !this.passesFilter(t.to, msg)) return;
      const list = this.waiting.get(t.to);
      if (list === undefined) {
        this.waiting.set(t.to, [msg]);
        this.host.requestFlush();
      } else {
        list.push(msg);
      }
      return;
    }
    this.sendWaiting(t.to);
    const bytes = this.encodeOrDrop(() => this.encoder.encode(msg));
    if (bytes === undefined) return;
    const r = this.sendFrame(t.to, bytes);
    if (r === 'queued') {
      this.countSent(msg.type, msg.topic, bytes.length);
      return;
    }
    if (r !== 'overflow') return;
    switch (msg.type) {
      case FrameType.IHave:
        this.deferred.addAnnouncements(t.to, msg.topic, msg.entries);
        break;
      case FrameType.Prune:
        // Without the PRUNE the peer keeps pushing, and its next GOSSIP makes it eager again.
        this.deferred.addPrune(t.to, msg.topic);
        break;
      case FrameType.Graft:
        // The missing-message timer retries (with the next announcer) on its own.
        break;
    }
  }

  /** The bytes `encode` returns, or undefined (counted) for a message the format cannot carry. */
  private encodeOrDrop(encode: () => Uint8Array): Uint8Array | undefined {
    try {
      return encode();
    } catch {
      this.host.countDrop('encode');
      return undefined;
    }
  }

  /** Send every GOSSIP waiting for its flush turn, as runs (the transport's `beforeFlush` hook). */
  readonly flushWaiting = (): void => {
    for (const peer of this.waiting.keys()) this.sendWaiting(peer);
  };

  /** Send the GOSSIPs waiting for `peer`, as runs. */
  private sendWaiting(peer: string): void {
    const list = this.waiting.get(peer);
    if (list === undefined) return;
    this.waiting.delete(peer);
    let start = 0;
    while (start < list.length) {
      const end = runEnd(list, start);
      this.sendRun(peer, start === 0 && end === list.length ? list : list.slice(start, end));
      start = end;
    }
  }

  private sendRun(peer: string, run: GossipMessage[]): void {
    const first = run[0]!;
    const bytes = this.encodeOrDrop(() => this.encoder.encodeRun(run));
    if (bytes === undefined) return;
    // Filtered already, message by message (see `transmit`).
    const r = this.queue(peer, bytes);
    if (r === 'queued') {
      countFrame(this.framesSent, FrameType.Gossip);
      this.host.countBytesSent(first.topic, bytes.length);
      return;
    }
    if (r !== 'overflow') return;
    // Beyond the queue cap. A peer alone under pressure is slow: stop pushing payloads to it; it
    // hears of these messages (and the next ones) by IHAVE once its queue has room, and grafts
    // them back. Pressure on several peers at once is a burst every peer shares: demoting would
    // only trade payloads for IHAVEs and GRAFTs, so the tree stays as it is.
    if (this.host.pressuredPeers() <= 1) {
      const key = `${first.topic}\u0001${peer}`;
      this.backpressured.add(key);
      if (this.host.demote(first.topic, peer)) this.backpressureDemotions++;
      else this.backpressured.delete(key);
    } else {
      this.sharedOverflows++;
    }
    // Keep the payloads themselves while the budget allows (a GRAFT answer must not be lost to a
    // full queue); beyond it, announce them and let the peer graft them later.
    if (!this.deferred.addGossip(peer, first.topic, bytes)) {
      this.deferred.addAnnouncements(peer, first.topic, runEntries(run));
    }
  }

  /** The core's drain is over: the next transmit cannot reuse the last one's bytes. */
  endBatch(): void {
    this.encoder.endBatch();
  }

  /** Remember the bytes of a received (or handed-off) GOSSIP frame, to forward them as they are. */
  rememberGossip(id: MessageId, frame: Uint8Array): void {
    this.encoder.rememberGossip(id, frame);
  }

  /** Keep the bytes of a received GOSSIP_RUN frame for forwarding its messages. */
  rememberRun(messages: readonly GossipMessage[], frame: Uint8Array): void {
    this.encoder.rememberRun(messages, frame);
  }

  /** Whether this node demoted `peer` of `topic` for backpressure (asked once per demotion). */
  takeBackpressureDemotion(topic: string, peer: string): boolean {
    return this.backpressured.delete(`${topic}\u0001${peer}`);
  }

  /** When the refused frames are retried next: undefined when none waits. */
  retryAt(nowMs: number): number | undefined {
    return this.deferred.isEmpty ? undefined : nowMs + CONTROL_RETRY_MS;
  }

  /** Send what the full queues take now of the refused frames. */
  retryDeferred(): void {
    if (!this.deferred.isEmpty) this.deferred.flush(this.trySendControl, this.trySendGossip);
  }

  /** Drop what waits for a peer that failed or left. */
  forget(peer: string): void {
    this.waiting.delete(peer);
    this.deferred.forget(peer);
  }

  counters(): OutboundCounters {
    return {
      framesSent: { ...this.framesSent },
      sendFailures: { ...this.sendFailures },
      backpressureDemotions: this.backpressureDemotions,
      sharedOverflows: this.sharedOverflows,
      framesDroppedByFilter: this.framesDroppedByFilter,
      deferredAnnouncementsDropped: this.deferred.dropped,
      encoder: { ...this.encoder.stats },
    };
  }

  /** Count a queued Plumtree frame; `topic` undefined for control frames of the backlog. */
  private countSent(type: FrameType, topic: string | undefined, bytes: number): void {
    countFrame(this.framesSent, type);
    if (topic !== undefined) this.host.countBytesSent(topic, bytes);
  }

  /** Send a frame of the backlog; true when the transport took it (or nobody is left to take it). */
  private trySendDeferred(
    peer: string,
    type: FrameType,
    topic: string | undefined,
    frame: Uint8Array,
  ): boolean {
    if (!this.host.isAlive(peer)) return true; // nobody to send it to any more: drop it
    const r = this.sendFrame(peer, frame);
    if (r === 'overflow') return false;
    if (r === 'queued') this.countSent(type, topic, frame.length);
    return true;
  }

  private readonly trySendGossip = (peer: string, topic: string, frame: Uint8Array): boolean =>
    this.trySendDeferred(peer, FrameType.Gossip, topic, frame);

  private readonly trySendControl = (
    peer: string,
    message: PruneMessage | IHaveMessage,
  ): boolean => {
    if (!this.host.isAlive(peer)) return true;
    let bytes: Uint8Array;
    try {
      bytes = encodeFrame(message);
    } catch {
      this.host.countDrop('encode');
      return true;
    }
    return this.trySendDeferred(peer, message.type, undefined, bytes);
  };
}

/**
 * The end of the run starting at `start`: the GOSSIPs after it of the same topic, hops, origin
 * and epoch with increasing seqs, within {@link RUN_MAX_BYTES} and the decoder's
 * `maxRunMessages`, none above {@link RUN_MESSAGE_MAX_BYTES}, and not across the end of a frame
 * the messages arrived in (see `endsSourceFrame`).
 */
function runEnd(list: readonly GossipMessage[], start: number): number {
  const first = list[start]!;
  let bytes = first.payload.length;
  let end = start + 1;
  if (bytes > RUN_MESSAGE_MAX_BYTES) return end;
  const max = Math.min(list.length, start + DEFAULT_FRAME_LIMITS.maxRunMessages);
  while (end < max) {
    const m = list[end]!;
    const prev = list[end - 1]!;
    bytes += m.payload.length;
    if (
      bytes > RUN_MAX_BYTES ||
      m.payload.length > RUN_MESSAGE_MAX_BYTES ||
      m.topic !== first.topic ||
      m.hops !== first.hops ||
      m.id.origin !== first.id.origin ||
      m.id.epoch !== first.id.epoch ||
      m.id.seq <= prev.id.seq ||
      endsSourceFrame(prev, m)
    ) {
      break;
    }
    end++;
  }
  return end;
}

/** The announcements of a run's messages (consecutive seqs as one entry). */
function runEntries(run: readonly GossipMessage[]): IHaveEntry[] {
  const out: IHaveEntry[] = [];
  for (const m of run) {
    const last = out[out.length - 1];
    if (
      last !== undefined &&
      last.id.seq + (last.count ?? 1) === m.id.seq &&
      last.hops === m.hops
    ) {
      out[out.length - 1] = { id: last.id, hops: last.hops, count: (last.count ?? 1) + 1 };
    } else {
      out.push({ id: m.id, hops: m.hops });
    }
  }
  return out;
}
