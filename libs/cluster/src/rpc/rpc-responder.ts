/**
 * The responder side of request/reply: finds the handler of a request's topic, runs it and sends
 * its reply back (see rpc-codec.ts for the frames).
 *
 * A handler returns a value, a promise, or an Observable (a promise of one too, as Nest's
 * handlers do). A value is one Ok frame. An Observable is a reply stream: to a requester that
 * takes streams, each value is a Next frame sent as it is emitted (values emitted synchronously
 * with the completion are batched, so `of(x)` is still one Ok frame) and the end is an Ok frame
 * (carrying the last value when it came in that batch); an error is an Error frame after the
 * values sent. To a requester of the first release the last value is sent as one Ok frame.
 *
 * A reply stream lives at most the requester's timeout (`d` in the request, else
 * {@link DEFAULT_REPLY_STREAM_MS}): then it is unsubscribed, as it is when the requester cancels.
 * A value whose encoding is above `maxPayloadBytes` (or that the codec refuses) ends the reply
 * with an Error frame naming the problem, so the requester fails at once instead of waiting out
 * its timeout.
 *
 * Reply headers: the handler calls `request.setReplyHeaders(h)` (merged over earlier calls, checked
 * against a publish's caps at once: `InvalidHeadersError`); the headers set since the previous
 * frame of the reply ride on the next one (an Error frame included).
 *
 * A requester this node's SWIM has not met yet (its join is still gossiping) has no address here:
 * the transport refuses frames to it as `unknown-peer`. Its replies then wait, in order, and are
 * retried every {@link UNKNOWN_SENDER_RETRY_MS} until membership knows it or its requests'
 * timeouts pass (a later frame never overtakes an earlier one: a stream's end cannot arrive
 * before its values).
 *
 * Load: at most `maxActivePerPeer` replies of one requester and `maxActive` in all are in
 * progress (a handler running, or its reply stream open); a request beyond is answered at once
 * with an error named {@link BUSY_ERROR_NAME} (the requester's `ResponderBusyError`), its
 * handler not run, and counted in `busy`.
 */
import { isObservable, type Observable, type Subscription } from 'rxjs';
import { topicMatches } from '../directory/index.js';
import type { PayloadCodec } from '../delivery/payload-codec.js';
import { PayloadTooLargeError } from '../node/errors.js';
import { encodeRpcResponse, RpcStatus, type RpcRequestFrame } from './rpc-codec.js';
import { BUSY_ERROR_NAME, encodeWireError } from './rpc-error-wire.js';
import { checkHeaders } from '../publish/outgoing-headers.js';
import { UNKNOWN_SENDER_RETRY_MS } from '../outbound/reply-sender.js';

/** Content type of an empty reply (the handler returned `undefined`, or a stream ended). */
export const EMPTY_REPLY_CONTENT_TYPE = 'application/x-plumtree-empty';

/** Bound of a reply stream whose request carried no timeout (a first-release requester's). */
export const DEFAULT_REPLY_STREAM_MS = 5_000;

/** Replies kept for one requester not known yet, and requesters kept; beyond, replies drop. */
const MAX_WAITING_FRAMES_PER_PEER = 1_024;
const MAX_WAITING_PEERS = 1_024;

/** What a request handler receives. */
export interface RpcRequest<T = unknown> {
  readonly topic: string;
  /** The payload decoded by the node's codec. */
  readonly payload: T;
  readonly headers: Readonly<Record<string, string>>;
  readonly metadata: Readonly<Record<string, string>>;
  /** The requesting node. */
  readonly from: string;
  /** The requester's id of this request (unique per requester while it is pending). */
  readonly requestId: number;
  /**
   * Headers of the reply, merged over those set before; they go with the next frame of the reply
   * (see the file comment). Throws `InvalidHeadersError` beyond a publish's header caps.
   */
  setReplyHeaders(headers: Readonly<Record<string, string>>): void;
}

/**
 * Answers requests of a topic: its return value (or resolved value) is the reply; an Observable
 * (or a promise of one) is a reply stream, every value of which reaches the requester.
 */
export type RequestHandler = (request: RpcRequest) => unknown;

