/**
 * Queue groups (docs/queue-groups.md): each message of a topic is handled by one alive member of
 * each group subscribed to it.
 *
 * Every member of a group is in the topic's tree, so every member receives every message. Each
 * computes the message's owner by rendezvous hashing over the group's members alive in its view
 * (rendezvous.ts): the owner hands it to its handlers; the others hold a shadow copy
 * (shadow-buffer.ts) until the owner acknowledges it. The owner acknowledges once its handlers
 * are done ({@link QueueGroups.handled}), batched every `ackFlushMs` into one frame per group and
 * topic sent to the other members (group-ack-codec.ts). When a member leaves the group or SWIM
 * declares it dead ({@link QueueGroups.membersChanged}), the survivors compute new owners for the
 * shadows it owned: the new owner hands them to its handlers flagged `redelivered`.
 *
 * Views disagree briefly while a member joins or leaves: two members may both own a message
 * (both handle it: a duplicate, counted when the other's acknowledgement names a message this
 * node handled too), or each may think the other owns it. The second case is the claim: a shadow
 * that no owner acknowledged within `claimAfterMs` is owned by the next member in rendezvous
 * order (without the silent owner), which handles it flagged `redelivered` (counted `claimed`).
 *
 * The engine owns no socket and no observer: its host sends frames and hands messages over.
 */
import type { MessageId } from '@plumtree/plumtree';
import { formatMessageId } from '../delivery/message-id.js';
import {
  decodeGroupAck,
  encodeGroupAck,
  MAX_ACK_IDS,
  MAX_ACK_RUNS,
  type AckRun,
} from './group-ack-codec.js';
import { rendezvousOwner } from './rendezvous.js';
import { ShadowBuffer, type ShadowEntry } from './shadow-buffer.js';

/** A message as the engine keeps it to hand it over again. */
export interface GroupMessage {
  readonly topic: string;
  readonly id: MessageId;
  readonly hops: number;
  readonly from: string;
  readonly headers: Readonly<Record<string, string>> | undefined;
  readonly publishedAtMs: number;
  readonly raw: Uint8Array;
}

/** What the engine needs from its node. */
export interface QueueGroupsHost {
  readonly name: string;
  /** Members of `group` for the concrete `topic` alive in this node's view, itself included. */
  membersOf(topic: string, group: string): string[];
  /** This node now owns a message it shadowed: hand it to its observers of `group`. */
  redeliver(group: string, message: GroupMessage): void;
  send(peer: string, frame: Uint8Array): void;
  countDrop(reason: string): void;
}

/** Settings of the engine. */
export interface QueueGroupOptions {
  /** Shadow copies held per group at most. */
  readonly maxShadowEntries: number;
  /** Shadow payload bytes held per group at most. */
  readonly maxShadowBytes: number;
  /** How often handled messages are acknowledged to the group. */
  readonly ackFlushMs: number;
  /** A shadow no owner acknowledged for this long is claimed (see the file comment). */
  readonly claimAfterMs: number;
}

/**
 * Defaults. 10,000 shadows of up to 32 MiB per group: about 2 s of a 5k msg/s topic, far more
 * than one acknowledgement period (100 ms) needs. A claim after 30 s: far above an owner's
 * handler lag under a burst, so a busy owner is not mistaken for a silent one.
 */
export const QUEUE_GROUP_DEFAULTS: QueueGroupOptions = Object.freeze({
  maxShadowEntries: 10_000,
  maxShadowBytes: 32 * 1024 * 1024,
  ackFlushMs: 100,
  claimAfterMs: 30_000,
});

/** Counters of one group on this node (`stats().node.groups[group]`). */
export interface QueueGroupCounters {
  /** Messages this node owned and handed to its handlers (first delivery). */
  readonly handled: number;
  /** Messages held for another member. */
  readonly shadowed: number;
  /** Shadows cleared by their owner's acknowledgement. */
  readonly acknowledged: number;
  /** Shadows this node handled because their owner died or left the group (redelivered). */
  readonly takenOver: number;
  /** Shadows this node handled because no owner acknowledged them in time (redelivered). */
  readonly claimed: number;
  /** Shadows dropped because the buffer was full (they lose their takeover). */
  readonly dropped: number;
  /** Messages another member acknowledged that this node handled too (views disagreed). */
  readonly duplicates: number;
  /** Shadows held now, and their bytes. */
  readonly held: number;
  readonly heldBytes: number;
}

