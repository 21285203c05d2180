/**
 * Hand-off, both sides: how a publish reaches a topic's tree from a node outside it.
 *
 * Publisher side ({@link HandoffEngine.handOff}): the message (a GOSSIP with hops 0, under the
 * publisher's id) is sent to one live subscriber chosen at random (hand-off frame, see
 * handoff-codec.ts). An ACK resolves the publish; no answer within `timeoutMs`, a NACK, or the peer
 * going down (membership or frame connection) moves it to another subscriber not tried yet, up
 * to `maxAttempts`; then, while a subscriber that took the request is still up, it waits for a
 * late ACK until `HOLD_TIMEOUT_FACTOR` x `timeoutMs` after the first attempt, and rejects with
 * `NoSubscribersError` after that, or at once when no live subscriber is known. The attempt's clock is adaptive, as TCP's retransmission timer is (RFC
 * 6298): the smoothed answer time of first attempts plus four times its variation, never below
 * `timeoutMs` (nor above `HOLD_TIMEOUT_FACTOR` x `timeoutMs`), doubled on a timeout until the
 * next sample (Karn's algorithm), so subscribers that are slow to read (all of them, in a burst
 * on a saturated machine) are not mistaken for lost ones and sent the same message again. A HOLD (the subscriber has it and waits for its publish window) stops the
 * clock: the attempt then waits for the ACK as long as that subscriber stays up, at most
 * `HOLD_TIMEOUT_FACTOR` x `timeoutMs`, instead of handing the same message to a second
 * subscriber whose window is just as full (in a burst every subscriber's is). An ACK from any subscriber tried, late ones included, resolves it: a
 * subscriber that acknowledges has injected the message. At most `maxInFlight` hand-offs wait
 * for an answer; later ones wait, unsent, in arrival order (the publisher's flow control: the
 * subscriber acknowledges once its publish window admitted the message). Pending hand-offs
 * reject with `NodeClosedError` when the node leaves or closes.
 *
 * Subscriber side: a request for a topic this node is in the tree of (joined now when a local
 * pattern matches it) is admitted through the node's publish window (publish-window.ts) and
 * injected under the publisher's id, its GOSSIP body forwarded as it is; the tree's frames are
 * queued before the ACK, so an acknowledged message is on its way. A request still waiting for
 * the window `timeoutMs` / 4 after it arrived is answered HOLD, once. A retried hand-off of an id
 * the node knows already (from another subscriber's injection, or its own earlier one) is not
 * injected again and is acknowledged. A node outside the topic, or a payload above the core's
 * `maxMessageSize`, answers NACK, as does a topic beyond its sender's allowance of topics
 * (handoff-topics.ts). Answers reach a publisher that SWIM has not met yet (see
 * reply-sender.ts).
 *
 * The engine owns no socket and no tree: the node gives it both through {@link HandoffHost}.
 */
import {
  messageKey,
  MessageTooLargeError,
  randomInt,
  type FrameLimits,
  type GossipMessage,
  type MessageId,
  type Rng,
} from '@plumtree/plumtree';
import { FifoQueue } from '@plumtree/common';
import { formatMessageId } from '../delivery/message-id.js';
import { NodeClosedError, NoSubscribersError } from '../node/errors.js';
import type { NodeLife } from '../node/node-lifecycle.js';
import { sendToSender } from '../outbound/reply-sender.js';
import {
  decodeHandoff,
  encodeHandoffAnswer,
  encodeHandoffRequest,
  HandoffType,
} from './handoff-codec.js';
import { HandoffTopics } from './handoff-topics.js';