/** What the responder needs from its node. */
export interface RpcResponderHost {
  readonly codec: PayloadCodec;
  /** Largest encoded reply value. */
  readonly maxPayloadBytes: number;
  /** Queue a frame to a peer (this node included); `'queued'` when taken. */
  send(peer: string, frame: Uint8Array): string;
  isClosed(): boolean;
  /** Replies of one requester in progress at most; beyond, requests are answered busy. */
  readonly maxActivePerPeer: number;
  /** Replies in progress at most, every requester together. */
  readonly maxActive: number;
}

/** Responder counters (part of `stats().node.rpc`). */
export interface RpcResponderCounters {
  /** Requests received, answered, failed in the handler, without a handler. */
  received: number;
  answered: number;
  handlerErrors: number;
  noHandler: number;
  /** Replies dropped: the requester stayed unknown to membership past its timeout (or too many waited). */
  repliesDropped: number;
  /** Reply values above `maxPayloadBytes`: the reply ended with an error instead. */
  repliesTooLarge: number;
  /** Reply streams ended because the requester cancelled, or its timeout passed. */
  streamsCancelled: number;
  streamsTimedOut: number;
  /** Requests refused unrun because too many of the requester's (or in all) were in progress. */
  busy: number;
}

/** Replies to a requester membership does not know yet, in order, until `deadline`. */
interface WaitingReplies {
  readonly frames: Uint8Array[];
  deadline: number;
}

/** A reply in progress, until its handler's stream or promise settles. */
interface ActiveReply {
  cancelled: boolean;
  subscription: Subscription | undefined;
  timer: NodeJS.Timeout | undefined;
  /** How long replies may wait for an unknown requester: the request's timeout. */
  readonly waitMs: number;
  /** Reply headers set since the last frame sent (see `RpcRequest.setReplyHeaders`). */
  headers: Record<string, string> | undefined;
  /** Reply headers set in all, for the caps. */
  readonly allHeaders: Record<string, string>;
}

const NONE: unique symbol = Symbol('none');

/** See the file comment. */
export class RpcResponder {
  private readonly handlers = new Map<string, RequestHandler>();
  /** Replies in progress by `from \u0000 requestId`, for cancels and the close. */
  private readonly active = new Map<string, ActiveReply>();
  /** Replies in progress per requester (the entries of `active`, counted by `from`). */
  private readonly activeOf = new Map<string, number>();
  /** Replies waiting for their requester to be known (see the file comment), by requester. */
  private readonly waiting = new Map<string, WaitingReplies>();
  readonly counters: RpcResponderCounters = {
    received: 0,
    answered: 0,
    handlerErrors: 0,
    noHandler: 0,
    repliesDropped: 0,
    repliesTooLarge: 0,
    streamsCancelled: 0,
    streamsTimedOut: 0,
    busy: 0,
  };

  constructor(private readonly host: RpcResponderHost) {}

  /** Register the handler of a topic or pattern; returns its removal. One handler per key. */
  addHandler(topicOrPattern: string, handler: RequestHandler): () => void {
    if (this.handlers.has(topicOrPattern)) {
      throw new Error(
        `a request handler of ${JSON.stringify(topicOrPattern)} is registered already`,
      );
    }
    this.handlers.set(topicOrPattern, handler);
    return () => {
      if (this.handlers.get(topicOrPattern) === handler) this.handlers.delete(topicOrPattern);
    };
  }

  /** The handler of a concrete topic: an exact key first, else the first matching pattern. */
  findHandler(topic: string): RequestHandler | undefined {
    const exact = this.handlers.get(topic);
    if (exact !== undefined) return exact;
    for (const [key, h] of this.handlers) if (topicMatches(key, topic)) return h;
    return undefined;
  }

  /** The requester `from` stopped waiting for `requestId`: end its reply stream. */
  onCancel(from: string, requestId: number): void {
    const a = this.active.get(activeKey(from, requestId));
    if (a === undefined) return;
    this.counters.streamsCancelled++;
    this.end(from, requestId, a);
  }

  /** Stop every reply in progress (the node is closing). */
  close(): void {
    this.waiting.clear();
    this.activeOf.clear();
    for (const [key, a] of [...this.active]) {
      this.active.delete(key);
      a.cancelled = true;
      if (a.timer !== undefined) clearTimeout(a.timer);
      a.subscription?.unsubscribe();
    }
  }

