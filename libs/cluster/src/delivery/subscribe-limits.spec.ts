import { afterEach, describe, expect, it } from '@jest/globals';
import { MemoryNetwork } from '@plumtree/swim';
import { DirectoryLimitError } from '../directory/index.js';
import { PlumtreeNode } from '../node/index.js';

import { FAST_SWIM } from '../../../../test/support/fast-swim.js';

describe('PlumtreeNode.subscribe at a directory limit', () => {
  let node: PlumtreeNode | undefined;
  afterEach(() => node?.close());

  it('errors the observer and leaves nothing behind, so the topic can be subscribed later', async () => {
    node = await PlumtreeNode.start({
      name: 'n0',
      persistence: false,
      transport: new MemoryNetwork().bind('10.0.0.1:7946'),
      swim: FAST_SWIM,
      directory: { maxSubscriptions: 1 },
    });
    const a = node.subscribe('a').subscribe();
    let error: unknown;
    node.subscribe('b').subscribe({ error: (e: unknown) => (error = e) });
    expect(error).toBeInstanceOf(DirectoryLimitError);
    expect(node.subscriptionsList()).toEqual(['a']);
    a.unsubscribe();
    const b = node.subscribe('b').subscribe();
    expect(node.subscriptionsList()).toEqual(['b']);
    expect(node.topics()).toEqual(['b']);
    b.unsubscribe();
  });
});
