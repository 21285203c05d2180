import { describe, expect, it } from '@jest/globals';
import { FrameType, type PlumtreeMessage } from '@plumtree/plumtree';
import { DeferredControl } from './deferred-control.js';

describe('DeferredControl', () => {
  it('keeps refused PRUNEs and announcements until the transport takes them, PRUNEs first', () => {
    const d = new DeferredControl(3, 2);
    const e = (seq: number) => ({ id: { origin: 'o', epoch: 0, seq }, hops: 1 });
    d.addAnnouncements('p', 't', [e(1), e(2), e(3), e(4)]);
    d.addPrune('p', 't');
    expect(d.dropped).toBe(1);
    const sent: PlumtreeMessage[] = [];
    let room = 2;
    const trySend = (_peer: string, m: PlumtreeMessage): boolean => {
      if (room === 0) return false;
      room--;
      sent.push(m);
      return true;
    };
    d.flush(trySend);
    expect(sent).toEqual([
      { type: FrameType.Prune, topic: 't' },
      { type: FrameType.IHave, topic: 't', entries: [e(1), e(2)] },
    ]);
    expect(d.isEmpty).toBe(false);
    room = 10;
    d.flush(trySend);
    expect(sent[2]).toEqual({ type: FrameType.IHave, topic: 't', entries: [e(3)] });
    expect(d.isEmpty).toBe(true);
  });

  it('forgets a peer that went away', () => {
    const d = new DeferredControl(10, 10);
    d.addPrune('p', 't');
    d.forget('p');
    expect(d.isEmpty).toBe(true);
  });
});
