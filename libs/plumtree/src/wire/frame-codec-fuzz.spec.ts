/**
 * Property and fuzz tests of the frame codec: 100,000 cases per run in total.
 *
 * Properties: decodeFrame never throws and always returns a DecodeResult; a rejection carries a
 * known reason and an offset inside the input; an accepted frame respects the limits it was
 * decoded with and re-encodes to exactly the input bytes (the format is canonical).
 *
 * The seed is fixed so a run is reproducible; set FUZZ_SEED to explore others. fast-check prints
 * the seed and the shrunk counterexample on failure.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { FrameType, type GossipMessage, type MessageId, type PlumtreeMessage } from '../types.js';
import {
  decodeFrame,
  encodeFrame,
  patchGossipHops,
  peekTopic,
  readGossipHops,
} from './frame-codec.js';
import { FRAME_DECODE_REASONS } from './frame-errors.js';
import { DEFAULT_FRAME_LIMITS, type FrameLimits } from './frame-limits.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed_c0de);
const MAX = Number.MAX_SAFE_INTEGER;
const REASONS = new Set<string>(FRAME_DECODE_REASONS);
const utf8Bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

// ---------------------------------------------------------------------------------------------
// Arbitraries for valid messages

/** Short ASCII (like real topics and node names) or any code point; sometimes 255 bytes. */
const str8 = fc.oneof(
  { weight: 5, arbitrary: fc.string({ maxLength: 16 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 50, maxLength: 63 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('x'.repeat(255), '€'.repeat(85), '😀'.repeat(63) + 'abc'),
  },
);
const epoch = fc.oneof(fc.nat(300), fc.maxSafeNat(), fc.constant(MAX));
const seq = fc.oneof(
  fc.integer({ min: 1, max: 300 }),
  fc.integer({ min: 1, max: MAX }),
  fc.constant(MAX),
);
const hops = fc.oneof(fc.nat(10), fc.integer({ min: 0, max: 0xffff }), fc.constant(0xffff));
const id: fc.Arbitrary<MessageId> = fc.record({ origin: str8, epoch, seq });
const headers = fc.option(
  fc.dictionary(
    fc.oneof(fc.string({ maxLength: 6 }), fc.string({ unit: 'binary', maxLength: 4 })),
    fc.string({ unit: 'binary', maxLength: 12 }),
    { maxKeys: 4 },
  ),
  { nil: undefined },
);

const gossipMsg: fc.Arbitrary<PlumtreeMessage> = fc
  .record({
    topic: str8,
    id,
    hops,
    publishedAtMs: fc.oneof(fc.constant(0), fc.maxSafeNat(), fc.constant(1_764_000_000_000)),
    headers,
    payload: fc.uint8Array({ maxLength: 32 }),
  })
  .map((m) => ({ type: FrameType.Gossip, ...m }) as GossipMessage);
const ihaveEntry = fc.oneof(
  fc.record({ id, hops }),
  fc
    .record({ id, hops, count: fc.integer({ min: 1, max: 16_000 }) })
    // A count of 1 is encoded like an absent count (and decoded as absent).
    .filter((e) => e.count > 1 && e.id.seq + e.count - 1 <= MAX),
);
const ihaveMsg: fc.Arbitrary<PlumtreeMessage> = fc.record({
  type: fc.constant(FrameType.IHave as const),
  topic: str8,
  entries: fc.array(ihaveEntry, { maxLength: 4 }),
});
/** 2..5 GOSSIPs of one origin and epoch, seqs increasing, headers often repeated. */
const runMsg: fc.Arbitrary<PlumtreeMessage> = fc
  .record({
    topic: str8,
    hops,
    origin: str8,
    epoch,
    first: fc.oneof(fc.integer({ min: 1, max: 300 }), fc.constant(MAX - 10)),
    items: fc.array(
      fc.record({
        delta: fc.integer({ min: 1, max: 2 }),
        publishedAtMs: fc.oneof(fc.constant(1_764_000_000_000), fc.nat(1000)),
        sameHeaders: fc.boolean(),
        headers,
        payload: fc.uint8Array({ maxLength: 16 }),
      }),
      { minLength: 2, maxLength: 5 },
    ),
  })
  .map(({ topic, hops: h, origin, epoch: e, first, items }) => {
    let seq = first;
    const messages: GossipMessage[] = [];
    for (const it of items) {
      const prev = messages[messages.length - 1];
      const hs = it.sameHeaders && prev !== undefined ? prev.headers : it.headers;
      messages.push({
        type: FrameType.Gossip,
        topic,
        id: { origin, epoch: e, seq },
        hops: h,
        publishedAtMs: it.publishedAtMs,
        ...(hs !== undefined && Object.keys(hs).length > 0 ? { headers: hs } : {}),
        payload: it.payload,
      });
      seq += it.delta;
    }
    return { type: FrameType.GossipRun, topic, hops: h, messages } as PlumtreeMessage;
  });
const graftMsg: fc.Arbitrary<PlumtreeMessage> = fc.record({
  type: fc.constant(FrameType.Graft as const),
  topic: str8,
  ids: fc.array(id, { maxLength: 4 }),
});
const pruneMsg: fc.Arbitrary<PlumtreeMessage> = fc.record({
  type: fc.constant(FrameType.Prune as const),
  topic: str8,
});
const anyMsg = fc.oneof(
  { weight: 4, arbitrary: gossipMsg },
  { weight: 2, arbitrary: runMsg },
  { weight: 2, arbitrary: ihaveMsg },
  { weight: 2, arbitrary: graftMsg },
  { weight: 1, arbitrary: pruneMsg },
);

// ---------------------------------------------------------------------------------------------
// Mutations of encoded frames

type Mutation =
  | { readonly kind: 'flip'; readonly pos: number; readonly bit: number }
  | { readonly kind: 'set'; readonly pos: number; readonly byte: number }
  | { readonly kind: 'truncate'; readonly pos: number }
  | { readonly kind: 'extend'; readonly bytes: Uint8Array }
  | { readonly kind: 'insert'; readonly pos: number; readonly byte: number }
  | { readonly kind: 'delete'; readonly pos: number };

/** Byte values that are interesting in a length, count or varint field. */
const lengthByte = fc.oneof(
  fc.constantFrom(0x00, 0x01, 0x02, 0x7f, 0x80, 0x81, 0xfe, 0xff),
  fc.nat(255),
);
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), pos: fc.nat(), bit: fc.nat(7) }),
  // Length-field corruption: lengths and counts sit in the first ~20 bytes of small frames.
  fc.record({ kind: fc.constant('set' as const), pos: fc.nat(20), byte: lengthByte }),
  fc.record({ kind: fc.constant('set' as const), pos: fc.nat(), byte: lengthByte }),
  fc.record({ kind: fc.constant('truncate' as const), pos: fc.nat() }),
  fc.record({
    kind: fc.constant('extend' as const),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
  }),
  fc.record({ kind: fc.constant('insert' as const), pos: fc.nat(), byte: lengthByte }),
  fc.record({ kind: fc.constant('delete' as const), pos: fc.nat() }),
);

