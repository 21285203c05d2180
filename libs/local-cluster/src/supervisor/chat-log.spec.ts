import { describe, expect, it } from '@jest/globals';
import type { NodeEvent } from '../protocol.js';
import { ChatLog, MAX_MESSAGES_PER_ROOM } from './chat-log.js';

function delivery(
  id: string,
  topic = 'chat.general',
  hops = 1,
): Extract<NodeEvent, { kind: 'delivery' }> {
  return {
    kind: 'delivery',
    topic,
    id,
    origin: 'node-1',
    text: `text of ${id}`,
    hops,
    receivedFrom: 'node-1',
    publishedAtMs: Number(id.replace(/\D/g, '')) || 0,
    latencyMs: 3,
  };
}

describe('ChatLog', () => {
  it('gathers the arrivals of a message, one per node', () => {
    const log = new ChatLog();
    log.add('node-1', delivery('m1', 'chat.general', 0));
    log.add('node-2', delivery('m1'));
    // A restarted node (empty seen set) may deliver it again: still one arrival.
    const m = log.add('node-2', delivery('m1', 'chat.general', -1));
    expect(m.arrivals.map((a) => [a.node, a.hops])).toEqual([
      ['node-1', 0],
      ['node-2', 1],
    ]);
    expect(m.text).toBe('text of m1');
  });

  it('tells apart two rooms carrying the same id (ids count per topic)', () => {
    const log = new ChatLog();
    log.add('node-1', delivery('m1', 'chat.general'));
    log.add('node-1', delivery('m1', 'chat.ops'));
    expect(log.recent('chat.general')).toHaveLength(1);
    expect(log.recent('chat.ops')).toHaveLength(1);
    expect(log.recent('chat.ops')[0]!.arrivals).toHaveLength(1);
  });

  it('keeps rooms apart, in order, the last 200 of each', () => {
    const log = new ChatLog();
    for (let i = 1; i <= MAX_MESSAGES_PER_ROOM + 3; i++)
      log.add('node-1', delivery(`m${i.toString()}`));
    log.add('node-1', delivery('m999', 'chat.ops'));
    const general = log.recent('chat.general');
    expect(general).toHaveLength(MAX_MESSAGES_PER_ROOM);
    expect(general[0]!.id).toBe('m4');
    expect(log.recent('chat.ops').map((m) => m.id)).toEqual(['m999']);
    expect(log.recent()).toHaveLength(MAX_MESSAGES_PER_ROOM + 1);
    expect(log.recent('chat.none')).toEqual([]);
  });
});
