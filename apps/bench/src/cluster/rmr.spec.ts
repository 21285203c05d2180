import { relativeMessageRedundancy } from './rmr.js';

describe('relativeMessageRedundancy', () => {
  it.each([
    // [duplicates, deliveries, rmr]
    [0, 160_000, 0],
    [40_000, 160_000, 0.25],
    // Flooding 8 subscribers over a full mesh: each node receives 8 copies (one per other node).
    [7 * 8 * 1_000, 8 * 1_000, 7],
  ])('%d duplicates over %d deliveries -> %d', (duplicates, deliveries, expected) => {
    expect(relativeMessageRedundancy(duplicates, deliveries)).toBe(expected);
  });

  it('counts messages, not frames: never below 0 when frames carry many messages', () => {
    // 160,000 deliveries carried in 3,200 GOSSIP_RUN frames, no duplicate: the frame-based
    // formula gave 3,200 / 160,000 - 1 = -0.98.
    expect(relativeMessageRedundancy(0, 160_000)).toBe(0);
  });

  it('is NaN when nothing was delivered', () => {
    expect(relativeMessageRedundancy(0, 0)).toBeNaN();
  });
});
