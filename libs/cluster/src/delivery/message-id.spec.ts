import { describe, expect, it } from '@jest/globals';
import type { MessageId } from '@plumtree/plumtree';
import { formatMessageId, parseMessageId } from './message-id.js';

const id: MessageId = { origin: 'node/a', epoch: 1_764_000_000_000, seq: 42 };

describe('message ids', () => {
  it('format and parse round-trip, origins with slashes included', () => {
    const text = formatMessageId(id);
    expect(text).toBe('node/a/1764000000000/42');
    expect(parseMessageId(text)).toEqual(id);
  });

  it.each(['', 'a', 'a/1', 'a/x/1', 'a/1/0', 'a/1/-1', '/1'])('rejects %j', (s) => {
    expect(parseMessageId(s)).toBeNull();
  });
});
