import { describe, expect, it } from '@jest/globals';
import { FrameType, type GossipMessage } from '../types.js';
import { decodeFrame, encodeFrame } from './frame-codec.js';
import { FRAME_DECODE_REASONS, type FrameDecodeReason } from './frame-errors.js';
import type { FrameLimits } from './frame-limits.js';

const bytes = (...parts: (number | string | number[])[]): Uint8Array =>
  new Uint8Array(
    parts.flatMap((p) =>
      typeof p === 'number' ? [p] : typeof p === 'string' ? [...Buffer.from(p, 'hex')] : p,
    ),
  );

// Building blocks (see the byte table in frame-codec.ts).
const GOSSIP_HDR = '01010001'; // v1, GOSSIP, hops 1
const TOPIC_T = '0174'; // "t"
const ID = '016e0001'; // origin "n", epoch 0, seq 1
const PUBLISHED = '00';
const NO_HEADERS = '00';
const EMPTY_PAYLOAD = '00';
const RUN_HDR = '01050001'; // v1, GOSSIP_RUN, hops 1; then TOPIC_T, ID (the first message's)
const RUN_MESSAGE = '010000' + EMPTY_PAYLOAD; // seq delta 1, time delta 0, no headers

interface Case {
  readonly name: string;
  readonly input: Uint8Array;
  readonly offset: number;
  readonly limits?: Partial<FrameLimits>;
}

