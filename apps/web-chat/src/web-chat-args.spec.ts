import { describe, expect, it } from '@jest/globals';
import { parseWebChatArgs, WebChatUsageError } from './web-chat-args.js';

describe('parseWebChatArgs', () => {
  it('defaults: 5 nodes on http://127.0.0.1:3000', () => {
    expect(parseWebChatArgs([])).toEqual({
      nodes: 5,
      port: 3000,
      host: '127.0.0.1',
      dataDir: undefined,
      help: false,
    });
    expect(
      parseWebChatArgs(['--nodes', '7', '--port', '0', '--host', '0.0.0.0', '-h']),
    ).toMatchObject({
      nodes: 7,
      port: 0,
      host: '0.0.0.0',
      help: true,
    });
  });

  it('names every problem at once', () => {
    expect(() => parseWebChatArgs(['--nodes', '17', '--port', '70000'])).toThrow(
      /--nodes: expected an integer from 1 to 16, got "17"\n--port: expected an integer from 0 to 65535/,
    );
    expect(() => parseWebChatArgs(['--nodes'])).toThrow(WebChatUsageError);
    expect(() => parseWebChatArgs(['extra'])).toThrow(WebChatUsageError);
  });
});