function mutate(input: Uint8Array, m: Mutation): Uint8Array {
  const n = input.length;
  const at = (pos: number, span: number): number => (span === 0 ? 0 : pos % span);
  switch (m.kind) {
    case 'flip':
    case 'set': {
      const b = input.slice();
      if (n > 0) {
        const i = at(m.pos, n);
        b[i] = m.kind === 'flip' ? b[i]! ^ (1 << m.bit) : m.byte;
      }
      return b;
    }
    case 'truncate':
      return input.slice(0, at(m.pos, n));
    case 'extend': {
      const b = new Uint8Array(n + m.bytes.length);
      b.set(input);
      b.set(m.bytes, n);
      return b;
    }
    case 'insert': {
      const i = at(m.pos, n + 1);
      const b = new Uint8Array(n + 1);
      b.set(input.subarray(0, i));
      b[i] = m.byte;
      b.set(input.subarray(i), i + 1);
      return b;
    }
    case 'delete': {
      if (n === 0) return input.slice();
      const i = at(m.pos, n);
      const b = new Uint8Array(n - 1);
      b.set(input.subarray(0, i));
      b.set(input.subarray(i + 1), i);
      return b;
    }
  }
}

/**
 * Tight limits for one case in four (the rest use the defaults), so every limit check is
 * exercised on frames that pass and frames that fail it.
 */
