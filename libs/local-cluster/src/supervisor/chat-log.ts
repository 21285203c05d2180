/**
 * The chat as the cluster delivered it: one entry per message, with every node it arrived at
 * (hops, latency, the peer it came from), the last {@link MAX_MESSAGES_PER_ROOM} per room. A
 * message is known by its room and id together: ids count per topic (`origin/epoch/seq`), so
 * two rooms may carry the same id.
 */
import type { NodeEvent } from '../protocol.js';

/** Messages kept per room. */
export const MAX_MESSAGES_PER_ROOM = 200;

/** One node a message arrived at. */
export interface ChatArrival {
  readonly node: string;
  /** Tree links travelled; -1: pulled by durable catch-up. */
  readonly hops: number;
  readonly latencyMs: number;
  readonly receivedFrom: string;
}

/** One chat message and where it arrived. */
export interface ChatMessage {
  readonly id: string;
  readonly room: string;
  /** The node it was sent from. */
  readonly origin: string;
  readonly text: string;
  readonly publishedAtMs: number;
  readonly arrivals: ChatArrival[];
}

/** What a message is known by: its room and its id (ids count per topic). */
export function messageKey(room: string, id: string): string {
  return `${room}\u0000${id}`;
}

export class ChatLog {
  private readonly byId = new Map<string, ChatMessage>();
  private readonly byRoom = new Map<string, ChatMessage[]>();

  /** Records that `node` delivered a message; returns its entry. */
  add(node: string, d: Extract<NodeEvent, { kind: 'delivery' }>): ChatMessage {
    const key = messageKey(d.topic, d.id);
    let m = this.byId.get(key);
    if (m === undefined) {
      m = {
        id: d.id,
        room: d.topic,
        origin: d.origin,
        text: d.text,
        publishedAtMs: d.publishedAtMs,
        arrivals: [],
      };
      this.byId.set(key, m);
      let list = this.byRoom.get(d.topic);
      if (list === undefined) this.byRoom.set(d.topic, (list = []));
      list.push(m);
      if (list.length > MAX_MESSAGES_PER_ROOM) {
        const old = list.shift()!;
        this.byId.delete(messageKey(old.room, old.id));
      }
    }
    // A node restarted with an empty seen set may deliver a message again: one arrival each.
    if (!m.arrivals.some((a) => a.node === node)) {
      m.arrivals.push({
        node,
        hops: d.hops,
        latencyMs: d.latencyMs,
        receivedFrom: d.receivedFrom,
      });
    }
    return m;
  }

  /** The messages of `room`, oldest first (all rooms when undefined, by publish time). */
  recent(room?: string): ChatMessage[] {
    if (room !== undefined) return [...(this.byRoom.get(room) ?? [])];
    return [...this.byId.values()].sort((a, b) => a.publishedAtMs - b.publishedAtMs);
  }
}
