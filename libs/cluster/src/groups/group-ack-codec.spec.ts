import { describe, expect, it } from '@jest/globals';
import { decodeGroupAck, encodeGroupAck, MAX_ACK_IDS } from './group-ack-codec.js';

describe('group acknowledgement codec', () => {
  it('round-trips runs of sequence numbers', () => {
    const frame = {
      topic: 'orders.created',
      group: 'billing',
      runs: [
        { origin: 'pub-ü', epoch: 1_764_000_000_000, seqs: [1, 2, 300, 70_000] },
        { origin: 'other', epoch: 5, seqs: [9] },
      ],
    };
    expect(decodeGroupAck(encodeGroupAck(frame))).toEqual(frame);
  });

  it('rejects malformed frames, never throwing', () => {
    const ok = encodeGroupAck({
      topic: 't',
      group: 'g',
      runs: [{ origin: 'o', epoch: 1, seqs: [1] }],
    });
    for (let len = 0; len < ok.length; len++)
      expect(decodeGroupAck(ok.subarray(0, len))).toBeNull();
    expect(decodeGroupAck(Uint8Array.of(...ok, 0))).toBeNull();
    const zeroDelta = Uint8Array.from(ok);
    zeroDelta[zeroDelta.length - 1] = 0;
    expect(decodeGroupAck(zeroDelta)).toBeNull();
  });

  it('the encoder refuses what the decoder would refuse', () => {
    const seqs = Array.from({ length: MAX_ACK_IDS + 1 }, (_, i) => i + 1);
    expect(() =>
      encodeGroupAck({ topic: 't', group: 'g', runs: [{ origin: 'o', epoch: 1, seqs }] }),
    ).toThrow(RangeError);
    expect(() =>
      encodeGroupAck({ topic: 't', group: 'g', runs: [{ origin: 'o', epoch: 1, seqs: [2, 2] }] }),
    ).toThrow(RangeError);
  });
});