/** Crafted inputs per reason; a Record, so adding a reason without a case fails to compile. */
const cases: Record<FrameDecodeReason, Case[]> = {
  truncated: [
    { name: 'empty input', input: bytes(), offset: 0 },
    { name: 'version only', input: bytes(1), offset: 1 },
    { name: 'GOSSIP hops cut', input: bytes('010100'), offset: 2 },
    { name: 'topic length beyond the end', input: bytes('0104', '0561'), offset: 2 },
    {
      name: 'varint cut after a continuation byte',
      input: bytes(GOSSIP_HDR, TOPIC_T, '016e80'),
      offset: 8,
    },
    {
      name: 'payload length beyond the end',
      input: bytes(GOSSIP_HDR, TOPIC_T, ID, PUBLISHED, NO_HEADERS, '05', 'aabb'),
      offset: 12,
    },
    {
      name: 'IHAVE count the remaining bytes cannot hold (rejected before allocating)',
      input: bytes('0102', TOPIC_T, 'e807', '016e0001'), // 1000 entries, 4 bytes left
      offset: 4,
    },
    { name: 'GRAFT count of 1 with no id', input: bytes('0103', TOPIC_T, '01'), offset: 4 },
    {
      name: 'run message count the remaining bytes cannot hold',
      input: bytes(RUN_HDR, TOPIC_T, ID, '0a', PUBLISHED),
      offset: 10,
    },
    {
      name: 'header count the remaining bytes cannot hold',
      input: bytes(GOSSIP_HDR, TOPIC_T, ID, PUBLISHED, '0a', '0000'),
      offset: 11,
    },
    {
      name: 'header value beyond the end',
      input: bytes(GOSSIP_HDR, TOPIC_T, ID, PUBLISHED, '01', '016b', '05', '61', EMPTY_PAYLOAD),
      offset: 14, // the value's length field
    },
  ],
  'too-large': [
    {
      name: 'frame above maxFrameBytes',
      input: bytes(GOSSIP_HDR, TOPIC_T, ID, PUBLISHED, NO_HEADERS, '02', 'aabb'),
      offset: 0,
      limits: { maxFrameBytes: 14 },
    },
  ],
  'unknown-version': [
    { name: 'version 0', input: bytes('0004', TOPIC_T), offset: 0 },
    { name: 'version 2', input: bytes('0204', TOPIC_T), offset: 0 },
    { name: 'version 255 alone', input: bytes(255), offset: 0 },
  ],
  'unknown-type': [
    { name: 'type 0', input: bytes('0100', TOPIC_T), offset: 1 },
    { name: 'type 6', input: bytes('0106', TOPIC_T), offset: 1 },
    { name: 'type 255', input: bytes('01ff'), offset: 1 },
  ],
  'bad-varint': [
    {
      name: 'non-minimal epoch (0x80 0x00)',
      input: bytes(GOSSIP_HDR, TOPIC_T, '016e', '8000', '01'),
      offset: 8,
    },
    {
      name: 'non-minimal seq (0x81 0x80 0x00)',
      input: bytes('0103', TOPIC_T, '01', '016e00', '818000'),
      offset: 8,
    },
    {
      name: 'epoch 2^53 (8th byte 0x10)',
      input: bytes('0103', TOPIC_T, '01', '016e', 'ffffffffffffff10', '01'),
      offset: 7,
    },
    {
      name: 'more than 8 bytes',
      input: bytes('0103', TOPIC_T, '01', '016e', '808080808080808001', '01'),
      offset: 7,
    },
    {
      name: 'non-minimal payload length',
      input: bytes(GOSSIP_HDR, TOPIC_T, ID, PUBLISHED, NO_HEADERS, '8000'),
      offset: 12,
    },
  ],
  'bad-utf8': [
    { name: 'topic byte 0xff', input: bytes('0104', '01ff'), offset: 3 },
    { name: 'overlong "/" (c0 af)', input: bytes('0104', '02c0af'), offset: 3 },
    { name: 'UTF-16 surrogate (ed a0 80)', input: bytes('0104', '03eda080'), offset: 3 },
    { name: 'above U+10FFFF (f4 90 80 80)', input: bytes('0104', '04f4908080'), offset: 3 },
    { name: 'cut sequence (e2 82)', input: bytes('0104', '02e282'), offset: 3 },
    { name: 'origin', input: bytes('0103', TOPIC_T, '01', '0280ff', '0001'), offset: 6 },
    {
      name: 'header key',
      input: bytes(GOSSIP_HDR, TOPIC_T, ID, PUBLISHED, '01', '01fe', '00', EMPTY_PAYLOAD),
      offset: 13,
    },
    {
      name: 'long header value with a bad byte at the end',
      input: bytes(
        GOSSIP_HDR,
        TOPIC_T,
        ID,
        PUBLISHED,
        '01',
        '016b',
        '46',
        '61'.repeat(69),
        'c3',
        EMPTY_PAYLOAD,
      ),
      offset: 15,
    },
  ],
  'limit-exceeded': [
    {
      name: 'topic above maxTopicBytes',
      input: bytes('0104', '03616263'),
      offset: 2,
      limits: { maxTopicBytes: 2 },
    },
    {
      name: 'header count above maxHeaders',
      input: bytes(
        GOSSIP_HDR,
        TOPIC_T,
        ID,
        PUBLISHED,
        '02',
        '0161',
        '00',
        '0162',
        '00',
        EMPTY_PAYLOAD,
      ),
      offset: 11,
      limits: { maxHeaders: 1 },
    },
    {
      name: 'header bytes above maxHeaderBytes (checked before the value is read)',
      input: bytes(GOSSIP_HDR, TOPIC_T, ID, PUBLISHED, '01', '0161', '03', '626364', EMPTY_PAYLOAD),
      offset: 12,
      limits: { maxHeaderBytes: 3 },
    },
    {
      name: 'payload above maxPayloadBytes',
      input: bytes(GOSSIP_HDR, TOPIC_T, ID, PUBLISHED, NO_HEADERS, '03', 'aabbcc'),
      offset: 12,
      limits: { maxPayloadBytes: 2 },
    },
    {
      name: 'payload length above the default 1 MiB in a short frame',
      input: bytes(GOSSIP_HDR, TOPIC_T, ID, PUBLISHED, NO_HEADERS, '818040'), // 2^20 + 1
      offset: 12,
    },
    {
      name: 'IHAVE entries above maxIHaveEntries',
      input: bytes('0102', TOPIC_T, '02', '016e00010100', '016e00020100'),
      offset: 4,
      limits: { maxIHaveEntries: 1 },
    },
    {
      name: 'IHAVE ids (counts summed) above maxIHaveIds',
      input: bytes('0102', TOPIC_T, '01', '016e0001', '03', '00'),
      offset: 9,
      limits: { maxIHaveIds: 2 },
    },
    {
      name: 'run messages above maxRunMessages',
      input: bytes(
        RUN_HDR,
        TOPIC_T,
        ID,
        '03',
        PUBLISHED,
        '00',
        EMPTY_PAYLOAD,
        RUN_MESSAGE,
        RUN_MESSAGE,
      ),
      offset: 10,
      limits: { maxRunMessages: 2 },
    },
    {
      name: 'GRAFT ids above maxGraftIds',
      input: bytes('0103', TOPIC_T, '02', '016e0001', '016e0002'),
      offset: 4,
      limits: { maxGraftIds: 1 },
    },
  ],
  'out-of-range': [
    { name: 'seq 0', input: bytes('0103', TOPIC_T, '01', '016e0000'), offset: 8 },
    {
      name: 'IHAVE hops 65536',
      input: bytes('0102', TOPIC_T, '01', '016e0001', '01', '808004'),
      offset: 10,
    },
    {
      name: 'IHAVE count 0',
      input: bytes('0102', TOPIC_T, '01', '016e0001', '00', '00'),
      offset: 9,
    },
    {
      name: 'a run of one message',
      input: bytes(RUN_HDR, TOPIC_T, ID, '01', PUBLISHED, '00', EMPTY_PAYLOAD),
      offset: 10,
    },
    {
      name: 'a run message with the seq of the previous one (delta 0)',
      input: bytes(
        RUN_HDR,
        TOPIC_T,
        ID,
        '02',
        PUBLISHED,
        '00',
        EMPTY_PAYLOAD,
        '000000',
        EMPTY_PAYLOAD,
      ),
      offset: 14,
    },
  ],
  'non-canonical': [
    {
      name: 'duplicate header key',
      input: bytes(
        GOSSIP_HDR,
        TOPIC_T,
        ID,
        PUBLISHED,
        '02',
        '0161',
        '00',
        '0161',
        '00',
        EMPTY_PAYLOAD,
      ),
      offset: 15,
    },
    {
      name: 'header keys out of order',
      input: bytes(
        GOSSIP_HDR,
        TOPIC_T,
        ID,
        PUBLISHED,
        '02',
        '0162',
        '00',
        '0161',
        '00',
        EMPTY_PAYLOAD,
      ),
      offset: 15,
    },
    {
      name: 'the first run message "repeating" headers (code 1)',
      input: bytes(RUN_HDR, TOPIC_T, ID, '02', PUBLISHED, '01', EMPTY_PAYLOAD, RUN_MESSAGE),
      offset: 12,
    },
    {
      name: "a run message spelling out the previous message's headers",
      input: bytes(
        RUN_HDR,
        TOPIC_T,
        ID,
        '02',
        PUBLISHED,
        '03',
        '0161',
        '00',
        EMPTY_PAYLOAD,
        '0100',
        '03',
        '0161',
        '00',
        EMPTY_PAYLOAD,
      ),
      offset: 19,
    },
  ],
  'trailing-bytes': [
    { name: 'PRUNE plus one byte', input: bytes('0104', TOPIC_T, '00'), offset: 4 },
    {
      name: 'GOSSIP plus bytes after the payload',
      input: bytes(GOSSIP_HDR, TOPIC_T, ID, PUBLISHED, NO_HEADERS, '01', 'aa', 'bbcc'),
      offset: 14,
    },
    { name: 'GRAFT with 0 ids plus a byte', input: bytes('0103', TOPIC_T, '00', 'ff'), offset: 5 },
  ],
};