/** Keys handled here remembered to notice another owner's acknowledgement of them. */
const RECENT_HANDLED = 4096;

interface GroupState {
  readonly shadows: ShadowBuffer<GroupMessage>;
  readonly recentHandled: Set<string>;
  handled: number;
  takenOver: number;
  claimed: number;
  duplicates: number;
}

/** The key of a message in a group: topic and id (sequence numbers are per topic). */
function keyOf(topic: string, id: MessageId): string {
  return `${topic}\u0000${formatMessageId(id)}`;
}

/** See the file comment. */
export class QueueGroups {
  private readonly groups = new Map<string, GroupState>();
  /** `topic\0group` -> `origin\0epoch` -> sequence numbers handled, to acknowledge. */
  private readonly pendingAcks = new Map<string, Map<string, number[]>>();
  private pendingIds = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private closed = false;

  constructor(
    private readonly host: QueueGroupsHost,
    private readonly options: QueueGroupOptions = QUEUE_GROUP_DEFAULTS,
  ) {}

  /**
   * A message of a topic this node's `group` takes: true when this node owns it (the caller hands
   * it to the group's observers and calls {@link handled} once they are done), false when it is
   * held for its owner.
   */
  route(group: string, m: GroupMessage, nowMs: number): boolean {
    const g = this.state(group);
    const key = keyOf(m.topic, m.id);
    const owner = rendezvousOwner(ownerKey(group, m.id), this.host.membersOf(m.topic, group));
    if (owner === undefined || owner === this.host.name) {
      g.handled++;
      this.remember(g, key);
      return true;
    }
    // A view of the received frame would pin the whole batch it came in.
    g.shadows.add(key, owner, m.raw.byteLength, { ...m, raw: m.raw.slice() }, nowMs);
    return false;
  }

  /** This node's observers of `group` are done with `message`: acknowledge it to the group. */
  handled(group: string, topic: string, id: MessageId): void {
    if (this.closed) return;
    const gk = `${topic}\u0000${group}`;
    let byOrigin = this.pendingAcks.get(gk);
    if (byOrigin === undefined) {
      byOrigin = new Map();
      this.pendingAcks.set(gk, byOrigin);
    }
    const ok = `${id.origin}\u0000${id.epoch}`;
    let seqs = byOrigin.get(ok);
    if (seqs === undefined) {
      seqs = [];
      byOrigin.set(ok, seqs);
    }
    seqs.push(id.seq);
    if (++this.pendingIds >= MAX_ACK_IDS) this.flush();
    this.startTimer();
  }

  /** An acknowledgement frame from a member. */
  onFrame(from: string, frame: Uint8Array): void {
    const ack = decodeGroupAck(frame);
    if (ack === null) {
      this.host.countDrop('group-ack-malformed');
      return;
    }
    const g = this.groups.get(ack.group);
    // Not a member of that group (any more): nothing held for it.
    if (g === undefined || from === this.host.name) return;
    for (const run of ack.runs) {
      for (const seq of run.seqs) {
        const key = keyOf(ack.topic, { origin: run.origin, epoch: run.epoch, seq });
        if (g.recentHandled.has(key)) g.duplicates++;
        else g.shadows.ack(key);
      }
    }
  }

  /**
   * Membership changed (a member died, left, or changed its groups): shadows whose owner is no
   * longer a member of their group get a new owner; those that fall to this node are handed to
   * its observers, flagged redelivered.
   */
  membersChanged(nowMs: number): void {
    if (this.closed) return;
    for (const [group, g] of this.groups) {
      const members = new Map<string, string[]>();
      const membersOf = (topic: string): string[] => {
        let m = members.get(topic);
        if (m === undefined) {
          m = this.host.membersOf(topic, group);
          members.set(topic, m);
        }
        return m;
      };
      const mine = g.shadows.reassign(
        (e) => !membersOf(e.value.topic).includes(e.owner),
        (e) => rendezvousOwner(ownerKey(group, e.value.id), membersOf(e.value.topic)),
        this.host.name,
        nowMs,
      );
      g.takenOver += mine.length;
      this.handOver(group, g, mine);
    }
  }

