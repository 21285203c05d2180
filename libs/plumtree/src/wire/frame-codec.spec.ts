import { describe, expect, it } from '@jest/globals';
import {
  FrameType,
  type GossipMessage,
  type GossipRunMessage,
  type GraftMessage,
  type IHaveMessage,
  type PlumtreeMessage,
  type PruneMessage,
} from '../types.js';
import {
  decodeFrame,
  encodedFrameSize,
  encodedHeadersSize,
  encodeFrame,
  encodeFrameInto,
  patchGossipHops,
  peekFrameType,
  peekTopic,
  readGossipHops,
} from './frame-codec.js';
import { FrameEncodeError, FrameLimitsError } from './frame-errors.js';
import { DEFAULT_FRAME_LIMITS, resolveFrameLimits } from './frame-limits.js';

const MAX = Number.MAX_SAFE_INTEGER;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const fromHex = (h: string): Uint8Array =>
  new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

function gossip(over: Partial<GossipMessage> = {}): GossipMessage {
  return {
    type: FrameType.Gossip,
    topic: 'orders.created',
    id: { origin: 'node-1', epoch: 1_700_000_000_123, seq: 42 },
    hops: 1,
    publishedAtMs: 1_700_000_000_456,
    payload: new Uint8Array([1, 2, 3]),
    ...over,
  };
}

/** Decode and expect success. */
function decodeOk(bytes: Uint8Array): PlumtreeMessage {
  const r = decodeFrame(bytes);
  if (!r.ok) throw new Error(`decode failed: ${JSON.stringify(r.error)}`);
  return r.message;
}

function roundTrip(msg: PlumtreeMessage): PlumtreeMessage {
  const bytes = encodeFrame(msg);
  expect(bytes.length).toBe(encodedFrameSize(msg));
  const back = decodeOk(bytes);
  // Canonical: the decoded message encodes to the same bytes.
  expect(hex(encodeFrame(back))).toBe(hex(bytes));
  return back;
}