/** What the engine needs from its node. */
export interface HandoffHost {
  readonly name: string;
  readonly life: NodeLife;
  readonly rng: Rng;
  /** How long one attempt waits for its ACK. */
  readonly timeoutMs: number;
  /** Subscribers tried at most. */
  readonly maxAttempts: number;
  /** Hand-offs waiting for an answer at most; later ones wait, unsent. */
  readonly maxInFlight: number;
  /** Caps on the GOSSIP inside a received request. */
  readonly frameLimits: Partial<FrameLimits>;
  /** Queue a frame to a peer; `'queued'` when the transport took it. */
  send(peer: string, frame: Uint8Array): string;
  /** Alive subscribers of `topic`, this node excluded. */
  subscribersOf(topic: string): string[];
  /** Whether this node is in `topic`'s tree, joining it when a local pattern matches. */
  acceptsTopic(topic: string): boolean;
  /**
   * Whether joining `topic` is charged to no sender: the node is in it or subscribes to it
   * itself, or the directory holds it (a member subscribes to the topic itself).
   */
  knownTopic(topic: string): boolean;
  /** Topics one sender's hand-offs may make this node join besides those (handoff-topics.ts). */
  readonly maxTopicsPerPeer: number;
  /**
   * Inject a handed-off message into its tree (`frame`: its GOSSIP body, forwarded as is); true
   * when the id is new. Throws `MessageTooLargeError`.
   */
  inject(message: GossipMessage, from: string, frame: Uint8Array): boolean;
  /** Run the Plumtree core (queue the tree's frames). */
  drive(): void;
  /** Run `accept` once the node's publish window admits `bytes` (publish-window.ts). */
  admit<T>(bytes: number, accept: () => T): Promise<T>;
  /** A frame that failed to decode. */
  countDrop(reason: string): void;
}

/** Hand-off counters (`stats().node.handoffs`). */
export interface HandoffCounters {
  /** Publisher side: attempts sent, acknowledged, retried, failed. */
  readonly sent: number;
  readonly acked: number;
  readonly retried: number;
  readonly failed: number;
  /** Subscriber side: requests received, injected (new ids), answered NACK. */
  readonly received: number;
  readonly injected: number;
  readonly nacked: number;
  /** Publisher side: attempts answered HOLD (the subscriber waits for its publish window). */
  readonly held: number;
  /** Subscriber side: requests answered HOLD. */
  readonly holdsSent: number;
  /**
   * Publisher side: hand-offs out of attempts that kept waiting for a late ACK because a
   * subscriber that had the request was still up (see handoff.ts).
   */
  readonly lateWaits: number;
  /** Publisher side: how long an attempt now waits for an answer (adaptive, see handoff.ts). */
  readonly attemptTimeoutMs: number;
  /**
   * Requests answered NACK because `MAX_WAITING_HANDOFFS_PER_PEER` of their sender's waited for
   * the publish window already (in `nacked` too).
   */
  readonly waitingRefused: number;
  /** Requests answered NACK because their sender held `maxTopicsPerPeer` topics (in `nacked` too). */
  readonly topicsRefused: number;
}

/**
 * Hand-off requests of one sender waiting for this node's publish window at most; more are
 * answered NACK (`waitingRefused`). Four times what a publisher keeps in flight (256), so only a
 * member that ignores its own flow control meets it.
 */
export const MAX_WAITING_HANDOFFS_PER_PEER = 1024;

/** A held attempt (see the file comment) waits this many `timeoutMs` for its ACK at most. */
export const HOLD_TIMEOUT_FACTOR = 30;

/** A publish handed to subscribers, waiting for an ACK. */
interface PendingHandoff {
  readonly key: string;
  readonly topic: string;
  readonly idText: string;
  readonly frame: Uint8Array;
  readonly tried: string[];
  current: string | undefined;
  timer: NodeJS.Timeout | undefined;
  /** Sent (counts against `maxInFlight`), not waiting in the backlog. */
  sent: boolean;
  /** The current attempt was answered HOLD. */
  held: boolean;
  /** When the current attempt was sent (`Date.now()`). */
  sentAtMs: number;
  /** When the first attempt was sent; 0 before. */
  firstSentAtMs: number;
  /** Subscribers whose transport took the request and that did not refuse it (NACK). */
  reached: string[];
  /** Every attempt ran out; waiting for a late ACK from one of `reached` (counted once). */
  lastWait: boolean;
  readonly resolve: (id: string) => void;
  readonly reject: (e: Error) => void;
}

/** A received request waiting for this node's publish window (subscriber side). */
interface WaitingRequest {
  readonly from: string;
  readonly topic: string;
  readonly id: MessageId;
  readonly since: number;
  admitted: boolean;
}

function pendingKey(topic: string, id: MessageId): string {
  return `${topic}\u0001${messageKey(id)}`;
}