  /** Acknowledge what was handled since the last flush (the timer does this every period). */
  flush(): void {
    if (this.pendingIds === 0) return;
    const pending = [...this.pendingAcks];
    this.pendingAcks.clear();
    this.pendingIds = 0;
    for (const [gk, byOrigin] of pending) {
      const sep = gk.indexOf('\u0000');
      const topic = gk.slice(0, sep);
      const group = gk.slice(sep + 1);
      const peers = this.host.membersOf(topic, group).filter((p) => p !== this.host.name);
      if (peers.length === 0) continue;
      for (const frame of ackFrames(topic, group, byOrigin)) {
        for (const p of peers) this.host.send(p, frame);
      }
    }
  }

  /** One period: acknowledge, then claim shadows no owner acknowledged in time. */
  tick(nowMs: number): void {
    this.flush();
    const before = nowMs - this.options.claimAfterMs;
    for (const [group, g] of this.groups) {
      const mine = g.shadows.reassign(
        (e) => e.atMs < before,
        (e) =>
          rendezvousOwner(
            ownerKey(group, e.value.id),
            this.host.membersOf(e.value.topic, group).filter((m) => m !== e.owner),
          ),
        this.host.name,
        nowMs,
      );
      g.claimed += mine.length;
      this.handOver(group, g, mine);
    }
  }

  /** Counters by group name. */
  counters(): Record<string, QueueGroupCounters> {
    const out: Record<string, QueueGroupCounters> = {};
    for (const [group, g] of this.groups) {
      const s = g.shadows.counters();
      out[group] = {
        handled: g.handled,
        shadowed: s.shadowed,
        acknowledged: s.acknowledged,
        takenOver: g.takenOver,
        claimed: g.claimed,
        dropped: s.dropped,
        duplicates: g.duplicates,
        held: s.held,
        heldBytes: s.heldBytes,
      };
    }
    return out;
  }

  /** Stop the timer (the node is closing); what was handled is acknowledged first. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private handOver(group: string, g: GroupState, mine: ShadowEntry<GroupMessage>[]): void {
    for (const e of mine) {
      this.remember(g, e.key);
      this.host.redeliver(group, e.value);
    }
  }

  private remember(g: GroupState, key: string): void {
    g.recentHandled.add(key);
    if (g.recentHandled.size > RECENT_HANDLED) {
      g.recentHandled.delete(g.recentHandled.values().next().value!);
    }
  }

  private state(group: string): GroupState {
    let g = this.groups.get(group);
    if (g === undefined) {
      g = {
        shadows: new ShadowBuffer<GroupMessage>({
          maxEntries: this.options.maxShadowEntries,
          maxBytes: this.options.maxShadowBytes,
          maxAckedKeys: this.options.maxShadowEntries,
        }),
        recentHandled: new Set(),
        handled: 0,
        takenOver: 0,
        claimed: 0,
        duplicates: 0,
      };
      this.groups.set(group, g);
      this.startTimer();
    }
    return g;
  }

  private startTimer(): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = setInterval(() => this.tick(Date.now()), this.options.ackFlushMs);
    this.timer.unref();
  }
}

/** The acknowledgement frames of one topic and group, within the codec's limits. */
function ackFrames(topic: string, group: string, byOrigin: Map<string, number[]>): Uint8Array[] {
  const frames: Uint8Array[] = [];
  let runs: AckRun[] = [];
  let ids = 0;
  const emit = (): void => {
    if (runs.length > 0) frames.push(encodeGroupAck({ topic, group, runs }));
    runs = [];
    ids = 0;
  };
  for (const [ok, all] of byOrigin) {
    const sep = ok.lastIndexOf('\u0000');
    const origin = ok.slice(0, sep);
    const epoch = Number(ok.slice(sep + 1));
    const seqs = [...new Set(all)].sort((a, b) => a - b);
    for (let i = 0; i < seqs.length;) {
      if (runs.length === MAX_ACK_RUNS || ids === MAX_ACK_IDS) emit();
      const take = seqs.slice(i, i + (MAX_ACK_IDS - ids));
      runs.push({ origin, epoch, seqs: take });
      ids += take.length;
      i += take.length;
    }
  }
  emit();
  return frames;
}

/**
 * What a message's owner in `group` is hashed from: the group name with the id, so groups with
 * the same members spread each message independently (with the id alone, every such group would
 * put each message on the same member).
 */
function ownerKey(group: string, id: MessageId): string {
  return `${group}\u0000${formatMessageId(id)}`;
}