describe('frame codec round trips', () => {
  const topic255 = 'x'.repeat(255);
  const topic255Unicode = '€'.repeat(85); // 3 bytes each = 255 bytes
  const cases: [string, PlumtreeMessage][] = [
    ['gossip, typical', gossip({ headers: { 'content-type': 'application/json', trace: 'abc' } })],
    ['gossip, empty payload, no headers', gossip({ payload: new Uint8Array(0) })],
    ['gossip, hops 0', gossip({ hops: 0 })],
    ['gossip, hops max', gossip({ hops: 65535 })],
    ['gossip, max-size ASCII topic', gossip({ topic: topic255 })],
    ['gossip, max-size unicode topic', gossip({ topic: topic255Unicode })],
    ['gossip, max-size origin', gossip({ id: { origin: 'o'.repeat(255), epoch: 0, seq: 1 } })],
    ['gossip, epoch and seq at 2^53-1', gossip({ id: { origin: 'n', epoch: MAX, seq: MAX } })],
    [
      'gossip, epoch and seq near 2^53-1',
      gossip({ id: { origin: 'n', epoch: MAX - 1, seq: MAX - 2 } }),
    ],
    ['gossip, publishedAtMs 0 and max', gossip({ publishedAtMs: MAX })],
    ['gossip, unknown publish time', gossip({ publishedAtMs: 0 })],
    [
      'gossip, unicode topic and headers',
      gossip({
        topic: 'заказы.🍕.日本',
        headers: { ключ: 'значение 🎉', '': 'empty key', emoji: '😀😀', '\uFEFFbom': '\uFEFF' },
      }),
    ],
    ['gossip, long header value', gossip({ headers: { big: 'v'.repeat(5000) + 'é'.repeat(200) } })],
    [
      'gossip, integer-like header keys',
      gossip({ headers: { b: '1', '10': '2', '2': '3', a: '4' } }),
    ],
    ['gossip, 1 KiB payload', gossip({ payload: new Uint8Array(1024).fill(0xab) })],
    ['gossip, empty topic and origin', gossip({ topic: '', id: { origin: '', epoch: 0, seq: 1 } })],
    [
      'ihave, two entries',
      {
        type: FrameType.IHave,
        topic: 'orders',
        entries: [
          { id: { origin: 'a', epoch: 0, seq: 1 }, hops: 0 },
          { id: { origin: 'b', epoch: MAX, seq: MAX }, hops: 65535 },
        ],
      },
    ],
    ['ihave, no entries', { type: FrameType.IHave, topic: 'orders', entries: [] }],
    [
      'ihave, 1024 entries',
      {
        type: FrameType.IHave,
        topic: 't',
        entries: Array.from({ length: 1024 }, (_, i) => ({
          id: { origin: `node-${i % 7}`, epoch: i * 1000, seq: i + 1 },
          hops: i % 300,
        })),
      },
    ],
    ['graft, 0 ids (link request)', { type: FrameType.Graft, topic: 'orders', ids: [] }],
    [
      'graft, ids',
      {
        type: FrameType.Graft,
        topic: 'ордер',
        ids: [
          { origin: 'n1', epoch: 5, seq: 1 },
          { origin: 'n2', epoch: MAX, seq: MAX },
        ],
      },
    ],
    ['prune', { type: FrameType.Prune, topic: 'orders' }],
    ['prune, max-size topic', { type: FrameType.Prune, topic: topic255 }],
    ['prune, empty topic', { type: FrameType.Prune, topic: '' }],
  ];

  it.each(cases)('%s', (_name, msg) => {
    const back = roundTrip(msg);
    expect(back).toEqual(msg);
    if (msg.type === FrameType.Gossip) expect('headers' in back).toBe(msg.headers !== undefined);
  });

  it('returns a plain Uint8Array whose slice() is a copy', () => {
    const bytes = encodeFrame(gossip());
    expect(Object.getPrototypeOf(bytes)).toBe(Uint8Array.prototype);
    const copy = bytes.slice();
    copy[0] = 0xee;
    expect(bytes[0]).toBe(1);
  });

  it('decodes an empty header object as absent headers (one encoding for "no headers")', () => {
    const withEmpty = encodeFrame(gossip({ headers: {} }));
    expect(hex(withEmpty)).toBe(hex(encodeFrame(gossip())));
    expect('headers' in decodeOk(withEmpty)).toBe(false);
  });

  it('writes header keys sorted whatever the insertion order', () => {
    const a = encodeFrame(gossip({ headers: { z: '1', a: '2', m: '3' } }));
    const b = encodeFrame(gossip({ headers: { a: '2', m: '3', z: '1' } }));
    expect(hex(a)).toBe(hex(b));
    const back = decodeOk(a) as GossipMessage;
    expect(Object.keys(back.headers!)).toEqual(['a', 'm', 'z']);
  });

  it('keeps a "__proto__" header as an own property', () => {
    const headers: Record<string, string> = {};
    Object.defineProperty(headers, '__proto__', { value: 'p', enumerable: true });
    const back = roundTrip(gossip({ headers })) as GossipMessage;
    expect(Object.getOwnPropertyDescriptor(back.headers, '__proto__')?.value).toBe('p');
    expect(Object.getPrototypeOf(back.headers)).toBe(Object.prototype);
  });

  it('returns the payload as a zero-copy view of the input', () => {
    const bytes = encodeFrame(gossip({ payload: new Uint8Array([9, 8, 7, 6]) }));
    const msg = decodeOk(bytes) as GossipMessage;
    expect(msg.payload.buffer).toBe(bytes.buffer);
    expect(msg.payload.byteOffset).toBe(bytes.byteOffset + bytes.length - 4);
    bytes[bytes.length - 1] = 0xff;
    expect(msg.payload[3]).toBe(0xff);
  });

  it('decodes a frame that sits inside a larger buffer (non-zero byteOffset)', () => {
    const frame = encodeFrame(gossip());
    const big = new Uint8Array(frame.length + 20);
    big.set(frame, 7);
    const view = big.subarray(7, 7 + frame.length);
    expect(decodeOk(view)).toStrictEqual(gossip());
  });
});