  /** A request arrived from `from`: run its handler and reply. */
  async onRequest(from: string, f: RpcRequestFrame): Promise<void> {
    this.counters.received++;
    const handler = this.host.isClosed() ? undefined : this.findHandler(f.topic);
    const waitMs = f.timeoutMs ?? DEFAULT_REPLY_STREAM_MS;
    if (handler === undefined) {
      this.counters.noHandler++;
      this.sendEmpty(from, f.requestId, RpcStatus.NoHandler, waitMs);
      return;
    }
    const running = this.activeOf.get(from) ?? 0;
    if (running >= this.host.maxActivePerPeer || this.active.size >= this.host.maxActive) {
      this.counters.busy++;
      const busy = { name: BUSY_ERROR_NAME, message: 'too many requests in progress' };
      this.send(from, f.requestId, RpcStatus.Error, 'application/json', encodeWireError(busy), {
        waitMs,
      });
      return;
    }
    const a: ActiveReply = {
      cancelled: false,
      subscription: undefined,
      timer: undefined,
      waitMs,
      headers: undefined,
      allHeaders: {},
    };
    const key = activeKey(from, f.requestId);
    if (!this.active.has(key)) this.activeOf.set(from, running + 1);
    this.active.set(key, a);
    let result: unknown;
    try {
      const payload = this.host.codec.decode(f.payload, f.contentType);
      result = await handler({
        topic: f.topic,
        payload,
        headers: f.headers,
        metadata: f.metadata,
        from,
        requestId: f.requestId,
        setReplyHeaders: (h) => setReplyHeaders(a, h),
      });
    } catch (e) {
      this.fail(from, f.requestId, a, e);
      return;
    }
    // Killed mid-request, or the requester gave up: nothing to send.
    if (this.host.isClosed() || a.cancelled) {
      this.end(from, f.requestId, a);
      return;
    }
    if (isObservable(result)) {
      this.stream(from, f, a, result);
      return;
    }
    this.end(from, f.requestId, a);
    if (this.sendValue(from, f.requestId, RpcStatus.Ok, result, a)) this.counters.answered++;
  }

  private stream(from: string, f: RpcRequestFrame, a: ActiveReply, source: Observable<unknown>) {
    const streams = f.streams === true;
    // `held`: a value not sent yet. Values emitted while `subscribe` runs are held so that a
    // synchronous `of(x)` is one Ok frame; afterwards each goes out at once (streams) or only
    // the last is kept (a first-release requester takes one Ok frame).
    let held: unknown = NONE;
    let sync = true;
    const flush = (): boolean => {
      if (held === NONE) return true;
      const v = held;
      held = NONE;
      return this.sendValue(from, f.requestId, RpcStatus.Next, v, a);
    };
    a.timer = setTimeout(() => {
      this.counters.streamsTimedOut++;
      this.end(from, f.requestId, a);
    }, f.timeoutMs ?? DEFAULT_REPLY_STREAM_MS);
    a.timer.unref?.();
    const subscription = source.subscribe({
      next: (v) => {
        if (a.cancelled) return;
        if (streams && held !== NONE && !flush()) return;
        held = v;
        if (streams && !sync) flush();
      },
      error: (e: unknown) => {
        if (a.cancelled) return;
        if (streams && !flush()) return;
        this.fail(from, f.requestId, a, e);
      },
      complete: () => {
        if (a.cancelled) return;
        const last = held;
        held = NONE;
        this.end(from, f.requestId, a);
        if (this.sendValue(from, f.requestId, RpcStatus.Ok, last === NONE ? undefined : last, a)) {
          this.counters.answered++;
        }
      },
    });
    sync = false;
    if (a.cancelled) {
      subscription.unsubscribe();
      return;
    }
    a.subscription = subscription;
    if (streams) flush();
  }

  /** Forget the reply `a`: no more frames, its stream unsubscribed. */
  private end(from: string, requestId: number, a: ActiveReply): void {
    const key = activeKey(from, requestId);
    if (this.active.get(key) === a) {
      this.active.delete(key);
      const n = (this.activeOf.get(from) ?? 1) - 1;
      if (n > 0) this.activeOf.set(from, n);
      else this.activeOf.delete(from);
    }
    a.cancelled = true;
    if (a.timer !== undefined) clearTimeout(a.timer);
    a.timer = undefined;
    a.subscription?.unsubscribe();
  }

