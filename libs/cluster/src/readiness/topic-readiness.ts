/**
 * `ready(topic, { subscribers, timeoutMs })`: when a publish on a topic reaches every subscriber.
 *
 * A topic is ready at this node when both hold:
 * 1. directory: at least `subscribers` alive members subscribe to it (topics or matching
 *    patterns), this node included when it does;
 * 2. links, when this node is in the topic's tree and another subscriber is known: every eager
 *    peer's link is up, and at least one link (eager or lazy) is. A link is up when this node's
 *    frame connection to the peer is open AND the peer has sent it a Plumtree frame on the topic
 *    since the link formed (link-sync.ts: a peer answers a new link at once, so this says the
 *    peer holds this node as a neighbour in its own tree). Lazy peers are not waited for one by
 *    one: they only carry announcements, and link sync covers what they miss while forming.
 *    A node outside the tree (it publishes by hand-off) needs (1) only.
 *
 * After it resolves, a publish here enters a tree whose links are up at both ends; subscribers
 * whose own links are still forming get it through link sync once they link (link-sync.ts), so a
 * message published after `ready` reaches every subscriber that was in the directory when it was
 * published, also while the tree is still being pruned into shape.
 *
 * Waiters are checked every {@link READY_CHECK_MS} while any waits (one timer for all); the check
 * reads the directory, the core's neighbour sets and the transport, nothing on the hot path.
 */
import { PlumtreeNodeError } from '../plumtree-node-error.js';
import type { NodeLife } from '../node/node-lifecycle.js';

/** Period of the readiness check while someone waits. */
export const READY_CHECK_MS = 20;
/** Least time between two nudges of one peer's closed connection. */
export const READY_NUDGE_MS = 500;
/** Default of {@link ReadyOptions.timeoutMs}. */
export const DEFAULT_READY_TIMEOUT_MS = 10_000;

/** Options of `ready`. */
export interface ReadyOptions {
  /**
   * Subscribers the directory must list, this node included when it subscribes. Default 1 (a
   * publish finds someone).
   */
  readonly subscribers?: number;
  /** Reject with {@link ReadyTimeoutError} after this long. Default 10,000 ms. */
  readonly timeoutMs?: number;
}

/** `ready` ran out of time; `missing` says what was not there yet (one line each). */
export class ReadyTimeoutError extends PlumtreeNodeError {
  override readonly name = 'ReadyTimeoutError';
  constructor(
    readonly topic: string,
    readonly timeoutMs: number,
    readonly missing: readonly string[],
  ) {
    super(
      `topic ${JSON.stringify(topic)} not ready after ${timeoutMs.toString()} ms: ${missing.join('; ')}`,
    );
  }
}

/** What the engine reads of its node. */
export interface ReadinessHost {
  readonly life: NodeLife;
  /** Alive members other than this node whose subscriptions match `topic`. */
  subscribersOf(topic: string): string[];
  /** Whether a local subscription (topic or pattern) matches `topic`. */
  localMatches(topic: string): boolean;
  /** Whether this node is in `topic`'s tree. */
  inTree(topic: string): boolean;
  /** The topic's tree links at this node (eager, then lazy). */
  links(topic: string): { readonly eager: readonly string[]; readonly lazy: readonly string[] };
  /** Whether this node's frame connection to `peer` is open. */
  isConnected(peer: string): boolean;
  /**
   * Send `peer` an empty IHAVE on `topic`: the frame transport dials only when a frame waits, so
   * a link whose first dial failed (the peer was still starting) stays closed until something is
   * sent; this is that something.
   */
  nudge(topic: string, peer: string): void;
  /** Whether `peer` has sent a frame on `topic` since the link formed (link sync). */
  isHeard(topic: string, peer: string): boolean;
  /** Throws `InvalidTopicError` for a topic a publish would refuse. */
  checkTopic(topic: string): void;
  /** The error a waiter gets when the node closes. */
  closedError(): Error;
}

interface Waiter {
  readonly topic: string;
  readonly subscribers: number;
  readonly deadline: number;
  readonly timeoutMs: number;
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
}