describe('frame layout (golden bytes)', () => {
  // Pinned by hand from the table in frame-codec.ts; a change here is a wire-format change.
  it('GOSSIP', () => {
    const msg = gossip({
      topic: 't',
      id: { origin: 'n1', epoch: 300, seq: 2 },
      hops: 1,
      publishedAtMs: 1_700_000_000_000,
      headers: { b: '2', a: '1' },
      payload: new Uint8Array([0xde, 0xad]),
    });
    const golden = fromHex(
      [
        '01 01 0001', // version 1, GOSSIP, hops 1 (u16be)
        '01 74', // topic "t"
        '02 6e31 ac02 02', // origin "n1", epoch 300, seq 2
        '80d095ffbc31', // publishedAtMs 1700000000000
        '02 01 61 01 31 01 62 01 32', // 2 headers, sorted: "a" = "1", "b" = "2"
        '02 dead', // payload
      ].join(''),
    );
    expect(hex(encodeFrame(msg))).toBe(hex(golden));
    expect(decodeOk(golden)).toEqual({ ...msg, headers: { a: '1', b: '2' } });
  });

  it('GOSSIP, minimal', () => {
    const msg = gossip({
      topic: '',
      id: { origin: 'x', epoch: 0, seq: 1 },
      hops: 0,
      publishedAtMs: 0,
      payload: new Uint8Array(0),
    });
    expect(hex(encodeFrame(msg))).toBe(
      '01010000' + '00' + '0178' + '00' + '01' + '00' + '00' + '00',
    );
  });

  it('IHAVE', () => {
    const msg: IHaveMessage = {
      type: FrameType.IHave,
      topic: 't',
      entries: [
        { id: { origin: 'a', epoch: 0, seq: 1 }, hops: 3 },
        { id: { origin: 'b', epoch: 1, seq: 128 }, hops: 65535, count: 300 },
      ],
    };
    // entry: id, count (1: one id; 300 = ac02: seqs 128..427), hops
    const golden =
      '0102' +
      '0174' +
      '02' +
      ('0161' + '00' + '01' + '01' + '03') +
      ('0162' + '01' + '8001' + 'ac02' + 'ffff03');
    expect(hex(encodeFrame(msg))).toBe(golden);
    expect(decodeOk(fromHex(golden))).toEqual(msg);
  });

  it('GOSSIP_RUN', () => {
    const m = (
      seq: number,
      publishedAtMs: number,
      payload: number[],
      headers?: Record<string, string>,
    ) => ({
      type: FrameType.Gossip as const,
      topic: 't',
      id: { origin: 'a', epoch: 2, seq },
      hops: 1,
      publishedAtMs,
      ...(headers !== undefined ? { headers } : {}),
      payload: new Uint8Array(payload),
    });
    const h = { k: 'v' };
    const msg: GossipRunMessage = {
      type: FrameType.GossipRun,
      topic: 't',
      hops: 1,
      messages: [m(5, 100, [0xaa], h), m(6, 99, [], h), m(9, 101, [0xbb, 0xcc])],
    };
    const golden =
      '0105' +
      '0001' + // hops
      '0174' + // topic
      ('0161' + '02' + '05') + // first id
      '03' + // messages
      '64' + // first publishedAtMs 100
      ('03' + '016b' + '01' + '76' + '01aa') + // headers code 2 + 1, k=v; payload
      ('01' + '01' + '01' + '00') + // seq +1, time -1 (zigzag 1), same headers, empty payload
      ('03' + '04' + '00' + '02bbcc'); // seq +3, time +2 (zigzag 4), no headers, payload
    expect(hex(encodeFrame(msg))).toBe(golden);
    const back = decodeOk(fromHex(golden)) as GossipRunMessage;
    expect(back).toEqual(msg);
    // Repeated headers are one object.
    expect(back.messages[1]!.headers).toBe(back.messages[0]!.headers);
  });

  it('GOSSIP_RUN refuses messages that are not one origin incarnation in seq order', () => {
    const base = {
      type: FrameType.Gossip as const,
      topic: 't',
      hops: 1,
      publishedAtMs: 0,
      payload: new Uint8Array(),
    };
    const run = (ids: { origin: string; epoch: number; seq: number }[]): GossipRunMessage => ({
      type: FrameType.GossipRun,
      topic: 't',
      hops: 1,
      messages: ids.map((id) => ({ ...base, id })),
    });
    expect(() => encodeFrame(run([{ origin: 'a', epoch: 0, seq: 1 }]))).toThrow(FrameEncodeError);
    expect(() =>
      encodeFrame(
        run([
          { origin: 'a', epoch: 0, seq: 2 },
          { origin: 'a', epoch: 0, seq: 2 },
        ]),
      ),
    ).toThrow(/seq/);
    expect(() =>
      encodeFrame(
        run([
          { origin: 'a', epoch: 0, seq: 1 },
          { origin: 'b', epoch: 0, seq: 2 },
        ]),
      ),
    ).toThrow(/origin and epoch/);
    expect(() =>
      encodeFrame({
        ...run([
          { origin: 'a', epoch: 0, seq: 1 },
          { origin: 'a', epoch: 0, seq: 2 },
        ]),
        hops: 2,
      }),
    ).toThrow(/topic and hops/);
  });

  it('GRAFT', () => {
    const msg: GraftMessage = {
      type: FrameType.Graft,
      topic: 'é',
      ids: [{ origin: '', epoch: MAX, seq: MAX }],
    };
    const golden = '0103' + '02c3a9' + '01' + '00' + 'ffffffffffffff0f' + 'ffffffffffffff0f';
    expect(hex(encodeFrame(msg))).toBe(golden);
    expect(decodeOk(fromHex(golden))).toEqual(msg);
  });

  it('GRAFT with no ids', () => {
    const msg: GraftMessage = { type: FrameType.Graft, topic: 't', ids: [] };
    expect(hex(encodeFrame(msg))).toBe('0103017400');
  });

  it('PRUNE', () => {
    const msg: PruneMessage = { type: FrameType.Prune, topic: 'orders' };
    const golden = '0104' + '066f7264657273';
    expect(hex(encodeFrame(msg))).toBe(golden);
    expect(decodeOk(fromHex(golden))).toEqual(msg);
  });
});

