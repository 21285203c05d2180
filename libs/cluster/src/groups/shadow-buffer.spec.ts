import { describe, expect, it } from '@jest/globals';
import { ShadowBuffer } from './shadow-buffer.js';

const limits = { maxEntries: 3, maxBytes: 100, maxAckedKeys: 2 };

describe('shadow buffer', () => {
  it('holds messages for their owner until acknowledged', () => {
    const b = new ShadowBuffer<string>(limits);
    expect(b.add('k1', 'x', 10, 'v1', 0)).toBe(true);
    expect(b.add('k2', 'y', 10, 'v2', 0)).toBe(true);
    b.ack('k1');
    expect(b.counters()).toMatchObject({ held: 1, heldBytes: 10, shadowed: 2, acknowledged: 1 });
    expect(b.holdsFor('x')).toBe(false);
    expect(b.holdsFor('y')).toBe(true);
  });

  it('an acknowledgement that overtakes its message clears it on arrival (bounded memory)', () => {
    const b = new ShadowBuffer<string>(limits);
    b.ack('early');
    expect(b.add('early', 'x', 10, 'v', 0)).toBe(false);
    expect(b.counters()).toMatchObject({ held: 0, acknowledged: 1 });
    // Only maxAckedKeys are remembered: the oldest is forgotten.
    b.ack('a1');
    b.ack('a2');
    b.ack('a3');
    expect(b.add('a1', 'x', 1, 'v', 0)).toBe(true);
    expect(b.add('a3', 'x', 1, 'v', 0)).toBe(false);
  });

  it('drops the oldest over the count or byte cap, and counts the drops', () => {
    const b = new ShadowBuffer<string>(limits);
    for (let i = 0; i < 5; i++) b.add(`k${i}`, 'x', 10, `v${i}`, i);
    expect(b.counters()).toMatchObject({ held: 3, dropped: 2 });
    b.add('big', 'x', 95, 'v', 9);
    expect(b.counters()).toMatchObject({ held: 1, heldBytes: 95, dropped: 5 });
  });

  it('reassigns selected entries: those given to this node are removed and returned in age order', () => {
    const b = new ShadowBuffer<string>({ ...limits, maxEntries: 10 });
    b.add('k1', 'dead', 1, 'v1', 0);
    b.add('k2', 'alive', 1, 'v2', 1);
    b.add('k3', 'dead', 1, 'v3', 2);
    b.add('k4', 'dead', 1, 'v4', 3);
    const mine = b.reassign(
      (e) => e.owner === 'dead',
      (e) => (e.key === 'k3' ? 'other' : 'me'),
      'me',
      50,
    );
    expect(mine.map((e) => e.value)).toEqual(['v1', 'v4']);
    expect(b.holdsFor('dead')).toBe(false);
    expect(b.holdsFor('other')).toBe(true);
    expect(b.counters().held).toBe(2);
  });
});
