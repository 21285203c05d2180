/**
 * Frames leaving the node: the Plumtree core's transmits, encoded once and queued on the frame
 * transport, and what happens when a peer's queue is full.
 *
 * - Encoding: {@link FrameEncoder} encodes a message once for all its peers and forwards received
 *   GOSSIP bytes with the hop count patched in place.
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
  encodeFrame,
  FrameType,
  type FrameCounters,
  type IHaveMessage,
  type MessageId,
  type PruneMessage,
  type Transmit,
} from '@plumtree/plumtree';
import type { SendResult } from '../transport/index.js';
import { countFrame, zeroFrames } from '../tree/frame-counters.js';
import { DeferredControl } from './deferred-control.js';
import { FrameEncoder, type FrameEncoderStats } from './frame-encoder.js';

/** Retry period of frames refused by a full queue. */
export const CONTROL_RETRY_MS = 50;
/** Announcements kept per peer while its queue is full. */
const DEFERRED_ANNOUNCEMENTS_PER_PEER = 4096;

/** What the engine needs from its node. */
export interface OutboundHost {
  /** Queue a frame on the frame transport. */
  send(peer: string, frame: Uint8Array): SendResult;
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
  private readonly framesSent = zeroFrames();
  private readonly sendFailures: Record<string, number> = {};
  private backpressureDemotions = 0;
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
    const r = this.host.send(peer, frame);
    if (r !== 'queued') this.sendFailures[r] = (this.sendFailures[r] ?? 0) + 1;
    return r;
  }

  /** Encode and queue one transmit of the core; a refusal for a full queue is deferred. */
  transmit(t: Transmit): void {
    const msg = t.message;
    let bytes: Uint8Array;
    try {
      bytes = this.encoder.encode(msg);
    } catch {
      // Only a message the format cannot carry (e.g. hops past 65535) gets here.
      this.host.countDrop('encode');
      return;
    }
    const r = this.sendFrame(t.to, bytes);
    if (r === 'queued') {
      this.countSent(msg.type, msg.topic, bytes.length);
      return;
    }
    if (r !== 'overflow') return;
    switch (msg.type) {
      case FrameType.Gossip: {
        // Backpressure: stop pushing payloads to a peer that cannot keep up. It hears of this
        // message (and the next ones) by IHAVE once its queue has room, and grafts them back.
        const key = `${msg.topic}\u0001${t.to}`;
        this.backpressured.add(key);
        if (this.host.demote(msg.topic, t.to)) this.backpressureDemotions++;
        else this.backpressured.delete(key);
        // Keep the payload itself while the budget allows (a GRAFT answer must not be lost to a
        // full queue); beyond it, announce it and let the peer graft it later.
        if (!this.deferred.addGossip(t.to, msg.topic, bytes)) {
          this.deferred.addAnnouncements(t.to, msg.topic, [{ id: msg.id, hops: msg.hops }]);
        }
        break;
      }
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

  /** The core's drain is over: the next transmit cannot reuse the last one's bytes. */
  endBatch(): void {
    this.encoder.endBatch();
  }

  /** Remember the bytes of a received (or handed-off) GOSSIP frame, to forward them as they are. */
  rememberGossip(id: MessageId, frame: Uint8Array): void {
    this.encoder.rememberGossip(id, frame);
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
    this.deferred.forget(peer);
  }

  counters(): OutboundCounters {
    return {
      framesSent: { ...this.framesSent },
      sendFailures: { ...this.sendFailures },
      backpressureDemotions: this.backpressureDemotions,
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
