import { describe, expect, it } from '@jest/globals';
import { FRAME_HEADER_BYTES } from './frame-handshake.js';
import { PeerLink } from './peer-link.js';

function queued(link: PeerLink, ...frames: Uint8Array[]): void {
  for (const f of frames) {
    link.queue.push(f);
    link.queuedBytes += FRAME_HEADER_BYTES + f.length;
  }
}

describe('PeerLink.take', () => {
  it('takes the selected frames not yet written, keeps the others in order, and their bytes', () => {
    const link = new PeerLink('p');
    const f = (b: number, n: number): Uint8Array => new Uint8Array(n).fill(b);
    queued(link, f(1, 10), f(2, 20), f(1, 30), f(3, 40));
    // The first frame was written already (the slot before head).
    link.queue[0] = undefined;
    link.head = 1;
    link.queuedBytes -= FRAME_HEADER_BYTES + 10;

    const taken = link.take((x) => x[0] === 1 || x[0] === 3);

    expect(taken.map((x) => x.length)).toEqual([30, 40]);
    expect(link.pendingFrames).toBe(1);
    expect(link.queue[link.head]![0]).toBe(2);
    expect(link.queuedBytes).toBe(FRAME_HEADER_BYTES + 20);
  });

  it('leaves the queue as it is when nothing is selected', () => {
    const link = new PeerLink('p');
    queued(link, new Uint8Array(5));
    const before = link.queue;
    expect(link.take(() => false)).toEqual([]);
    expect(link.queue).toBe(before);
    expect(link.queuedBytes).toBe(FRAME_HEADER_BYTES + 5);
  });
});
