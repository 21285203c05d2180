/**
 * Request/reply between nodes: one request goes to ONE live responder of a topic (a member that
 * registered a handler of it: event-only subscribers are never asked), this node first when it
 * answers the topic itself, else the one with the lowest SWIM round-trip time (a random one among
 * equals or when none is measured). The reply comes straight back on the frame transport (a
 * request to this node loops back in-process); nothing travels down the topic's tree.
 *
 * Requester side ({@link RpcEngine.requestStream}, {@link RpcEngine.request}): the reply is a
 * stream of values (one for a plain value) ending with completion, the handler's error
 * ({@link RequestHandlerError}), or a failure. At-most-once by default: an attempt is retried on
 * another responder only when it provably did not run the handler (the frame was not taken by
 * the transport, or the responder has no handler), `maxAttempts` attempts in all. No reply within
 * `timeoutMs`, or the responder going down (member failed or left, frame connection lost), ends
 * the request with {@link RequestTimeoutError}: the handler may have run. `retryOnTimeout: true`
 * retries those too (at-least-once), as long as no value has arrived. With no live responder at
 * all it rejects at once with {@link NoRespondersError}. Unsubscribing cancels: the responder is
 * told and unsubscribes its reply stream.
 *
 * Reply headers (set by the handler, see rpc-responder.ts) are merged frame by frame, later over
 * earlier; {@link RpcEngine.requestWithHeaders} gives them with the reply's last value.
 *
 * Responder side: see rpc-responder.ts.
 *
 * The engine owns no socket and no membership: the node gives it a send function and a view of
 * the directory (see {@link RpcHost}), and tells it RTTs and peers going down.
 */
import { lastValueFrom, Observable, type Subscriber } from 'rxjs';
import { randomInt, type Rng } from '@plumtree/plumtree';
import type { PayloadCodec } from '../delivery/payload-codec.js';
import { FrameKind } from '../frame-kinds.js';
import { NodeClosedError, PayloadTooLargeError } from '../node/errors.js';
import {
  decodeRpcFrame,
  encodeRpcCancel,
  encodeRpcRequest,
  RPC_MAX_TIMEOUT_MS,
  RpcStatus,
  type RpcResponseFrame,
} from './rpc-codec.js';
import { BUSY_ERROR_NAME, decodeWireError } from './rpc-error-wire.js';
import {
  NoRespondersError,
  RequestHandlerError,
  RequestTimeoutError,
  ResponderBusyError,
} from './rpc-errors.js';
import {
  EMPTY_REPLY_CONTENT_TYPE,
  RpcResponder,
  type RequestHandler,
  type RpcResponderCounters,
} from './rpc-responder.js';

export {
  EMPTY_REPLY_CONTENT_TYPE,
  type RequestHandler,
  type RpcRequest,
  type RpcResponderCounters,
} from './rpc-responder.js';

/** Default time a request waits for its reply (for a stream: for its end). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;
/** Default attempts of one request: the first and one retry (of a provably untaken attempt). */
export const DEFAULT_REQUEST_MAX_ATTEMPTS = 2;

