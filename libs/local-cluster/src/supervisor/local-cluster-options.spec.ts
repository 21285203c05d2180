import { describe, expect, it } from '@jest/globals';
import { isNodeReport, isNodeRequest } from '../protocol.js';
import {
  DEFAULT_ROOMS,
  defaultInitialRooms,
  LocalClusterError,
  resolveLocalClusterOptions,
} from './local-cluster-options.js';

describe('resolveLocalClusterOptions', () => {
  it('defaults: 5 nodes, the three rooms, everyone in chat.general, halves in ops and random', () => {
    const o = resolveLocalClusterOptions({ seed: 7 });
    expect(o.nodes).toBe(5);
    expect(o.rooms).toBe(DEFAULT_ROOMS);
    expect([0, 1, 2, 3, 4].map((i) => o.initialRooms(i, 5))).toEqual([
      ['chat.general', 'chat.ops'],
      ['chat.general', 'chat.ops'],
      ['chat.general', 'chat.ops'],
      ['chat.general', 'chat.random'],
      ['chat.general', 'chat.random'],
    ]);
    expect(defaultInitialRooms(0, 1)).toEqual(['chat.general', 'chat.ops']);
  });

  it('own rooms: every node in all of them unless told otherwise', () => {
    const o = resolveLocalClusterOptions({ rooms: [{ name: 'a.b', durable: false }] });
    expect(o.initialRooms(3, 4)).toEqual(['a.b']);
  });

  it('names every problem at once', () => {
    let err: unknown;
    try {
      resolveLocalClusterOptions({
        nodes: 0,
        rooms: [
          { name: 'ok', durable: false },
          { name: 'ok', durable: true },
          { name: 'chat..empty', durable: false },
        ],
        seed: -1,
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LocalClusterError);
    const lines = (err as Error).message.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^nodes must be an integer from 1 to 16/);
    expect(lines.some((l) => l.includes('"ok" is named twice'))).toBe(true);
    expect(lines.some((l) => l.startsWith('room "chat..empty"'))).toBe(true);
    expect(lines.some((l) => l.startsWith('seed'))).toBe(true);
  });

  it('refuses initial rooms that are not rooms', () => {
    expect(() =>
      resolveLocalClusterOptions({ rooms: DEFAULT_ROOMS, initialRooms: () => ['chat.nope'] }),
    ).toThrow(/initialRooms\(0\) names unknown room chat.nope/);
  });
});

describe('the IPC message guards', () => {
  it('accept the known types only', () => {
    expect(isNodeReport({ type: 'ready', address: 'x', pid: 1 })).toBe(true);
    expect(isNodeReport({ type: 'other' })).toBe(false);
    expect(isNodeReport(null)).toBe(false);
    expect(isNodeRequest({ type: 'join', room: 'r', id: 1 })).toBe(true);
    expect(isNodeRequest({ type: 'join', room: 'r' })).toBe(false);
    expect(isNodeRequest({ type: 'rm -rf', id: 1 })).toBe(false);
  });
});