describe('decodeFrame rejects malformed frames with a reason and an offset', () => {
  it('has at least one crafted input for every reason', () => {
    for (const reason of FRAME_DECODE_REASONS) expect(cases[reason].length).toBeGreaterThan(0);
    expect(Object.keys(cases).sort()).toEqual([...FRAME_DECODE_REASONS].sort());
  });

  const table = FRAME_DECODE_REASONS.flatMap((reason) =>
    cases[reason].map((c) => [reason, c.name, c] as const),
  );
  it.each(table)('%s: %s', (reason, _name, c) => {
    const r = decodeFrame(c.input, c.limits);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect({ reason: r.error.reason, offset: r.error.offset }).toEqual({
      reason,
      offset: c.offset,
    });
    expect(typeof r.error.detail).toBe('string');
  });

  it('the building blocks above form a valid frame (so each case breaks exactly one thing)', () => {
    const ok = decodeFrame(bytes(GOSSIP_HDR, TOPIC_T, ID, PUBLISHED, NO_HEADERS, EMPTY_PAYLOAD));
    expect(ok.ok).toBe(true);
    const run = bytes(RUN_HDR, TOPIC_T, ID, '02', PUBLISHED, '00', EMPTY_PAYLOAD, RUN_MESSAGE);
    expect(decodeFrame(run).ok).toBe(true);
  });

  it('every proper prefix of a valid frame is "truncated"', () => {
    const msg: GossipMessage = {
      type: FrameType.Gossip,
      topic: 'orders',
      id: { origin: 'node-1', epoch: 1_700_000_000_000, seq: 300 },
      hops: 2,
      publishedAtMs: 1_700_000_000_001,
      headers: { a: 'x', trace: 'é'.repeat(40) },
      payload: new Uint8Array(20).fill(7),
    };
    const full = encodeFrame(msg);
    for (let n = 0; n < full.length; n++) {
      const r = decodeFrame(full.subarray(0, n));
      expect(r.ok === false && r.error.reason).toBe('truncated');
    }
  });

  it('a huge claimed payload in a tiny frame is rejected without allocating it', () => {
    // Length 2^53-1 encoded minimally; the limits are raised so only the bytes left can refuse it.
    const input = bytes(GOSSIP_HDR, TOPIC_T, ID, PUBLISHED, NO_HEADERS, 'ffffffffffffff0f');
    const r = decodeFrame(input, { maxPayloadBytes: Number.MAX_SAFE_INTEGER });
    expect(r.ok === false && r.error).toEqual({
      reason: 'truncated',
      offset: 12,
      detail: 'payload',
    });
  });
});