const limits: fc.Arbitrary<Partial<FrameLimits> | undefined> = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  {
    weight: 1,
    arbitrary: fc.record(
      {
        maxFrameBytes: fc.integer({ min: 0, max: 600 }),
        maxPayloadBytes: fc.integer({ min: 0, max: 40 }),
        maxTopicBytes: fc.integer({ min: 0, max: 255 }),
        maxHeaders: fc.nat(5),
        maxHeaderBytes: fc.integer({ min: 0, max: 80 }),
        maxIHaveEntries: fc.nat(5),
        maxIHaveIds: fc.nat(400),
        maxGraftIds: fc.nat(5),
        maxRunMessages: fc.nat(5),
      },
      { requiredKeys: [] },
    ),
  },
);

// ---------------------------------------------------------------------------------------------
// The property

/**
 * Throw when `cond` is false. Plain checks, not jest's `expect`, inside properties: they run
 * 100,000 times and `expect` costs more than the codec itself. fast-check reports the message,
 * the seed and the shrunk input.
 */
function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(`property violated: ${what}`);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Decode `bytes` and check every invariant; returns the rejection reason, or 'accepted'. */
function checkDecode(bytes: Uint8Array, partial?: Partial<FrameLimits>): string {
  const copy = bytes.slice();
  const r = decodeFrame(bytes, partial); // a throw fails the property
  check(sameBytes(bytes, copy), 'decoding never writes to its input');
  check(typeof r === 'object' && r !== null && typeof r.ok === 'boolean', 'returns a DecodeResult');
  if (!r.ok) {
    check(REASONS.has(r.error.reason), `known reason (${r.error.reason})`);
    check(r.error.offset >= 0 && r.error.offset <= bytes.length, 'offset inside the input');
    return r.error.reason;
  }
  const again = encodeFrame(r.message);
  check(sameBytes(again, bytes), `canonical: ${hex(bytes)} re-encodes as ${hex(again)}`);
  check(peekTopic(bytes) === r.message.topic, 'peekTopic agrees with decodeFrame');
  checkLimits(r.message, bytes.length, { ...DEFAULT_FRAME_LIMITS, ...partial });
  return 'accepted';
}

function checkLimits(msg: PlumtreeMessage, frameBytes: number, l: FrameLimits): void {
  check(frameBytes <= l.maxFrameBytes, 'maxFrameBytes');
  check(utf8Bytes(msg.topic) <= l.maxTopicBytes, 'maxTopicBytes');
  switch (msg.type) {
    case FrameType.Gossip:
      checkGossipLimits(msg, l);
      break;
    case FrameType.GossipRun:
      check(msg.messages.length <= l.maxRunMessages, 'maxRunMessages');
      for (const m of msg.messages) checkGossipLimits(m, l);
      break;
    case FrameType.IHave:
      check(msg.entries.length <= l.maxIHaveEntries, 'maxIHaveEntries');
      check(msg.entries.reduce((n, e) => n + (e.count ?? 1), 0) <= l.maxIHaveIds, 'maxIHaveIds');
      break;
    case FrameType.Graft:
      check(msg.ids.length <= l.maxGraftIds, 'maxGraftIds');
      break;
  }
}

function checkGossipLimits(msg: GossipMessage, l: FrameLimits): void {
  check(msg.payload.length <= l.maxPayloadBytes, 'maxPayloadBytes');
  const entries = Object.entries(msg.headers ?? {});
  check(entries.length <= l.maxHeaders, 'maxHeaders');
  const total = entries.reduce((n, [k, v]) => n + utf8Bytes(k) + utf8Bytes(v), 0);
  check(total <= l.maxHeaderBytes, 'maxHeaderBytes');
}

