/**
 * The RPC context of a Plumtree message, given to `@Ctx()` in `@EventPattern`,
 * `@MessagePattern` and `@PlumtreeSubscribe` handlers.
 */
import { BaseRpcContext } from '@nestjs/microservices';
import type { Delivery, RpcRequest } from '@plumtree/cluster';
import { METADATA_HEADER_PREFIX } from './plumtree.constants.js';

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

/** `@Ctx()` of Plumtree handlers: topic, message id, origin, hops, headers and metadata. */
export class PlumtreeContext extends BaseRpcContext<PlumtreeContextArgs> {
  /** The context of a delivered event. */
  static fromDelivery(d: Delivery): PlumtreeContext {
    const { headers, metadata } = splitHeaders(d.headers);
    return new PlumtreeContext([
      { topic: d.topic, id: d.id, origin: d.origin, hops: d.hops, headers, metadata, delivery: d },
    ]);
  }

  /** The context of an incoming request. */
  static fromRequest(r: RpcRequest): PlumtreeContext {
    return new PlumtreeContext([
      {
        topic: r.topic,
        id: `${r.from}/rpc/${r.requestId}`,
        origin: r.from,
        hops: 0,
        headers: r.headers,
        metadata: r.metadata,
      },
    ]);
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