/** Options of one `request`. */
export interface RequestOptions {
  /** How long one attempt waits for the reply (a stream: for its end). Default 5,000 ms. */
  readonly timeoutMs?: number;
  /** Attempts in all, on distinct responders. Default 2 (one retry). */
  readonly maxAttempts?: number;
  /**
   * Also retry an attempt that timed out or whose responder went down (its handler may have run:
   * at-least-once). Default false: such an attempt ends the request with `RequestTimeoutError`.
   */
  readonly retryOnTimeout?: boolean;
  /** Application headers, given to the handler. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Out-of-band values (trace ids, tenants), given to the handler. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** A reply with its headers (`requestWithHeaders`). */
export interface RpcReply<T = unknown> {
  /** The reply's last value (`undefined` for none). */
  readonly data: T;
  /** The reply headers the handler set (empty when none). */
  readonly headers: Readonly<Record<string, string>>;
}

/** What the engine needs from its node. */
export interface RpcHost {
  readonly name: string;
  readonly codec: PayloadCodec;
  readonly rng: Rng;
  /** Largest encoded request or reply payload (the Plumtree `maxMessageSize`). */
  readonly maxPayloadBytes: number;
  /** Queue a frame to a peer; `'queued'` when the transport took it. */
  send(peer: string, frame: Uint8Array): string;
  /** Live members that answer requests on a topic, this node excluded. */
  respondersOf(topic: string): string[];
  /** Throws `InvalidTopicError` for a topic a request cannot be sent on. */
  checkTopic(topic: string): void;
  /** Whether the node is closed or leaving. */
  isClosed(): boolean;
  /** A frame that failed to decode. */
  countDrop(reason: string): void;
  /** Requests of one peer (and of all peers) whose reply is in progress at most (rpc-responder.ts). */
  readonly maxRequestsPerPeer: number;
  readonly maxRequests: number;
}

/** Request/reply counters (`stats().node.rpc`). */
export interface RpcCounters extends Readonly<RpcResponderCounters> {
  /** Requester side: requests made, attempts sent, retries, replies, handler errors, failures. */
  readonly requests: number;
  readonly attempts: number;
  readonly retries: number;
  readonly replies: number;
  readonly remoteErrors: number;
  readonly timeouts: number;
  /** Requests the caller unsubscribed from before they ended. */
  readonly cancelled: number;
  /** Requests that found no live responder. */
  readonly noResponders: number;
}

interface PendingRequest {
  readonly requestId: number;
  readonly topic: string;
  readonly frame: Uint8Array;
  readonly timeoutMs: number;
  readonly maxAttempts: number;
  readonly retryOnTimeout: boolean;
  readonly attempts: { peer: string; outcome: string }[];
  current: string | undefined;
  /** A value arrived: the handler runs, so nothing is retried any more. */
  answered: boolean;
  timer: NodeJS.Timeout | undefined;
  readonly sink: Subscriber<unknown>;
  /** Takes the reply headers of each frame that carries some. */
  readonly onHeaders: ((headers: Readonly<Record<string, string>>) => void) | undefined;
}

/** The request/reply engine of one node; see the file comment. */
export class RpcEngine {
  private readonly pending = new Map<number, PendingRequest>();
  private readonly responder: RpcResponder;
  private readonly rtt = new Map<string, number>();
  private nextId = 1;
  private readonly counters = {
    requests: 0,
    attempts: 0,
    retries: 0,
    replies: 0,
    remoteErrors: 0,
    timeouts: 0,
    cancelled: 0,
    noResponders: 0,
  };

  constructor(private readonly host: RpcHost) {
    this.responder = new RpcResponder({
      codec: host.codec,
      maxPayloadBytes: host.maxPayloadBytes,
      send: (peer, frame) => this.send(peer, frame),
      isClosed: () => host.isClosed(),
      maxActivePerPeer: host.maxRequestsPerPeer,
      maxActive: host.maxRequests,
    });
  }

  /** A copy of the counters. */
  stats(): RpcCounters {
    return { ...this.counters, ...this.responder.counters };
  }

  /** Requests waiting for a reply. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** A SWIM probe measured `rttMs` to `peer` (smoothed like the Plumtree core's). */
  recordRtt(peer: string, rttMs: number): void {
    const prev = this.rtt.get(peer);
    this.rtt.set(peer, prev === undefined ? rttMs : prev + 0.3 * (rttMs - prev));
  }

  /** `peer` failed, left, or its frame connection dropped: its attempts end now. */
  peerDown(peer: string, reason: string): void {
    this.rtt.delete(peer);
    for (const p of [...this.pending.values()]) {
      if (p.current === peer) this.unknownOutcome(p, reason);
    }
  }

  /** Register the handler of a topic or pattern; returns its removal. One handler per key. */
  addHandler(topicOrPattern: string, handler: RequestHandler): () => void {
    return this.responder.addHandler(topicOrPattern, handler);
  }

  /** Send a request; resolves with the reply's last value (`undefined` for none). */
  request(topic: string, payload: unknown, options: RequestOptions = {}): Promise<unknown> {
    return lastValueFrom(this.requestStream(topic, payload, options), { defaultValue: undefined });
  }

  /** Send a request; resolves with the reply's last value and the reply headers. */
  async requestWithHeaders(
    topic: string,
    payload: unknown,
    options: RequestOptions = {},
  ): Promise<RpcReply> {
    let headers: Readonly<Record<string, string>> = {};
    const stream = this.requestStream(topic, payload, options, (h) => {
      headers = { ...headers, ...h };
    });
    const data = await lastValueFrom(stream, { defaultValue: undefined });
    return { data, headers };
  }

  /**
   * Send a request when subscribed; emits every value of the reply and completes with it. See
   * the file comment for attempts, retries, errors and cancelling. `onHeaders` takes the reply
   * headers of each frame that carries some.
   */
  requestStream(
    topic: string,
    payload: unknown,
    options: RequestOptions = {},
    onHeaders?: (headers: Readonly<Record<string, string>>) => void,
  ): Observable<unknown> {
    return new Observable<unknown>((sink) => {
      const p = this.start(topic, payload, options, sink, onHeaders);
      if (p === undefined) return undefined;
      return () => this.cancel(p);
    });
  }