/** A message as a comparable string: fields in a fixed order, headers sorted, payload as hex. */
function normalize(msg: PlumtreeMessage): string {
  const ids = (i: MessageId): unknown[] => [i.origin, i.epoch, i.seq];
  const gossip = (m: GossipMessage): unknown[] => {
    const headers = Object.entries(m.headers ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
    const { topic, id: i, hops: h, publishedAtMs: p, payload } = m;
    return [1, topic, ids(i), h, p, headers, hex(payload)];
  };
  switch (msg.type) {
    case FrameType.Gossip:
      return JSON.stringify(gossip(msg));
    case FrameType.GossipRun:
      return JSON.stringify([5, msg.topic, msg.hops, msg.messages.map(gossip)]);
    case FrameType.IHave:
      return JSON.stringify([
        2,
        msg.topic,
        msg.entries.map((e) => [ids(e.id), e.count ?? 1, e.hops]),
      ]);
    case FrameType.Graft:
      return JSON.stringify([3, msg.topic, msg.ids.map(ids)]);
    case FrameType.Prune:
      return JSON.stringify([4, msg.topic]);
  }
}

// Budget: 10k valid round trips + 30k random inputs + 60k mutated frames = 100k cases.
describe('frame codec fuzz (fast-check, seed ' + SEED + ')', () => {
  it('valid messages round-trip exactly and re-encode canonically (10,000 cases)', () => {
    fc.assert(
      fc.property(anyMsg, fc.option(hops, { nil: undefined }), (msg, newHops) => {
        const bytes = encodeFrame(msg);
        const r = decodeFrame(bytes);
        check(r.ok, 'a valid frame decodes');
        if (!r.ok) return;
        check(normalize(r.message) === normalize(msg), 'decoded message equals the original');
        check(checkDecode(bytes) === 'accepted', 'accepted');
        if (msg.type === FrameType.Gossip && newHops !== undefined) {
          patchGossipHops(bytes, newHops);
          check(readGossipHops(bytes) === newHops, 'readGossipHops after patch');
          const patched = decodeFrame(bytes);
          check(
            patched.ok && normalize(patched.message) === normalize({ ...msg, hops: newHops }),
            'patched frame decodes with only the hops changed',
          );
        }
        if (msg.type === FrameType.GossipRun && newHops !== undefined) {
          patchGossipHops(bytes, newHops);
          const patched = decodeFrame(bytes);
          const expected = {
            ...msg,
            hops: newHops,
            messages: msg.messages.map((m) => ({ ...m, hops: newHops })),
          };
          check(
            patched.ok && normalize(patched.message) === normalize(expected),
            'patched run decodes with only the hops changed',
          );
        }
      }),
      { numRuns: 10_000, seed: SEED },
    );
  });

  it('purely random bytes never throw (20,000 cases)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), limits, (bytes, l) => {
        checkDecode(bytes, l);
      }),
      { numRuns: 20_000, seed: SEED },
    );
  });

  it('random bodies behind a valid version and type byte never throw (10,000 cases)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(
          FrameType.Gossip,
          FrameType.IHave,
          FrameType.Graft,
          FrameType.Prune,
          FrameType.GossipRun,
        ),
        fc.uint8Array({ maxLength: 80 }),
        (type, body) => {
          const bytes = new Uint8Array(2 + body.length);
          bytes[0] = 1;
          bytes[1] = type;
          bytes.set(body, 2);
          checkDecode(bytes);
        },
      ),
      { numRuns: 10_000, seed: SEED },
    );
  });

  it('mutated valid frames never throw; accepted ones are canonical (60,000 cases)', () => {
    const outcomes = new Map<string, number>();
    fc.assert(
      fc.property(
        anyMsg,
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        limits,
        (msg, mutations, l) => {
          let bytes = encodeFrame(msg);
          for (const m of mutations) bytes = mutate(bytes, m);
          const outcome = checkDecode(bytes, l);
          outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        },
      ),
      { numRuns: 60_000, seed: SEED },
    );
    // Mutations must not all be trivially rejected, or the canonical check above tests little,
    // and they should reach most of the decoder's checks (frame-decode-errors.spec.ts pins each).
    expect(outcomes.get('accepted')).toBeGreaterThan(1_000);
    expect(outcomes.size).toBeGreaterThanOrEqual(9);
    if (process.env.FUZZ_STATS) console.log(JSON.stringify(Object.fromEntries(outcomes)));
  });
});