describe('hops patching', () => {
  it('patchGossipHops changes only the hops; decode shows the new value, all else equal', () => {
    const msg = gossip({ hops: 3, headers: { k: 'v' } });
    const bytes = encodeFrame(msg);
    const before = Uint8Array.from(bytes);
    patchGossipHops(bytes, 4);
    expect(readGossipHops(bytes)).toBe(4);
    expect(decodeOk(bytes)).toEqual({ ...msg, hops: 4 });
    const changed = [...bytes.keys()].filter((i) => bytes[i] !== before[i]);
    expect(changed).toEqual([3]);
    patchGossipHops(bytes, 65535);
    expect((decodeOk(bytes) as GossipMessage).hops).toBe(65535);
    patchGossipHops(bytes, 0);
    expect(decodeOk(bytes)).toEqual({ ...msg, hops: 0 });
  });

  it('does not disturb a payload view decoded earlier from the same bytes', () => {
    const bytes = encodeFrame(gossip({ payload: new Uint8Array([5, 6, 7]) }));
    const first = decodeOk(bytes) as GossipMessage;
    patchGossipHops(bytes, 9);
    expect([...first.payload]).toEqual([5, 6, 7]);
  });

  it('readGossipHops is undefined for anything but a v1 GOSSIP frame', () => {
    expect(readGossipHops(new Uint8Array([]))).toBeUndefined();
    expect(readGossipHops(new Uint8Array([1, 1, 0]))).toBeUndefined();
    expect(readGossipHops(new Uint8Array([2, 1, 0, 5]))).toBeUndefined();
    expect(readGossipHops(encodeFrame({ type: FrameType.Prune, topic: 'abcd' }))).toBeUndefined();
    expect(readGossipHops(new Uint8Array([1, 1, 0x12, 0x34]))).toBe(0x1234);
  });

  it('patchGossipHops throws FrameEncodeError on bad hops or a non-GOSSIP frame', () => {
    const bytes = encodeFrame(gossip());
    for (const bad of [-1, 65536, 1.5, Number.NaN]) {
      expect(() => patchGossipHops(bytes, bad)).toThrow(FrameEncodeError);
    }
    const prune = encodeFrame({ type: FrameType.Prune, topic: 'abcd' });
    expect(() => patchGossipHops(prune, 1)).toThrow(FrameEncodeError);
    expect(() => patchGossipHops(new Uint8Array([1, 1, 0]), 1)).toThrow(FrameEncodeError);
    expect(hex(prune)).toBe(hex(encodeFrame({ type: FrameType.Prune, topic: 'abcd' })));
  });
});