  private fail(from: string, requestId: number, a: ActiveReply, e: unknown): void {
    this.end(from, requestId, a);
    this.counters.handlerErrors++;
    this.send(from, requestId, RpcStatus.Error, 'application/json', encodeWireError(e), a);
  }

  /**
   * Encode and send one reply value (`undefined` as an empty one). False when it could not be
   * encoded or is too large: the reply then ended with an Error frame saying why.
   */
  private sendValue(
    to: string,
    requestId: number,
    status: RpcStatus,
    value: unknown,
    a: ActiveReply,
  ): boolean {
    if (value === undefined) {
      this.send(to, requestId, status, EMPTY_REPLY_CONTENT_TYPE, new Uint8Array(0), a);
      return true;
    }
    const codec = this.host.codec;
    let bytes: Uint8Array;
    try {
      bytes = codec.encode(value);
      if (bytes.length > this.host.maxPayloadBytes) {
        this.counters.repliesTooLarge++;
        throw new PayloadTooLargeError(bytes.length, this.host.maxPayloadBytes);
      }
    } catch (e) {
      this.fail(to, requestId, a, e instanceof Error ? e : new Error(String(e)));
      return false;
    }
    const contentType = codec.contentTypeOf?.(value) ?? codec.contentType;
    this.send(to, requestId, status, contentType, bytes, a);
    return true;
  }

  private sendEmpty(to: string, requestId: number, status: RpcStatus, waitMs: number): void {
    this.send(to, requestId, status, EMPTY_REPLY_CONTENT_TYPE, new Uint8Array(0), { waitMs });
  }

  /** Send one frame of a reply, with the reply headers `a` set since its previous frame. */
  private send(
    to: string,
    requestId: number,
    status: RpcStatus,
    contentType: string,
    payload: Uint8Array,
    a: Pick<ActiveReply, 'waitMs'> & Partial<ActiveReply>,
  ): void {
    if (this.host.isClosed()) return;
    const headers = a.headers;
    a.headers = undefined;
    const waitMs = a.waitMs;
    const frame = encodeRpcResponse({ requestId, status, contentType, headers, payload });
    const deadline = Date.now() + waitMs;
    const w = this.waiting.get(to);
    if (w !== undefined) {
      // Behind earlier replies to the same requester: order is kept.
      if (w.frames.length >= MAX_WAITING_FRAMES_PER_PEER) {
        this.counters.repliesDropped++;
        return;
      }
      w.frames.push(frame);
      w.deadline = Math.max(w.deadline, deadline);
      return;
    }
    if (this.host.send(to, frame) !== 'unknown-peer') return;
    if (this.waiting.size >= MAX_WAITING_PEERS) {
      this.counters.repliesDropped++;
      return;
    }
    this.waiting.set(to, { frames: [frame], deadline });
    this.retryLater(to);
  }

  private retryLater(to: string): void {
    setTimeout(() => this.flushWaiting(to), UNKNOWN_SENDER_RETRY_MS).unref?.();
  }

  /** Send what waits for `to`, in order, while the transport takes it. */
  private flushWaiting(to: string): void {
    const w = this.waiting.get(to);
    if (w === undefined) return;
    if (this.host.isClosed()) {
      this.waiting.delete(to);
      return;
    }
    while (w.frames.length > 0 && this.host.send(to, w.frames[0]!) !== 'unknown-peer') {
      w.frames.shift();
    }
    if (w.frames.length === 0) {
      this.waiting.delete(to);
    } else if (Date.now() >= w.deadline) {
      this.counters.repliesDropped += w.frames.length;
      this.waiting.delete(to);
    } else {
      this.retryLater(to);
    }
  }
}

/** `RpcRequest.setReplyHeaders` of the reply `a`: checked against the caps with what was set before. */
function setReplyHeaders(a: ActiveReply, headers: Readonly<Record<string, string>>): void {
  checkHeaders(headers);
  checkHeaders({ ...a.allHeaders, ...headers });
  Object.assign(a.allHeaders, headers);
  a.headers = { ...a.headers, ...headers };
}

function activeKey(from: string, requestId: number): string {
  return `${from}\u0000${requestId}`;
}
