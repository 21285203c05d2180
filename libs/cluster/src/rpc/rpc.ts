/**
 * Request/reply between nodes: one request goes to ONE live subscriber of a topic (the one with
 * the lowest SWIM round-trip time, a random one among equals or when none is measured), and the
 * reply comes straight back on the frame transport; nothing travels down the topic's tree.
 *
 * Requester side ({@link RpcEngine.request}): an attempt ends with the reply, the handler's error
 * ({@link RequestHandlerError}, not retried: the handler ran), or a failure (no reply within
 * `timeoutMs`, the responder's frame connection or membership went down, or it has no handler),
 * after which the request is retried on another subscriber not tried yet, up to `maxAttempts`
 * attempts in all (2: one retry); then it rejects with {@link RequestTimeoutError}. With no live
 * subscriber at all it rejects at once with `NoSubscribersError`.
 *
 * Responder side ({@link RpcEngine.addHandler}): a request for a topic that a registered topic
 * or pattern matches runs the handler and answers; anything else is answered `NoHandler`, so the
 * requester moves on without waiting for its timeout.
 *
 * The engine owns no socket and no membership: the node gives it a send function and a view of
 * the directory (see {@link RpcHost}), and tells it RTTs and peers going down.
 */
import { randomInt, type Rng } from '@plumtree/plumtree';
import { topicMatches } from '../directory/index.js';
import type { PayloadCodec } from '../delivery/payload-codec.js';
import { FrameKind } from '../frame-kinds.js';
import { NodeClosedError, NoSubscribersError } from '../node/errors.js';
import { sendToSender } from '../outbound/reply-sender.js';
import {
  decodeRpcFrame,
  encodeRpcRequest,
  encodeRpcResponse,
  RpcStatus,
  type RpcRequestFrame,
  type RpcResponseFrame,
} from './rpc-codec.js';
import { RequestHandlerError, RequestTimeoutError } from './rpc-errors.js';

/** Content type of an empty reply (the handler returned `undefined`). */
export const EMPTY_REPLY_CONTENT_TYPE = 'application/x-plumtree-empty';

/** Default time one attempt waits for its reply. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;
/** Default attempts of one request: the first and one retry. */
export const DEFAULT_REQUEST_MAX_ATTEMPTS = 2;

/** Options of one `request`. */
export interface RequestOptions {
  /** How long one attempt waits for the reply before trying another subscriber. Default 5,000 ms. */
  readonly timeoutMs?: number;
  /** Attempts in all, on distinct subscribers. Default 2 (one retry). */
  readonly maxAttempts?: number;
  /** Application headers, given to the handler. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Out-of-band values (trace ids, tenants), given to the handler. */
  readonly metadata?: Readonly<Record<string, string>>;
}

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
}

/** Answers requests of a topic: its return value (or resolved value) is the reply. */
export type RequestHandler = (request: RpcRequest) => unknown;

/** What the engine needs from its node. */
export interface RpcHost {
  readonly name: string;
  readonly codec: PayloadCodec;
  readonly rng: Rng;
  /** Queue a frame to a peer; `'queued'` when the transport took it. */
  send(peer: string, frame: Uint8Array): string;
  /** Live subscribers of a topic, this node excluded. */
  subscribersOf(topic: string): string[];
  /** Whether the node is closed or leaving. */
  isClosed(): boolean;
  /** A frame that failed to decode. */
  countDrop(reason: string): void;
}

/** Request/reply counters (`stats().node.rpc`). */
export interface RpcCounters {
  /** Requester side: requests made, attempts sent, retries, replies, handler errors, failures. */
  readonly requests: number;
  readonly attempts: number;
  readonly retries: number;
  readonly replies: number;
  readonly remoteErrors: number;
  readonly timeouts: number;
  /** Responder side: requests received, answered, failed in the handler, without a handler. */
  readonly received: number;
  readonly answered: number;
  readonly handlerErrors: number;
  readonly noHandler: number;
  /** Replies dropped because the requester stayed unknown to membership for 2 s. */
  readonly repliesDropped: number;
}

interface PendingRequest {
  readonly requestId: number;
  readonly topic: string;
  readonly frame: Uint8Array;
  readonly timeoutMs: number;
  readonly maxAttempts: number;
  readonly attempts: { peer: string; outcome: string }[];
  current: string | undefined;
  timer: NodeJS.Timeout | undefined;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: Error) => void;
}

