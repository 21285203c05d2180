import { describe, expect, it } from '@jest/globals';
import { UsageError } from '../cli-args.js';
import { CHAT_MAX_NODES, parseChatArgs } from './chat-args.js';

describe('parseChatArgs', () => {
  it('defaults to 10 nodes and a temporary store', () => {
    expect(parseChatArgs([])).toEqual({ nodes: CHAT_MAX_NODES, dataDir: undefined });
    expect(parseChatArgs(['--nodes', '4', '--data-dir', '/tmp/x'])).toEqual({
      nodes: 4,
      dataDir: '/tmp/x',
    });
  });

  it('refuses what it cannot run, naming every problem', () => {
    expect(() => parseChatArgs(['--nodes', '11'])).toThrow(UsageError);
    expect(() => parseChatArgs(['--nodes', '1'])).toThrow(/from 2 to 10, got "1"/);
    expect(() => parseChatArgs(['--nodes', 'x', '--data-dir', ''])).toThrow(
      /--nodes[\s\S]*\n--data-dir/,
    );
    expect(() => parseChatArgs(['--colour'])).toThrow(UsageError);
  });
});