/** See the file comment. */
export class HandoffEngine {
  private readonly pending = new Map<string, PendingHandoff>();
  /** Hand-offs not sent yet: more than `maxInFlight` wait for an answer. */
  private readonly backlog: PendingHandoff[] = [];
  private backlogHead = 0;
  private inFlight = 0;
  private readonly counters = {
    sent: 0,
    acked: 0,
    retried: 0,
    failed: 0,
    received: 0,
    injected: 0,
    nacked: 0,
    held: 0,
    holdsSent: 0,
    lateWaits: 0,
    waitingRefused: 0,
  };
  /** Requests waiting for the publish window, per sender. */
  private readonly waitingBy = new Map<string, number>();
  /** Requests waiting for the publish window, in arrival order (admission is in that order). */
  private readonly waiting = new FifoQueue<WaitingRequest>();
  private holdTimer: NodeJS.Timeout | undefined;
  /** Smoothed answer time of first attempts and its variation (ms); undefined before a sample. */
  private srttMs: number | undefined;
  private rttVarMs = 0;
  /** The clock after timeouts (Karn: doubled per timeout, until the next sample); 0: none. */
  private backedOffMs = 0;
  /** Answers stop only once the node is closed: a leaving node still answers. */
  private readonly answers = {
    send: (peer: string, frame: Uint8Array): string => this.host.send(peer, frame),
    isClosed: (): boolean => this.host.life.closed,
  };

  private readonly topics: HandoffTopics;

  constructor(private readonly host: HandoffHost) {
    this.topics = new HandoffTopics(host.maxTopicsPerPeer);
  }

  stats(): HandoffCounters {
    return {
      ...this.counters,
      topicsRefused: this.topics.refused,
      attemptTimeoutMs: this.attemptTimeoutMs(),
    };
  }

  /** `srtt + 4 x rttvar`, within [`timeoutMs`, `HOLD_TIMEOUT_FACTOR` x `timeoutMs`]. */
  private attemptTimeoutMs(): number {
    const floor = this.host.timeoutMs;
    const rto = this.srttMs === undefined ? 0 : Math.ceil(this.srttMs + 4 * this.rttVarMs);
    return Math.min(Math.max(rto, this.backedOffMs, floor), floor * HOLD_TIMEOUT_FACTOR);
  }

  /**
   * An attempt that waited `usedMs` got no answer: double the clock (once for all the attempts
   * that ran out on the same clock), so a burst of timeouts on a slow machine backs off instead
   * of sending every message to a second and third subscriber as slow as the first.
   */
  private timedOut(usedMs: number): void {
    if (usedMs < this.attemptTimeoutMs()) return;
    this.backedOffMs = Math.min(2 * usedMs, this.host.timeoutMs * HOLD_TIMEOUT_FACTOR);
  }

  /** The first answer (HOLD or ACK) of an attempt: an answer-time sample unless it was a retry. */
  private sampleAnswer(p: PendingHandoff): void {
    // Karn's rule: an answer to a retried message may answer an earlier attempt; not a sample.
    if (p.held || p.tried.length !== 1) return;
    const r = Math.max(0, Date.now() - p.sentAtMs);
    this.backedOffMs = 0;
    if (this.srttMs === undefined) {
      this.srttMs = r;
      this.rttVarMs = r / 2;
    } else {
      this.rttVarMs = 0.75 * this.rttVarMs + 0.25 * Math.abs(this.srttMs - r);
      this.srttMs = 0.875 * this.srttMs + 0.125 * r;
    }
  }

  /** The node left `topic`'s tree: a sender it was charged to may hand another one off. */
  topicLeft(topic: string): void {
    this.topics.left(topic);
  }

  // ---------------------------------------------------------------- publisher side

  /** Hand `message` to a subscriber; resolves to its id once one acknowledges it. */
  handOff(message: GossipMessage): Promise<string> {
    let frame: Uint8Array;
    try {
      frame = encodeHandoffRequest(message);
    } catch (e) {
      return Promise.reject(e as Error);
    }
    return new Promise<string>((resolve, reject) => {
      const pending: PendingHandoff = {
        key: pendingKey(message.topic, message.id),
        topic: message.topic,
        idText: formatMessageId(message.id),
        frame,
        tried: [],
        current: undefined,
        timer: undefined,
        sent: false,
        held: false,
        sentAtMs: 0,
        firstSentAtMs: 0,
        reached: [],
        lastWait: false,
        resolve,
        reject,
      };
      this.pending.set(pending.key, pending);
      if (this.inFlight < this.host.maxInFlight) {
        this.start(pending);
      } else {
        this.backlog.push(pending);
      }
    });
  }