/** See the file comment. */
export class TopicReadiness {
  private readonly waiters = new Set<Waiter>();
  private timer: NodeJS.Timeout | undefined;
  /** `topic \u0001 peer` -> last nudge, while someone waits (cleared when none does). */
  private readonly nudged = new Map<string, number>();

  constructor(private readonly host: ReadinessHost) {}

  /** Resolves once `topic` is ready (see the file comment); rejects on timeout or close. */
  whenReady(topic: string, options: ReadyOptions = {}): Promise<void> {
    const subscribers = options.subscribers ?? 1;
    const timeoutMs = options.timeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
    if (!Number.isInteger(subscribers) || subscribers < 0) {
      return Promise.reject(
        new RangeError(`subscribers must be an integer >= 0, got ${subscribers}`),
      );
    }
    if (!(timeoutMs >= 0)) {
      return Promise.reject(new RangeError(`timeoutMs must be >= 0, got ${timeoutMs}`));
    }
    try {
      this.host.checkTopic(topic);
    } catch (e) {
      return Promise.reject(e as Error);
    }
    if (this.host.life.stopping) return Promise.reject(this.host.closedError());
    if (this.problems(topic, subscribers).length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const deadline = Date.now() + timeoutMs;
      this.waiters.add({ topic, subscribers, deadline, timeoutMs, resolve, reject });
      this.timer ??= setInterval(this.check, READY_CHECK_MS);
    });
  }

  /**
   * What keeps `topic` from being ready for `subscribers`, one line each; empty when it is ready.
   */
  problems(topic: string, subscribers: number): string[] {
    const h = this.host;
    const others = h.subscribersOf(topic);
    const local = h.localMatches(topic);
    const count = others.length + (local ? 1 : 0);
    const out: string[] = [];
    if (count < subscribers) {
      const known = [...(local ? ['this node'] : []), ...others.sort()];
      out.push(
        `${count.toString()} of ${subscribers.toString()} subscribers in the directory` +
          (known.length > 0 ? ` (${known.join(', ')})` : ''),
      );
    }
    if (!local || others.length === 0) return out;
    if (!h.inTree(topic)) {
      out.push('this node has not joined the topic tree yet');
      return out;
    }
    const { eager, lazy } = h.links(topic);
    const up = (peer: string): boolean => h.isConnected(peer) && h.isHeard(topic, peer);
    if (!eager.some(up) && !lazy.some(up)) {
      out.push(
        eager.length + lazy.length === 0
          ? 'no tree link yet'
          : `no tree link up yet (links: ${[...eager, ...lazy].join(', ')})`,
      );
    }
    for (const peer of eager) {
      if (!h.isConnected(peer)) {
        out.push(`frame connection to eager peer ${peer} not open`);
        this.nudge(topic, peer);
      } else if (!h.isHeard(topic, peer))
        out.push(`eager peer ${peer} has not answered the link yet`);
    }
    return out;
  }

  /** Open a closed connection by sending on it, at most every {@link READY_NUDGE_MS}. */
  private nudge(topic: string, peer: string): void {
    const key = `${topic}\u0001${peer}`;
    const now = Date.now();
    const last = this.nudged.get(key);
    if (last !== undefined && now - last < READY_NUDGE_MS) return;
    this.nudged.set(key, now);
    this.host.nudge(topic, peer);
  }

  /** Reject every waiter (the node closes). */
  close(): void {
    this.stop();
    const error = this.host.closedError();
    for (const w of this.waiters) w.reject(error);
    this.waiters.clear();
  }

  private readonly check = (): void => {
    if (this.host.life.stopping) {
      this.close();
      return;
    }
    const now = Date.now();
    for (const w of this.waiters) {
      const missing = this.problems(w.topic, w.subscribers);
      if (missing.length === 0) {
        this.waiters.delete(w);
        w.resolve();
      } else if (now >= w.deadline) {
        this.waiters.delete(w);
        w.reject(new ReadyTimeoutError(w.topic, w.timeoutMs, missing));
      }
    }
    if (this.waiters.size === 0) this.stop();
  };

  private stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.nudged.clear();
  }
}
