/**
 * What a publish puts on the wire: the checked topic, the payload encoded once by the codec, the
 * headers (see outgoing-headers.ts) and a fresh id `(origin, epoch, seq)`.
 *
 * Sequence numbers count per topic and are kept when the node leaves and re-joins a topic, so an
 * id never repeats within an epoch and a receiver sees gaps per (origin, topic). Valid topics are
 * remembered (up to {@link TOPIC_CACHE_CAP}), so a hot publish skips the syntax check.
 */
import { FrameType, type GossipMessage } from '@plumtree/plumtree';
import { InvalidTopicError, validateTopic } from '../directory/index.js';
import type { PayloadCodec } from '../delivery/payload-codec.js';
import { PayloadTooLargeError } from '../node/errors.js';
import { outgoingHeaders } from './outgoing-headers.js';

/** Validated topics remembered, so a hot publish skips the syntax check. */
const TOPIC_CACHE_CAP = 4096;

/** Options of one `publish`. */
export interface PublishOptions {
  /** Application headers (string to string), carried end to end. At most 63, 16 KiB in all. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** Who publishes, and with what. */
export interface OutgoingMessagesOptions {
  /** This node: the origin of its ids. */
  readonly name: string;
  /** The incarnation of its ids. */
  readonly epoch: number;
  readonly codec: PayloadCodec;
  /** The Plumtree core's `maxMessageSize`: the largest encoded payload. */
  readonly maxMessageSize: number;
}

/** See the file comment. */
export class OutgoingMessages {
  private readonly seqs = new Map<string, number>();
  private readonly validTopics = new Set<string>();

  constructor(private readonly options: OutgoingMessagesOptions) {}

  /** Throws `InvalidTopicError` unless `topic` is a valid concrete topic. */
  checkTopic(topic: string): void {
    if (this.validTopics.has(topic)) return;
    const reason = typeof topic === 'string' ? validateTopic(topic) : 'not a string';
    if (reason !== null) throw new InvalidTopicError(String(topic), reason);
    if (this.validTopics.size >= TOPIC_CACHE_CAP) this.validTopics.clear();
    this.validTopics.add(topic);
  }

  /**
   * The message of one publish (hops 0, published now). Throws `InvalidTopicError`,
   * `InvalidHeadersError`, `PayloadTooLargeError`, or the codec's encode error.
   */
  build(
    topic: string,
    payload: unknown,
    headers: Readonly<Record<string, string>> | undefined,
  ): GossipMessage {
    const o = this.options;
    this.checkTopic(topic);
    const bytes = o.codec.encode(payload);
    if (!(bytes instanceof Uint8Array)) throw new TypeError('codec.encode must return bytes');
    if (bytes.length > o.maxMessageSize) {
      throw new PayloadTooLargeError(bytes.length, o.maxMessageSize);
    }
    const sent = outgoingHeaders(o.codec, payload, headers);
    return {
      type: FrameType.Gossip,
      topic,
      id: { origin: o.name, epoch: o.epoch, seq: this.nextSeq(topic) },
      hops: 0,
      publishedAtMs: Date.now(),
      ...(sent !== undefined ? { headers: sent } : {}),
      payload: bytes,
    };
  }

  private nextSeq(topic: string): number {
    const seq = (this.seqs.get(topic) ?? 0) + 1;
    this.seqs.set(topic, seq);
    return seq;
  }
}