  /** `peer` failed, left, or its frame connection dropped: its hand-offs move on now. */
  peerDown(peer: string): void {
    for (const p of [...this.pending.values()]) {
      if (p.current === peer) this.nextAttempt(p);
      else if (p.lastWait && p.reached.includes(peer)) {
        // Waiting for a late ACK: without this one, is anybody who has it still up?
        p.reached = p.reached.filter((n) => n !== peer);
        this.nextAttempt(p);
      }
    }
  }

  /** Reject every pending hand-off with `NodeClosedError` (the node is closing or leaving). */
  close(): void {
    if (this.holdTimer !== undefined) clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    this.backlog.length = 0;
    this.backlogHead = 0;
    for (const p of [...this.pending.values()]) {
      this.finish(p);
      p.reject(new NodeClosedError(this.host.name));
    }
  }

  /** Send the hand-off to the next untried live subscriber, or reject when none is left. */
  private nextAttempt(p: PendingHandoff): void {
    if (p.timer !== undefined) clearTimeout(p.timer);
    p.timer = undefined;
    p.held = false;
    const host = this.host;
    for (;;) {
      if (host.life.stopping) {
        this.finish(p);
        p.reject(new NodeClosedError(host.name));
        return;
      }
      const subscribers = host.subscribersOf(p.topic);
      const candidates = subscribers.filter((n) => !p.tried.includes(n));
      if (candidates.length === 0 || p.tried.length >= host.maxAttempts) {
        const leftMs = p.firstSentAtMs + host.timeoutMs * HOLD_TIMEOUT_FACTOR - Date.now();
        if (leftMs > 0 && p.reached.some((n) => subscribers.includes(n))) {
          // Out of attempts, but a subscriber that has the request is still up: over TCP the
          // request is not lost, only unread yet (its reading paused behind a full delivery
          // queue), and its ACK resolves the publish whenever it comes. Rejecting now would
          // report a message as not published that is then delivered.
          if (!p.lastWait) this.counters.lateWaits++;
          p.lastWait = true;
          p.current = undefined;
          p.timer = setTimeout(() => {
            p.timer = undefined;
            this.nextAttempt(p);
          }, leftMs);
          return;
        }
        this.counters.failed++;
        this.finish(p);
        p.reject(new NoSubscribersError(p.topic, p.tried));
        return;
      }
      if (p.tried.length > 0) this.counters.retried++;
      const peer = candidates[randomInt(host.rng, candidates.length)]!;
      p.tried.push(peer);
      p.current = peer;
      this.counters.sent++;
      if (host.send(peer, p.frame) !== 'queued') continue;
      p.reached.push(peer);
      p.sentAtMs = Date.now();
      if (p.firstSentAtMs === 0) p.firstSentAtMs = p.sentAtMs;
      const waitMs = this.attemptTimeoutMs();
      p.timer = setTimeout(() => {
        p.timer = undefined;
        this.timedOut(waitMs);
        this.nextAttempt(p);
      }, waitMs);
      return;
    }
  }

  private finish(p: PendingHandoff): void {
    if (p.timer !== undefined) clearTimeout(p.timer);
    p.timer = undefined;
    p.current = undefined;
    if (!this.pending.delete(p.key) || !p.sent) return;
    // It was in flight: the next one waiting goes out.
    this.inFlight--;
    const q = this.backlog;
    if (this.backlogHead < q.length && !this.host.life.stopping) {
      const next = q[this.backlogHead++]!;
      if (this.backlogHead === q.length) {
        q.length = 0;
        this.backlogHead = 0;
      }
      this.start(next);
    }
  }

  private start(p: PendingHandoff): void {
    p.sent = true;
    this.inFlight++;
    this.nextAttempt(p);
  }

  // ---------------------------------------------------------------- both sides: frames in

  /** A hand-off frame arrived (first byte `FrameKind.Handoff`). */
  onFrame(from: string, frame: Uint8Array): void {
    const h = decodeHandoff(frame, this.host.frameLimits);
    if (h === null) {
      this.host.countDrop('handoff');
      return;
    }
    if (h.type === HandoffType.Request) {
      this.onRequest(from, h.message, h.gossipFrame);
      return;
    }
    const pending = this.pending.get(pendingKey(h.topic, h.id));
    if (pending === undefined) return; // answered already, or a foreign answer
    if (h.type === HandoffType.Ack) {
      // A late ACK (from a subscriber tried before) counts: that subscriber injected it.
      if (!pending.tried.includes(from)) return;
      if (pending.current === from) this.sampleAnswer(pending);
      this.counters.acked++;
      this.finish(pending);
      pending.resolve(pending.idText);
    } else if (pending.current !== from) {
      // An answer of an attempt given up already.
    } else if (h.type === HandoffType.Nack) {
      pending.reached = pending.reached.filter((n) => n !== from);
      this.nextAttempt(pending);
    } else if (!pending.held) {
      // HOLD: the subscriber has it; wait for its ACK instead of trying another one.
      this.sampleAnswer(pending);
      this.counters.held++;
      pending.held = true;
      clearTimeout(pending.timer);
      pending.timer = setTimeout(() => {
        pending.timer = undefined;
        this.nextAttempt(pending);
      }, this.host.timeoutMs * HOLD_TIMEOUT_FACTOR);
    }
  }

