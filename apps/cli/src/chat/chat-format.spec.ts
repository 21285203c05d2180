import { describe, expect, it } from '@jest/globals';
import type { ChatMessage, NodeView, RoomView } from '@plumtree/local-cluster';
import { logLine, messageLine, metricsRow, nodeState, statusLine } from './chat-format.js';

const counters = {
  published: 0,
  delivered: 4,
  duplicates: 1,
  gossipSent: 5,
  gossipReceived: 3,
  ihaveSent: 0,
  graftsSent: 2,
  prunesSent: 1,
  framesDropped: 0,
  packetsLost: 0,
};

function node(over: Partial<NodeView> = {}): NodeView {
  return {
    name: 'node-2',
    address: '127.0.0.1:1',
    pid: 1,
    process: 'running',
    swim: 'alive',
    seenBy: {},
    rooms: ['chat.general'],
    faults: { packetLoss: 0, frameLoss: 0, blocked: [] },
    counters,
    rmr: 0.5,
    eagerAll: false,
    ...over,
  };
}

const room: RoomView = {
  name: 'chat.general',
  durable: true,
  members: ['node-1', 'node-2', 'node-3'],
  edges: [
    { a: 'node-1', b: 'node-2', kind: 'eager', eagerAt: 'both' },
    { a: 'node-2', b: 'node-3', kind: 'lazy', eagerAt: 'none' },
  ],
  liveMembers: ['node-1', 'node-2', 'node-3'],
  eagerComponents: 2,
  spanning: false,
  connected: true,
};

const message: ChatMessage = {
  id: 'm',
  room: 'chat.general',
  origin: 'node-1',
  text: 'hi',
  publishedAtMs: 0,
  arrivals: [
    { node: 'node-1', hops: 0, latencyMs: 0, receivedFrom: 'node-1' },
    { node: 'node-2', hops: 2, latencyMs: 7, receivedFrom: 'node-3' },
    { node: 'node-4', hops: -1, latencyMs: 900, receivedFrom: 'node-2' },
  ],
};

describe('chat-format', () => {
  it('a message as each user received it', () => {
    expect(messageLine(message, 'node-1').detail).toBe('sent here · reached 3');
    expect(messageLine(message, 'node-2').detail).toBe('via node-3 · 2 hops · 7 ms · reached 3');
    const caught = messageLine(message, 'node-4');
    expect([caught.detail, caught.catchUp]).toEqual([
      'catch-up from node-2 · 900 ms · reached 3',
      true,
    ]);
    const missed = messageLine(message, 'node-5');
    expect([missed.detail, missed.received]).toEqual(['not received by node-5 · reached 3', false]);
  });

  it('node states: OFFLINE when the process is down, else the SWIM state', () => {
    expect(nodeState(node()).word).toBe('ONLINE');
    expect(nodeState(node({ process: 'killed', swim: 'dead' })).word).toBe('OFFLINE');
    expect(nodeState(node({ process: 'restarting' })).word).toBe('STARTING');
    expect(nodeState(node({ swim: 'suspect' }))).toEqual({ word: 'SUSPECT', colour: 'yellow' });
  });

  it('the status line names node, state, loss, fanout and the tree', () => {
    const lossy = node({ faults: { packetLoss: 0.2, frameLoss: 0.2, blocked: [] } });
    expect(statusLine(lossy, room, false)).toBe(
      'you are node-2 · ONLINE · loss 20% · default fanout · tree in 2 parts',
    );
    expect(statusLine(node(), { ...room, spanning: true }, true)).toBe(
      'you are node-2 · ONLINE · loss 0% · trees all eager · tree spans 3 live',
    );
  });

  it('a metrics row, with the eager and lazy links of the node in the room', () => {
    expect(metricsRow(node(), room)).toEqual([
      'node-2',
      'online',
      '5',
      '4',
      '1',
      '2',
      '1',
      '0.50',
      '1/1',
    ]);
  });

  it('log lines by kind; chat deliveries are not log lines', () => {
    expect(
      logLine({ kind: 'tree', type: 'graft', topic: 't', peer: 'node-3', node: 'node-1', atMs: 0 }),
    ).toMatchObject({
      node: 'node-1',
      label: 'GRAFT',
      colour: 'cyan',
      text: '-> node-3 t',
    });
    expect(
      logLine({ kind: 'member', type: 'failed', member: 'node-3', node: 'node-1', atMs: 0 }),
    ).toMatchObject({
      label: 'FAILED',
      colour: 'red',
    });
    expect(logLine({ kind: 'cluster', level: 'warn', text: 'x', atMs: 0 })).toMatchObject({
      label: 'WARN',
      node: '',
    });
    expect(
      logLine({
        kind: 'delivery',
        topic: 't',
        id: 'i',
        origin: 'o',
        text: 'x',
        hops: 1,
        receivedFrom: 'o',
        publishedAtMs: 0,
        latencyMs: 0,
        node: 'n',
        atMs: 0,
      }),
    ).toBeUndefined();
  });
});