  /** A request or response frame arrived from `from`. */
  onFrame(from: string, bytes: Uint8Array): void {
    const f = decodeRpcFrame(bytes);
    if (f === null) {
      this.host.countDrop('rpc');
      return;
    }
    if (f.kind !== FrameKind.RpcRequest) this.onResponse(from, f);
    else if ('cancel' in f) this.responder.onCancel(from, f.requestId);
    else void this.responder.onRequest(from, f);
  }

  /** Fail every pending request with `NodeClosedError` and stop every reply (closing). */
  close(): void {
    this.responder.close();
    for (const p of [...this.pending.values()]) {
      this.finish(p);
      p.sink.error(new NodeClosedError(this.host.name));
    }
  }

  // ------------------------------------------------------------ requester

  /** Validate, encode and send the first attempt; undefined when it failed at once. */
  private start(
    topic: string,
    payload: unknown,
    options: RequestOptions,
    sink: Subscriber<unknown>,
    onHeaders: PendingRequest['onHeaders'],
  ): PendingRequest | undefined {
    if (this.host.isClosed()) {
      sink.error(new NodeClosedError(this.host.name));
      return undefined;
    }
    const timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const maxAttempts = options.maxAttempts ?? DEFAULT_REQUEST_MAX_ATTEMPTS;
    let frame: Uint8Array;
    const requestId = this.allocateId();
    try {
      this.host.checkTopic(topic);
      if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs > RPC_MAX_TIMEOUT_MS) {
        throw new RangeError(`timeoutMs must be an integer in 1..${RPC_MAX_TIMEOUT_MS}`);
      }
      if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
        throw new RangeError('maxAttempts must be an integer >= 1');
      }
      const codec = this.host.codec;
      const bytes = codec.encode(payload);
      if (bytes.length > this.host.maxPayloadBytes) {
        throw new PayloadTooLargeError(bytes.length, this.host.maxPayloadBytes);
      }
      frame = encodeRpcRequest({
        requestId,
        topic,
        contentType: codec.contentTypeOf?.(payload) ?? codec.contentType,
        headers: options.headers ?? {},
        metadata: options.metadata ?? {},
        timeoutMs,
        streams: true,
        payload: bytes,
      });
    } catch (e) {
      sink.error(e);
      return undefined;
    }
    if (this.candidates(topic).length === 0) {
      this.counters.noResponders++;
      sink.error(new NoRespondersError(topic));
      return undefined;
    }
    this.counters.requests++;
    const p: PendingRequest = {
      requestId,
      topic,
      frame,
      timeoutMs,
      maxAttempts,
      retryOnTimeout: options.retryOnTimeout === true,
      attempts: [],
      current: undefined,
      answered: false,
      timer: undefined,
      sink,
      onHeaders,
    };
    this.pending.set(requestId, p);
    this.nextAttempt(p);
    return p;
  }

  /** The caller unsubscribed: stop waiting and tell the responder. */
  private cancel(p: PendingRequest): void {
    if (this.pending.get(p.requestId) !== p) return;
    const peer = p.current;
    this.finish(p);
    this.counters.cancelled++;
    if (peer !== undefined) this.send(peer, encodeRpcCancel(p.requestId));
  }

  /** Sends to `peer`; a frame to this node is handed to its own engine in a microtask. */
  private send(peer: string, frame: Uint8Array): string {
    if (peer !== this.host.name) return this.host.send(peer, frame);
    if (this.host.isClosed()) return 'closed';
    queueMicrotask(() => this.onFrame(peer, frame));
    return 'queued';
  }

  private allocateId(): number {
    // u32 on the wire; skip ids still pending after a wrap.
    for (;;) {
      const id = this.nextId;
      this.nextId = this.nextId >= 0xffffffff ? 1 : this.nextId + 1;
      if (!this.pending.has(id)) return id;
    }
  }

  /** Responders of `topic`: this node when it answers it, and the live remote ones. */
  private candidates(topic: string): string[] {
    const remote = this.host.respondersOf(topic);
    return this.responder.findHandler(topic) !== undefined ? [this.host.name, ...remote] : remote;
  }

  /** This node if untried; else the untried responder with the lowest RTT, random among equals. */
  private choose(p: PendingRequest): string | undefined {
    const tried = new Set(p.attempts.map((a) => a.peer));
    const candidates = this.candidates(p.topic).filter((n) => !tried.has(n));
    if (candidates.length === 0) return undefined;
    if (candidates[0] === this.host.name) return this.host.name;
    let best = Number.POSITIVE_INFINITY;
    let pool: string[] = [];
    for (const c of candidates) {
      const r = this.rtt.get(c) ?? Number.POSITIVE_INFINITY;
      if (r < best) {
        best = r;
        pool = [c];
      } else if (r === best) {
        pool.push(c);
      }
    }
    return pool[randomInt(this.host.rng, pool.length)];
  }

  private nextAttempt(p: PendingRequest): void {
    for (;;) {
      if (this.host.isClosed()) {
        this.finish(p);
        p.sink.error(new NodeClosedError(this.host.name));
        return;
      }
      const peer = p.attempts.length < p.maxAttempts ? this.choose(p) : undefined;
      if (peer === undefined) {
        this.fail(p);
        return;
      }
      if (p.attempts.length > 0) this.counters.retries++;
      p.attempts.push({ peer, outcome: 'pending' });
      p.current = peer;
      this.counters.attempts++;
      const r = this.send(peer, p.frame);
      if (r !== 'queued') {
        // Never taken by the transport: provably not run, so the next responder may try.
        p.attempts[p.attempts.length - 1]!.outcome = `send ${r}`;
        continue;
      }
      p.timer = setTimeout(() => {
        p.timer = undefined;
        this.unknownOutcome(p, `no reply within ${p.timeoutMs} ms`);
      }, p.timeoutMs);
      return;
    }
  }

  /** The current attempt may or may not have run: retry only when the caller opted in. */
  private unknownOutcome(p: PendingRequest, outcome: string): void {
    if (p.retryOnTimeout && !p.answered) {
      this.retry(p, outcome);
      return;
    }
    this.recordOutcome(p, outcome);
    this.fail(p);
  }

  /** The current attempt provably did not run (or the caller opted in): try the next one. */
  private retry(p: PendingRequest, outcome: string): void {
    this.recordOutcome(p, outcome);
    this.nextAttempt(p);
  }

  private recordOutcome(p: PendingRequest, outcome: string): void {
    if (p.timer !== undefined) clearTimeout(p.timer);
    p.timer = undefined;
    const last = p.attempts[p.attempts.length - 1];
    if (last !== undefined) last.outcome = outcome;
    p.current = undefined;
  }

  private fail(p: PendingRequest): void {
    this.counters.timeouts++;
    this.finish(p);
    p.sink.error(new RequestTimeoutError(p.topic, p.attempts, p.timeoutMs));
  }

  private finish(p: PendingRequest): void {
    if (p.timer !== undefined) clearTimeout(p.timer);
    p.timer = undefined;
    p.current = undefined;
    this.pending.delete(p.requestId);
  }

  private onResponse(from: string, f: RpcResponseFrame): void {
    const p = this.pending.get(f.requestId);
    if (p === undefined || p.current !== from) return; // late, or from a responder given up on
    if (f.headers !== undefined && f.status !== RpcStatus.NoHandler) p.onHeaders?.(f.headers);
    switch (f.status) {
      case RpcStatus.NoHandler:
        this.retry(p, 'no handler');
        return;
      case RpcStatus.Error: {
        this.finish(p);
        this.counters.remoteErrors++;
        const w = decodeWireError(f.payload);
        p.sink.error(
          w.name === BUSY_ERROR_NAME
            ? new ResponderBusyError(p.topic, from)
            : new RequestHandlerError(p.topic, from, w.name, w.message, w.error),
        );
        return;
      }
      case RpcStatus.Next:
        p.answered = true;
        this.deliver(p, f);
        return;
      case RpcStatus.Ok:
        this.counters.replies++;
        if (!this.deliver(p, f)) return;
        this.finish(p);
        p.sink.complete();
    }
  }

  /** Hands a reply value to the caller; false when it did not decode (the request then failed). */
  private deliver(p: PendingRequest, f: RpcResponseFrame): boolean {
    if (f.contentType === EMPTY_REPLY_CONTENT_TYPE) {
      if (f.status === RpcStatus.Next) p.sink.next(undefined);
      return true;
    }
    let value: unknown;
    try {
      value = this.host.codec.decode(f.payload, f.contentType);
    } catch (e) {
      this.cancel(p);
      p.sink.error(e);
      return false;
    }
    p.sink.next(value);
    return true;
  }
}