  // ---------------------------------------------------------------- subscriber side

  private onRequest(from: string, msg: GossipMessage, gossipFrame: Uint8Array): void {
    this.counters.received++;
    const topic = msg.topic;
    const known = this.host.knownTopic(topic);
    if (!this.topics.accept(topic, from, known, () => this.host.acceptsTopic(topic))) {
      this.nack(from, msg);
      return;
    }
    if ((this.waitingBy.get(from) ?? 0) >= MAX_WAITING_HANDOFFS_PER_PEER) {
      this.counters.waitingRefused++;
      this.nack(from, msg);
      return;
    }
    let admittedNow = false;
    let waiting: WaitingRequest | undefined;
    const settled = (): void => {
      if (waiting === undefined || waiting.admitted) return;
      waiting.admitted = true;
      const n = (this.waitingBy.get(from) ?? 1) - 1;
      if (n === 0) this.waitingBy.delete(from);
      else this.waitingBy.set(from, n);
    };
    this.host
      .admit(msg.payload.length, () => {
        admittedNow = true;
        settled();
        // A known id (a retried hand-off) is not injected again: the core remembers it.
        if (this.host.inject(msg, from, gossipFrame)) this.counters.injected++;
        // The tree's frames are queued before the ACK: once acknowledged, it is on its way.
        this.host.drive();
      })
      .then(
        () => this.answer(from, encodeHandoffAnswer(HandoffType.Ack, topic, msg.id)),
        (e: unknown) => {
          settled();
          if (e instanceof MessageTooLargeError) this.nack(from, msg);
          // Otherwise the node closed while the message waited: the publisher retries.
        },
      );
    if (!admittedNow && !this.host.life.closed) {
      // Not admitted at once: it waits for the window. HOLD it if it waits long.
      waiting = { from, topic, id: msg.id, since: Date.now(), admitted: false };
      this.waiting.push(waiting);
      this.waitingBy.set(from, (this.waitingBy.get(from) ?? 0) + 1);
      this.armHold();
    }
  }

  /** The earliest wait for the window that may need a HOLD, checked once it is due. */
  private armHold(): void {
    if (this.holdTimer !== undefined) return;
    const first = this.waiting.peek();
    if (first === undefined) return;
    const after = this.holdAfterMs();
    const due = Math.max(0, first.since + after - Date.now());
    this.holdTimer = setTimeout(() => {
      this.holdTimer = undefined;
      this.sendHolds();
    }, due);
    this.holdTimer.unref();
  }

  /** `timeoutMs` / 4: well before the publisher's clock runs out, not for a wait of one turn. */
  private holdAfterMs(): number {
    return Math.max(1, Math.floor(this.host.timeoutMs / 4));
  }

  /** HOLD every request that has waited `timeoutMs` / 4, once; admitted ones leave the queue. */
  private sendHolds(): void {
    if (this.host.life.closed) return;
    const cutoff = Date.now() - this.holdAfterMs();
    for (;;) {
      const w = this.waiting.peek();
      if (w === undefined || (!w.admitted && w.since > cutoff)) break;
      this.waiting.shift();
      if (w.admitted) continue;
      this.counters.holdsSent++;
      this.answer(w.from, encodeHandoffAnswer(HandoffType.Hold, w.topic, w.id));
    }
    this.armHold();
  }

  private nack(to: string, msg: GossipMessage): void {
    this.counters.nacked++;
    this.answer(to, encodeHandoffAnswer(HandoffType.Nack, msg.topic, msg.id));
  }

  /** Sends an answer to the publisher, also while SWIM has not met it yet. */
  private answer(to: string, frame: Uint8Array): void {
    sendToSender(this.answers, to, frame);
  }
}
