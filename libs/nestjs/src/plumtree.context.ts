/**
 * The RPC context of a Plumtree message, given to `@Ctx()` in `@EventPattern`,
 * `@MessagePattern` and `@PlumtreeSubscribe` handlers.
 */
import { BaseRpcContext } from '@nestjs/microservices';
import type { Delivery, RpcRequest } from '@plumtree/cluster';
import { readDeadLetter, type PlumtreeDeadLetter } from './delivery/dead-letter.js';
import { METADATA_HEADER_PREFIX } from './plumtree.constants.js';
import { PlumtreeAckError } from './plumtree.errors.js';

/** What a {@link PlumtreeContext} describes: one delivery or one request. */
export interface PlumtreeMessageInfo {
  /** The concrete topic (also when the handler subscribed a pattern). */
  readonly topic: string;
  /** The message id (`origin/epoch/seq`) of an event; `from/rpc/requestId` of a request. */
  readonly id: string;
  /** The publishing (or requesting) node. */
  readonly origin: string;
  /** Tree links the event travelled (0 for a request: it comes straight from the requester). */
  readonly hops: number;
  /** Application headers, metadata headers removed. */
  readonly headers: Readonly<Record<string, string>>;
  /** Nest packet metadata (`ClientProxy#setOnDispatchHook`). */
  readonly metadata: Readonly<Record<string, string>>;
  /** The delivery itself, for events (raw bytes, publish time, sequence number). */
  readonly delivery?: Delivery;
}

/** Arguments of a {@link PlumtreeContext}: the message info. */
export type PlumtreeContextArgs = [PlumtreeMessageInfo];

/**
 * The attempt of an event handler's run, and its acknowledgement when the handler is
 * `ack: 'manual'`, as the delivery runner gives them to {@link PlumtreeContext.fromDelivery}
 * (delivery/delivery-runner.ts).
 */
export interface AckControl {
  readonly attempt: number;
  readonly ack?: () => void;
  readonly nack?: (error?: unknown) => void;
}

/** `@Ctx()` of Plumtree handlers: topic, message id, origin, hops, headers and metadata. */
export class PlumtreeContext extends BaseRpcContext<PlumtreeContextArgs> {
  private control: AckControl | undefined;
  private request: RpcRequest | undefined;

  /** The context of a delivered event (`control`: the attempt, and manual acknowledgement). */
  static fromDelivery(d: Delivery, control?: AckControl): PlumtreeContext {
    const { headers, metadata } = splitHeaders(d.headers);
    const ctx = new PlumtreeContext([
      { topic: d.topic, id: d.id, origin: d.origin, hops: d.hops, headers, metadata, delivery: d },
    ]);
    ctx.control = control;
    return ctx;
  }

  /** The context of an incoming request. */
  static fromRequest(r: RpcRequest): PlumtreeContext {
    const ctx = new PlumtreeContext([
      {
        topic: r.topic,
        id: `${r.from}/rpc/${r.requestId}`,
        origin: r.from,
        hops: 0,
        headers: r.headers,
        metadata: r.metadata,
      },
    ]);
    ctx.request = r;
    return ctx;
  }

  /** The concrete topic. */
  getTopic(): string {
    return this.args[0].topic;
  }
  /** The message id. */
  getMessageId(): string {
    return this.args[0].id;
  }
  /** The publishing or requesting node. */
  getOrigin(): string {
    return this.args[0].origin;
  }
  /** Tree links travelled. */
  getHops(): number {
    return this.args[0].hops;
  }
  /** Application headers. */
  getHeaders(): Readonly<Record<string, string>> {
    return this.args[0].headers;
  }
  /** Nest packet metadata set by the client's dispatch hook. */
  getMetadata(): Readonly<Record<string, string>> {
    return this.args[0].metadata;
  }
  /**
   * Durable topics: true when this event may have reached the handler before, in a life of the
   * node that crashed before the handler returned (delivery is at least once across a crash;
   * dedupe by {@link getMessageId} when the handler's effects must happen once). False for
   * requests and for every first delivery.
   */
  isRedelivered(): boolean {
    return this.args[0].delivery?.redelivered ?? false;
  }
  /** The whole delivery of an event (undefined for a request). */
  getDelivery(): Delivery | undefined {
    return this.args[0].delivery;
  }
  /**
   * Which run of the handler this is for the message: 1 first, 2 for the first retry, ... (the
   * handler's `retry` policy). 1 for a request.
   */
  getAttempt(): number {
    return this.control?.attempt ?? 1;
  }
  /**
   * `ack: 'manual'` handlers: the message is handled (the attempt succeeded). Later calls, and a
   * `nack` after it, do nothing. Throws {@link PlumtreeAckError} on other handlers.
   */
  ack(): void {
    this.manual('ack').ack!();
  }
  /**
   * `ack: 'manual'` handlers: this attempt failed with `error`; the message is retried per the
   * handler's `retry` policy, then dead-lettered. Throws {@link PlumtreeAckError} on other handlers.
   */
  nack(error: unknown = new Error('nacked')): void {
    this.manual('nack').nack!(error);
  }
  /**
   * `@MessagePattern` handlers: headers of the reply, merged over those set before (returning a
   * `PlumtreeRecord` sets them too); the requester reads them with `requestWithHeaders`. Throws
   * `InvalidHeadersError` beyond a publish's header caps, and a plain `Error` on an event's
   * context (an event has no reply).
   */
  setReplyHeaders(headers: Readonly<Record<string, string>>): void {
    if (this.request === undefined) {
      throw new Error('setReplyHeaders() needs a request (@MessagePattern); an event has no reply');
    }
    this.request.setReplyHeaders(headers);
  }
  /** On a dead-letter topic's handler: what the dead letter says of the message it carries. */
  getDeadLetter(): PlumtreeDeadLetter | undefined {
    return readDeadLetter(this.args[0].headers);
  }

  private manual(what: string): AckControl {
    const c = this.control;
    if (c?.ack === undefined) {
      throw new PlumtreeAckError(
        `${what}() needs a handler declared with ack: 'manual' (this one acknowledges by returning)`,
      );
    }
    return c;
  }
}

/** Headers carrying metadata (see METADATA_HEADER_PREFIX) apart from the application's. */
export function splitHeaders(all: Readonly<Record<string, string>>): {
  headers: Readonly<Record<string, string>>;
  metadata: Readonly<Record<string, string>>;
} {
  let headers: Record<string, string> | undefined;
  let metadata: Record<string, string> | undefined;
  for (const k of Object.keys(all)) {
    if (k.startsWith(METADATA_HEADER_PREFIX)) {
      metadata ??= {};
      metadata[k.slice(METADATA_HEADER_PREFIX.length)] = all[k]!;
    } else {
      headers ??= {};
      headers[k] = all[k]!;
    }
  }
  return { headers: headers ?? {}, metadata: metadata ?? {} };
}

/** Headers to publish: the application's plus the metadata under METADATA_HEADER_PREFIX. */
export function joinHeaders(
  headers: Readonly<Record<string, string>> | undefined,
  metadata: Readonly<Record<string, string>> | undefined,
): Record<string, string> | undefined {
  if (metadata === undefined || Object.keys(metadata).length === 0) {
    return headers === undefined ? undefined : { ...headers };
  }
  const out: Record<string, string> = { ...(headers ?? {}) };
  for (const [k, v] of Object.entries(metadata)) out[METADATA_HEADER_PREFIX + k] = v;
  return out;
}
