/**
 * Catch-up, serving side: the limits of an answered page, through the replicator on the
 * in-memory harness (test/support/durable-replicator-harness.ts).
 */
import { describe, expect, it } from '@jest/globals';
import {
  CATCHUP_RESPONSE_KIND,
  decodeCatchupFrame,
  encodeCatchupRequest,
  type CatchupResponse,
} from './catchup-codec.js';
import {
  rec,
  TestNetwork,
  TestNode,
  TOPIC,
} from '../../../../test/support/durable-replicator-harness.js';

describe('DurableReplicator serving catch-up', () => {
  it('clamps a request asking for huge limits to its own caps and the frame size', async () => {
    const net = new TestNetwork();
    const a = net.add('a', { serveMaxMessages: 20, maxFrameBytes: 64 * 1024 });
    for (let s = 1; s <= 100; s++) a.live(rec('p', s));
    await net.clock.run();
    const frames: Uint8Array[] = [];
    net.nodes.set('probe', {
      replicator: { onFrame: (_p: string, f: Uint8Array) => frames.push(f) },
    } as unknown as TestNode);
    const ask = (maxMessages: number, maxBytes: number): void => {
      a.replicator.onFrame(
        'probe',
        encodeCatchupRequest({ requestId: 1, topic: TOPIC, marks: [], maxMessages, maxBytes }),
      );
    };
    ask(0xffffffff, 0xffffffff);
    await net.clock.run(0);
    let r = decodeCatchupFrame(frames.pop()!) as CatchupResponse;
    expect(r.kind).toBe(CATCHUP_RESPONSE_KIND);
    expect(r.records).toHaveLength(20);
    expect(r.more).toBe(true);

    // Big records: the frame cap binds before the message cap.
    const big = net.add('big', { maxFrameBytes: 4096 });
    for (let s = 1; s <= 10; s++) big.live({ ...rec('p', s), payload: new Uint8Array(1000) });
    await net.clock.run();
    big.replicator.onFrame(
      'probe',
      encodeCatchupRequest({
        requestId: 2,
        topic: TOPIC,
        marks: [],
        maxMessages: 0xffffffff,
        maxBytes: 0xffffffff,
      }),
    );
    await net.clock.run(0);
    const bytes = frames.pop()!;
    expect(bytes.length).toBeLessThanOrEqual(4096);
    r = decodeCatchupFrame(bytes) as CatchupResponse;
    expect(r.records.map((x) => x.seq)).toEqual([1, 2, 3]);
    expect(r.more).toBe(true);
    // Zero limits still make progress: one record.
    ask(0, 0);
    await net.clock.run(0);
    r = decodeCatchupFrame(frames.pop()!) as CatchupResponse;
    expect(r.records).toHaveLength(1);
  });
});