describe('peeking', () => {
  it('peekFrameType reads byte 1 of a v1 frame', () => {
    expect(peekFrameType(encodeFrame(gossip()))).toBe(FrameType.Gossip);
    expect(peekFrameType(encodeFrame({ type: FrameType.IHave, topic: 't', entries: [] }))).toBe(
      FrameType.IHave,
    );
    expect(peekFrameType(encodeFrame({ type: FrameType.Graft, topic: 't', ids: [] }))).toBe(
      FrameType.Graft,
    );
    expect(peekFrameType(encodeFrame({ type: FrameType.Prune, topic: 't' }))).toBe(FrameType.Prune);
    expect(peekFrameType(new Uint8Array([1]))).toBeUndefined();
    expect(peekFrameType(new Uint8Array([2, 1]))).toBeUndefined();
    expect(peekFrameType(new Uint8Array([1, 0]))).toBeUndefined();
    expect(peekFrameType(new Uint8Array([1, 6]))).toBeUndefined();
  });

  it('peekTopic reads the topic of every frame type', () => {
    expect(peekTopic(encodeFrame(gossip({ topic: 'a.b' })))).toBe('a.b');
    expect(peekTopic(encodeFrame({ type: FrameType.IHave, topic: 'ü', entries: [] }))).toBe('ü');
    expect(peekTopic(encodeFrame({ type: FrameType.Graft, topic: 'g', ids: [] }))).toBe('g');
    expect(peekTopic(encodeFrame({ type: FrameType.Prune, topic: '' }))).toBe('');
  });

  it('peekTopic is undefined for a malformed header or topic', () => {
    expect(peekTopic(new Uint8Array([1, 4, 3, 0x61]))).toBeUndefined(); // topic truncated
    expect(peekTopic(new Uint8Array([1, 4, 1, 0xff]))).toBeUndefined(); // bad UTF-8
    expect(peekTopic(new Uint8Array([1, 1, 0]))).toBeUndefined(); // GOSSIP without topic
    expect(peekTopic(new Uint8Array([9, 4, 1, 0x61]))).toBeUndefined(); // version
  });
});

