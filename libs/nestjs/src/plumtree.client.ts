/**
 * `PlumtreeClient`: the Nest `ClientProxy` of this transport, for
 * `ClientsModule.register([{ name, customClass: PlumtreeClient, options }])` or direct use.
 * `emit(topic, data)` publishes; `send(topic, data)` sends a request to ONE live subscriber of
 * the topic (lowest SWIM RTT, then random), whose `@MessagePattern` handler's reply comes back
 * directly; an attempt that times out (`requestTimeoutMs`) or whose responder dies is retried
 * once on another subscriber, then the observable errors with `RequestTimeoutError`.
 * Metadata set by `setOnDispatchHook` (Nest 12's `ClientProxy#setOnDispatchHook`) reaches the
 * handler's `PlumtreeContext.getMetadata()`, for requests and events alike.
 */
import { ClientProxy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import type { PlumtreeNode } from '@plumtree/cluster';
import { joinHeaders } from './plumtree.context.js';
import type { PlumtreeModuleOptions } from './plumtree-module-options.js';
import { PlumtreeNotStartedError } from './plumtree.errors.js';
import { serverNode } from './server-registry.js';
import { startPlumtreeNode } from './start-node.js';
import type { PlumtreeStatus } from './plumtree.server.js';

/**
 * Options of a {@link PlumtreeClient}: the module options (its own node joins the cluster as a
 * member), or `{ node }` to use a started node, or `{ shareServer: true, name }` / `{ server }`
 * to use a PlumtreeServer's node; `requestTimeoutMs` and `requestMaxAttempts` apply to all.
 */
export type PlumtreeClientOptions = PlumtreeModuleOptions & { readonly node?: PlumtreeNode };

/** The client proxy of this transport; see the file comment. */
export class PlumtreeClient extends ClientProxy {
  // Status values are PlumtreeStatus ('connecting' | 'connected' | 'disconnected'); the base type
  // stays `string` so the class fits `ClientsModule.register({ customClass })`.

  private node: PlumtreeNode | undefined;
  private connecting: Promise<PlumtreeNode> | undefined;
  private readonly ownsNode: boolean;

  constructor(private readonly options: PlumtreeClientOptions) {
    super();
    this.ownsNode =
      options.node === undefined && options.shareServer !== true && options.server === undefined;
  }

  /** Start (or find) the node; called by Nest before the first `send`/`emit`. */
  connect(): Promise<PlumtreeNode> {
    if (this.node !== undefined) return Promise.resolve(this.node);
    this.connecting ??= (async () => {
      this.setStatus('connecting');
      try {
        const o = this.options;
        const node =
          o.node ??
          (o.server !== undefined
            ? await o.server.whenListening()
            : o.shareServer === true
              ? await serverNode(o.name!)
              : await startPlumtreeNode(withoutNode(o)));
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
    let cancelled = false;
    const node = this.node;
    if (node === undefined) {
      callback({ err: new PlumtreeNotStartedError('PlumtreeClient') });
      return () => undefined;
    }
    const topic = this.normalizePattern(packet.pattern);
    node
      .request(topic, packet.data, {
        ...(this.options.requestTimeoutMs !== undefined
          ? { timeoutMs: this.options.requestTimeoutMs }
          : {}),
        ...(this.options.requestMaxAttempts !== undefined
          ? { maxAttempts: this.options.requestMaxAttempts }
          : {}),
        ...(packet.metadata !== undefined ? { metadata: packet.metadata } : {}),
      })
      .then(
        (response) => {
          if (cancelled) return;
          callback({ response });
          callback({ isDisposed: true });
        },
        (err: unknown) => {
          if (!cancelled) callback({ err });
        },
      );
    // Unsubscribing only drops the reply: the request may already run on the responder.
    return () => {
      cancelled = true;
    };
  }

  protected async dispatchEvent<T = unknown>(packet: ReadPacket): Promise<T> {
    const node = this.node ?? (await this.connect());
    const topic = this.normalizePattern(packet.pattern);
    const headers = joinHeaders(undefined, packet.metadata);
    return (await node.publish(topic, packet.data, headers !== undefined ? { headers } : {})) as T;
  }
}

function withoutNode(o: PlumtreeClientOptions): PlumtreeModuleOptions {
  const rest: Record<string, unknown> = { ...o };
  delete rest['node'];
  return rest as PlumtreeModuleOptions;
}