/** The request/reply engine of one node; see the file comment. */
export class RpcEngine {
  private readonly pending = new Map<number, PendingRequest>();
  private readonly handlers = new Map<string, RequestHandler>();
  private readonly rtt = new Map<string, number>();
  private nextId = 1;
  private readonly counters = {
    requests: 0,
    attempts: 0,
    retries: 0,
    replies: 0,
    remoteErrors: 0,
    timeouts: 0,
    received: 0,
    answered: 0,
    handlerErrors: 0,
    noHandler: 0,
    repliesDropped: 0,
  };

  constructor(private readonly host: RpcHost) {}

  /** A copy of the counters. */
  stats(): RpcCounters {
    return { ...this.counters };
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

  /** `peer` failed, left, or its frame connection dropped: its attempts move on now. */
  peerDown(peer: string, reason: string): void {
    this.rtt.delete(peer);
    for (const p of [...this.pending.values()]) {
      if (p.current === peer) this.failAttempt(p, reason);
    }
  }

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

  /** Send a request; see the file comment for attempts, retries and errors. */
  request(topic: string, payload: unknown, options: RequestOptions = {}): Promise<unknown> {
    if (this.host.isClosed()) return Promise.reject(new NodeClosedError(this.host.name));
    const timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const maxAttempts = options.maxAttempts ?? DEFAULT_REQUEST_MAX_ATTEMPTS;
    let frame: Uint8Array;
    const requestId = this.allocateId();
    try {
      if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
        throw new RangeError('timeoutMs must be > 0');
      if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
        throw new RangeError('maxAttempts must be an integer >= 1');
      }
      const codec = this.host.codec;
      const bytes = codec.encode(payload);
      frame = encodeRpcRequest({
        requestId,
        topic,
        contentType: codec.contentTypeOf?.(payload) ?? codec.contentType,
        headers: options.headers ?? {},
        metadata: options.metadata ?? {},
        payload: bytes,
      });
    } catch (e) {
      return Promise.reject(e as Error);
    }
    if (this.host.subscribersOf(topic).length === 0) {
      return Promise.reject(new NoSubscribersError(topic));
    }
    this.counters.requests++;
    return new Promise<unknown>((resolve, reject) => {
      const p: PendingRequest = {
        requestId,
        topic,
        frame,
        timeoutMs,
        maxAttempts,
        attempts: [],
        current: undefined,
        timer: undefined,
        resolve,
        reject,
      };
      this.pending.set(requestId, p);
      this.nextAttempt(p);
    });
  }

  /** A request or response frame arrived from `from`. */
  onFrame(from: string, bytes: Uint8Array): void {
    const f = decodeRpcFrame(bytes);
    if (f === null) {
      this.host.countDrop('rpc');
      return;
    }
    if (f.kind === FrameKind.RpcRequest) void this.onRequest(from, f);
    else this.onResponse(from, f);
  }

  /** Reject every pending request with `NodeClosedError` (the node is closing or leaving). */
  close(): void {
    for (const p of [...this.pending.values()]) {
      this.finish(p);
      p.reject(new NodeClosedError(this.host.name));
    }
  }

  // ------------------------------------------------------------ requester

  private allocateId(): number {
    // u32 on the wire; skip ids still pending after a wrap.
    for (;;) {
      const id = this.nextId;
      this.nextId = this.nextId >= 0xffffffff ? 1 : this.nextId + 1;
      if (!this.pending.has(id)) return id;
    }
  }

