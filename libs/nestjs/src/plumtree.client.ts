/**
 * `PlumtreeClient`: the Nest `ClientProxy` of this transport, for
 * `ClientsModule.register([{ name, customClass: PlumtreeClient, options }])`,
 * `ClientProxyFactory.create({ customClass: PlumtreeClient, options })` or direct use.
 * `emit(pattern, data)` publishes; `send(pattern, data)` sends a request to ONE live responder
 * of the pattern's topic (this node first when it answers it, e.g. with `shareServer`; else the
 * lowest SWIM RTT, then random), and emits every value of its reply: a plain value, a promise's
 * value, or each value of a handler's Observable, then completes. Errors are what the handler
 * failed with, as Nest's transports deliver them (an `RpcException`'s object, Nest's
 * `{ status: 'error', message }`), or this transport's own errors (`NoRespondersError`,
 * `RequestTimeoutError`, `PayloadTooLargeError`, ...). `requestTimeoutMs`, `requestMaxAttempts`
 * and `requestRetryOnTimeout` come from the options. Metadata set by `setOnDispatchHook` reaches
 * the handler's `PlumtreeContext.getMetadata()`, for requests and events alike; headers given
 * with a `PlumtreeRecordBuilder` record reach `getHeaders()`. With `@opentelemetry/api` installed,
 * the active trace context rides along in the headers of every `emit` and `send`
 * (delivery/trace-context.ts).
 */
import {
  ClientProxy,
  type MsPattern,
  type ReadPacket,
  type WritePacket,
} from '@nestjs/microservices';
import { RequestHandlerError, type PlumtreeNode, type ReadyOptions } from '@plumtree/cluster';
import { loadTracing, withTraceContext } from './delivery/trace-context.js';
import { joinHeaders } from './plumtree.context.js';
import { topicOfRoute } from './pattern-topic.js';
import { unwrapRecord } from './plumtree-record.builder.js';
import { requestOptionsOf, type PlumtreeModuleOptions } from './plumtree-module-options.js';
import { PlumtreeNotStartedError } from './plumtree.errors.js';
import { serverNode } from './server-registry.js';
import { startPlumtreeNode } from './start-node.js';
import type { PlumtreeStatus } from './plumtree.server.js';

/**
 * Options of a {@link PlumtreeClient}: the module options (its own node joins the cluster as a
 * member), or `{ node }` to use a started node, or `{ shareServer: true, name }` / `{ server }`
 * to use a PlumtreeServer's node; the request options apply to all.
 */
export type PlumtreeClientOptions = PlumtreeModuleOptions & { readonly node?: PlumtreeNode };

/** The client proxy of this transport; see the file comment. */
export class PlumtreeClient extends ClientProxy {
  // Status values are PlumtreeStatus ('connecting' | 'connected' | 'disconnected'); the base type
  // stays `string` so the class fits `ClientsModule.register({ customClass })`.

  private node: PlumtreeNode | undefined;
  private connecting: Promise<PlumtreeNode> | undefined;
  private readonly ownsNode: boolean;

  constructor(private readonly options: PlumtreeClientOptions = {}) {
    super();
    this.ownsNode =
      options.node === undefined && options.shareServer !== true && options.server === undefined;
  }

  /**
   * Start (or find) the node; called by Nest before the first `send`/`emit`. Rejects with a
   * `PlumtreeStartError` (`code: 'ECONNREFUSED'` when no seed answered) and starts over on the
   * next call. A client's own node tries its seeds once unless the options set `joinTimeoutMs`
   * (`joinTimeoutMs: 0` by default here): a `send` fails fast while the cluster is down, as with
   * Nest's own transports, and the next one connects again.
   */
  connect(): Promise<PlumtreeNode> {
    if (this.node !== undefined) return Promise.resolve(this.node);
    this.connecting ??= (async () => {
      this.setStatus('connecting');
      try {
        await loadTracing();
        const o = this.options;
        const node =
          o.node ??
          (o.server !== undefined
            ? await o.server.whenListening()
            : o.shareServer === true
              ? await serverNode(o.name!)
              : await startPlumtreeNode({ joinTimeoutMs: 0, ...withoutNode(o) }));
        this.node = node;
        this.setStatus('connected');
        return node;
      } catch (e) {
        this.connecting = undefined;
        this.setStatus('disconnected');
        throw e;
      }
    })();
    return this.connecting;
  }

  /**
   * Resolves once an `emit` on `pattern`'s topic reaches every subscriber: the directory lists at
   * least `subscribers` of it and the node's tree links for it are up (`PlumtreeNode.ready`).
   * Connects first when needed. Rejects with `ReadyTimeoutError` after `timeoutMs` (default 10 s).
   */
  async ready(pattern: MsPattern, options: ReadyOptions = {}): Promise<void> {
    const node = this.node ?? (await this.connect());
    await node.ready(topicOfRoute(this.normalizePattern(pattern)), options);
  }

  /** Leave the cluster gracefully when the client started its own node. */
  async close(): Promise<void> {
    const node = this.node;
    this.node = undefined;
    this.connecting = undefined;
    if (node !== undefined && this.ownsNode) await node.leave();
    this.setStatus('disconnected');
  }

  /** The node; throws before `connect`. */
  unwrap<T = PlumtreeNode>(): T {
    if (this.node === undefined) throw new PlumtreeNotStartedError('PlumtreeClient');
    return this.node as T;
  }

  private setStatus(status: PlumtreeStatus): void {
    this._status$.next(status);
  }

  protected publish(packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    const node = this.node;
    if (node === undefined) {
      callback({ err: new PlumtreeNotStartedError('PlumtreeClient') });
      return () => undefined;
    }
    const topic = topicOfRoute(this.normalizePattern(packet.pattern));
    const record = unwrapRecord(packet.data);
    const data = record.data;
    const headers = withTraceContext(record.headers);
    const options = requestOptionsOf(this.options, {
      ...(packet.metadata !== undefined ? { metadata: packet.metadata } : {}),
      ...(headers !== undefined ? { headers } : {}),
    });
    // Unsubscribing cancels: the responder unsubscribes its reply stream (a handler already
    // running is not stopped).
    const subscription = node.requestStream(topic, data, options).subscribe({
      next: (response) => callback({ response }),
      error: (err: unknown) => callback({ err: remoteErrorOf(err) }),
      complete: () => callback({ isDisposed: true }),
    });
    return () => subscription.unsubscribe();
  }

  protected async dispatchEvent<T = unknown>(packet: ReadPacket): Promise<T> {
    const node = this.node ?? (await this.connect());
    const topic = topicOfRoute(this.normalizePattern(packet.pattern));
    const record = unwrapRecord(packet.data);
    const headers = joinHeaders(withTraceContext(record.headers), packet.metadata);
    return (await node.publish(topic, record.data, headers !== undefined ? { headers } : {})) as T;
  }
}

/**
 * What a Nest client's `send` errors with: the value the remote handler failed with, as Nest's
 * transports deliver it; this transport's own errors as they are.
 */
export function remoteErrorOf(err: unknown): unknown {
  return err instanceof RequestHandlerError ? err.error : err;
}

function withoutNode(o: PlumtreeClientOptions): PlumtreeModuleOptions {
  const rest: Record<string, unknown> = { ...o };
  delete rest['node'];
  return rest as PlumtreeModuleOptions;
}