describe('encoding programmer errors', () => {
  const bad: [string, PlumtreeMessage, string][] = [
    ['topic over 255 bytes', gossip({ topic: 'x'.repeat(256) }), 'topic'],
    ['unicode topic over 255 bytes', { type: FrameType.Prune, topic: '€'.repeat(86) }, 'topic'],
    ['topic with a lone surrogate', { type: FrameType.Prune, topic: 'a\uD800b' }, 'topic'],
    ['topic ending in a high surrogate', { type: FrameType.Prune, topic: 'a\uD83D' }, 'topic'],
    ['topic with a lone low surrogate', { type: FrameType.Prune, topic: '\uDC00' }, 'topic'],
    ['hops negative', gossip({ hops: -1 }), 'hops'],
    ['hops above 65535', gossip({ hops: 65536 }), 'hops'],
    ['hops fractional', gossip({ hops: 1.5 }), 'hops'],
    ['epoch negative', gossip({ id: { origin: 'n', epoch: -1, seq: 1 } }), 'id.epoch'],
    ['epoch 2^53', gossip({ id: { origin: 'n', epoch: 2 ** 53, seq: 1 } }), 'id.epoch'],
    ['epoch fractional', gossip({ id: { origin: 'n', epoch: 0.5, seq: 1 } }), 'id.epoch'],
    ['epoch NaN', gossip({ id: { origin: 'n', epoch: Number.NaN, seq: 1 } }), 'id.epoch'],
    ['seq 0', gossip({ id: { origin: 'n', epoch: 0, seq: 0 } }), 'id.seq'],
    ['seq 2^53', gossip({ id: { origin: 'n', epoch: 0, seq: 2 ** 53 } }), 'id.seq'],
    [
      'origin over 255 bytes',
      gossip({ id: { origin: 'o'.repeat(256), epoch: 0, seq: 1 } }),
      'id.origin',
    ],
    ['publishedAtMs negative', gossip({ publishedAtMs: -5 }), 'publishedAtMs'],
    ['publishedAtMs fractional', gossip({ publishedAtMs: 1.25 }), 'publishedAtMs'],
    ['header key over 255 bytes', gossip({ headers: { ['k'.repeat(256)]: 'v' } }), 'key'],
    ['header value lone surrogate', gossip({ headers: { k: '\uDFFF' } }), 'headers["k"]'],
    [
      'header value not a string',
      gossip({ headers: { k: 5 as unknown as string } }),
      'headers["k"]',
    ],
    ['payload not bytes', gossip({ payload: 'abc' as unknown as Uint8Array }), 'payload'],
    [
      'IHAVE hops out of range',
      {
        type: FrameType.IHave,
        topic: 't',
        entries: [{ id: { origin: 'a', epoch: 0, seq: 1 }, hops: 70000 }],
      },
      'entries[0].hops',
    ],
    [
      'GRAFT id with seq 0',
      { type: FrameType.Graft, topic: 't', ids: [{ origin: 'a', epoch: 0, seq: 0 }] },
      'ids[0].seq',
    ],
    ['unknown type', { type: 9, topic: 't' } as unknown as PlumtreeMessage, 'type'],
  ];

  it.each(bad)('%s', (_name, msg, field) => {
    let caught: unknown;
    try {
      encodeFrame(msg);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(FrameEncodeError);
    expect((caught as FrameEncodeError).field).toContain(field);
    expect(() => encodedFrameSize(msg)).toThrow(FrameEncodeError);
  });
});

describe('encodedHeadersSize', () => {
  it('is the header section of the frame: what headers add to an encoded GOSSIP', () => {
    const sets: Record<string, string>[] = [
      {},
      { a: 'b' },
      { z: '1', a: '2', ключ: 'значение 🎉' },
      { big: 'v'.repeat(300) },
    ];
    const bare = encodedFrameSize(gossip());
    for (const headers of sets) {
      // The bare frame holds a 1-byte zero count: the section replaces it.
      expect(encodedHeadersSize(headers)).toBe(encodedFrameSize(gossip({ headers })) - bare + 1);
    }
    expect(encodedHeadersSize(undefined)).toBe(1);
  });

  it('throws the FrameEncodeError the encoder throws, for the same header', () => {
    const bad: Record<string, string>[] = [
      { ['k'.repeat(256)]: 'v' },
      { k: '\uDFFF' },
      { ['\uD800']: 'v' },
      { k: 5 as unknown as string },
    ];
    for (const headers of bad) {
      let fromFrame: unknown;
      try {
        encodeFrame(gossip({ headers }));
      } catch (e) {
        fromFrame = e;
      }
      expect(fromFrame).toBeInstanceOf(FrameEncodeError);
      expect(() => encodedHeadersSize(headers)).toThrow((fromFrame as Error).message);
    }
  });
});

describe('encodeFrameInto', () => {
  it('writes the same bytes at an offset and returns the end', () => {
    const msg = gossip({ headers: { a: 'b' } });
    const expected = encodeFrame(msg);
    const target = new Uint8Array(expected.length + 10);
    const end = encodeFrameInto(msg, target, 4);
    expect(end).toBe(4 + expected.length);
    expect(hex(target.subarray(4, end))).toBe(hex(expected));
    expect([...target.subarray(0, 4), ...target.subarray(end)]).toEqual(new Array(10).fill(0));
  });

  it('throws without writing when the frame does not fit', () => {
    const msg: PruneMessage = { type: FrameType.Prune, topic: 'orders' };
    const target = new Uint8Array(9); // the frame is exactly 9 bytes
    expect(() => encodeFrameInto(msg, target, 1)).toThrow(FrameEncodeError);
    expect(() => encodeFrameInto(msg, target, -1)).toThrow(FrameEncodeError);
    expect([...target]).toEqual(new Array(9).fill(0));
    expect(encodeFrameInto(msg, target, 0)).toBe(9);
  });
});

describe('frame limits', () => {
  it('resolveFrameLimits merges over the defaults', () => {
    expect(resolveFrameLimits()).toEqual(DEFAULT_FRAME_LIMITS);
    expect(resolveFrameLimits({ maxHeaders: 3 })).toEqual({
      ...DEFAULT_FRAME_LIMITS,
      maxHeaders: 3,
    });
  });

  it('resolveFrameLimits reports every problem at once', () => {
    let caught: unknown;
    try {
      resolveFrameLimits({ maxHeaders: -1, maxPayloadBytes: 1.5, maxTopicBytes: 256 });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(FrameLimitsError);
    expect((caught as FrameLimitsError).problems).toHaveLength(3);
  });

  it('decodeFrame applies partial limits over the defaults', () => {
    const bytes = encodeFrame(gossip({ headers: { a: '1', b: '2' } }));
    expect(decodeFrame(bytes, { maxHeaders: 2 }).ok).toBe(true);
    const r = decodeFrame(bytes, { maxHeaders: 1 });
    expect(r.ok === false && r.error.reason).toBe('limit-exceeded');
    // An explicit undefined means "default", not "no limit".
    const tooBig = new Uint8Array(DEFAULT_FRAME_LIMITS.maxFrameBytes + 1);
    const r2 = decodeFrame(tooBig, { maxFrameBytes: undefined });
    expect(r2.ok === false && r2.error.reason).toBe('too-large');
  });
});