  /** The untried subscriber with the lowest RTT; random among equals (unmeasured ones too). */
  private choose(p: PendingRequest): string | undefined {
    const tried = new Set(p.attempts.map((a) => a.peer));
    const candidates = this.host.subscribersOf(p.topic).filter((n) => !tried.has(n));
    if (candidates.length === 0) return undefined;
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
        p.reject(new NodeClosedError(this.host.name));
        return;
      }
      const peer = p.attempts.length < p.maxAttempts ? this.choose(p) : undefined;
      if (peer === undefined) {
        this.counters.timeouts++;
        this.finish(p);
        p.reject(new RequestTimeoutError(p.topic, p.attempts, p.timeoutMs));
        return;
      }
      if (p.attempts.length > 0) this.counters.retries++;
      p.attempts.push({ peer, outcome: 'pending' });
      p.current = peer;
      this.counters.attempts++;
      const r = this.host.send(peer, p.frame);
      if (r !== 'queued') {
        p.attempts[p.attempts.length - 1]!.outcome = `send ${r}`;
        continue;
      }
      p.timer = setTimeout(() => {
        p.timer = undefined;
        this.failAttempt(p, `no reply within ${p.timeoutMs} ms`);
      }, p.timeoutMs);
      return;
    }
  }

  private failAttempt(p: PendingRequest, outcome: string): void {
    if (p.timer !== undefined) clearTimeout(p.timer);
    p.timer = undefined;
    const last = p.attempts[p.attempts.length - 1];
    if (last !== undefined) last.outcome = outcome;
    p.current = undefined;
    this.nextAttempt(p);
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
    if (f.status === RpcStatus.NoHandler) {
      this.failAttempt(p, 'no handler');
      return;
    }
    this.finish(p);
    if (f.status === RpcStatus.Error) {
      this.counters.remoteErrors++;
      let name = 'Error';
      let message = '';
      try {
        const o = JSON.parse(Buffer.from(f.payload).toString('utf8')) as Record<string, unknown>;
        if (typeof o['name'] === 'string') name = o['name'];
        if (typeof o['message'] === 'string') message = o['message'];
      } catch {
        message = 'unreadable error';
      }
      p.reject(new RequestHandlerError(p.topic, from, name, message));
      return;
    }
    this.counters.replies++;
    if (f.contentType === EMPTY_REPLY_CONTENT_TYPE) {
      p.resolve(undefined);
      return;
    }
    try {
      p.resolve(this.host.codec.decode(f.payload, f.contentType));
    } catch (e) {
      p.reject(e as Error);
    }
  }

  // ------------------------------------------------------------ responder

  private findHandler(topic: string): RequestHandler | undefined {
    const exact = this.handlers.get(topic);
    if (exact !== undefined) return exact;
    for (const [key, h] of this.handlers) if (topicMatches(key, topic)) return h;
    return undefined;
  }

  private async onRequest(from: string, f: RpcRequestFrame): Promise<void> {
    this.counters.received++;
    const handler = this.host.isClosed() ? undefined : this.findHandler(f.topic);
    if (handler === undefined) {
      this.counters.noHandler++;
      this.reply(
        from,
        f.requestId,
        RpcStatus.NoHandler,
        EMPTY_REPLY_CONTENT_TYPE,
        new Uint8Array(0),
      );
      return;
    }
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
      });
    } catch (e) {
      this.counters.handlerErrors++;
      const err = e instanceof Error ? e : new Error(String(e));
      const body = Buffer.from(JSON.stringify({ name: err.name, message: err.message }), 'utf8');
      this.reply(from, f.requestId, RpcStatus.Error, 'application/json', body);
      return;
    }
    if (this.host.isClosed()) return; // killed mid-request: the requester retries elsewhere
    if (result === undefined) {
      this.counters.answered++;
      this.reply(from, f.requestId, RpcStatus.Ok, EMPTY_REPLY_CONTENT_TYPE, new Uint8Array(0));
      return;
    }
    const codec = this.host.codec;
    let bytes: Uint8Array;
    try {
      bytes = codec.encode(result);
    } catch (e) {
      this.counters.handlerErrors++;
      const body = Buffer.from(
        JSON.stringify({ name: 'ReplyEncodeError', message: (e as Error).message }),
        'utf8',
      );
      this.reply(from, f.requestId, RpcStatus.Error, 'application/json', body);
      return;
    }
    this.counters.answered++;
    this.reply(
      from,
      f.requestId,
      RpcStatus.Ok,
      codec.contentTypeOf?.(result) ?? codec.contentType,
      bytes,
    );
  }

  private reply(
    to: string,
    requestId: number,
    status: RpcStatus,
    contentType: string,
    payload: Uint8Array,
  ): void {
    const frame = encodeRpcResponse({ requestId, status, contentType, payload });
    sendToSender(this.host, to, frame, () => this.counters.repliesDropped++);
  }
}
