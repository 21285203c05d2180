// Fuzzing every decoder with fast-check: random bytes and mutations (truncation, bit flips,
// byte overwrites, insertions, deletions, corrupted length fields) of the golden memberlist
// packets and streams, decoded with the right key, a wrong key, no key, a wrong label. The
// property: no decoder throws, every failure names a reason from the closed set, and output
// stays within bounds derived from the input. 100,000 cases per run in total (see BASE_RUNS).
import { describe, it } from '@jest/globals';
import fc from 'fast-check';
import {
  fixtureKeyring,
  loadCommittedGolden,
  unhex,
  type GoldenFixture,
} from '../../../../test/fixtures/memberlist/golden-suite.js';
import { decodeCompound } from './compound.js';
import { decodeCompress } from './compress.js';
import { checkCrc } from './crc.js';
import type { DecodeFailureReason } from './decode-result.js';
import { decryptPayload } from './encryption.js';
import { Keyring } from './keyring.js';
import { removeLabelHeader } from './label.js';
import { lzwDecompress } from './lzw.js';
import { decodeMessage, decodeStruct, Schemas, type StructSchema } from './message-codec.js';
import { decodePacket, type PacketDecodeOptions } from './packet.js';
import { readStreamMessage, type StreamDecodeOptions } from './stream.js';

const REASONS: ReadonlySet<DecodeFailureReason> = new Set<DecodeFailureReason>([
  'truncated',
  'bad-msgpack',
  'unknown-type',
  'bad-crc',
  'bad-compression',
  'unsupported-algo',
  'unsupported-version',
  'decrypt-failed',
  'encryption-required',
  'label-mismatch',
  'bad-label',
  'too-large',
  'too-deep',
]);

/** Multiplies every case count: WIRE_FUZZ_SCALE=10 for a longer local or nightly run. */
const SCALE = Math.max(1, Number(process.env['WIRE_FUZZ_SCALE'] ?? '1') || 1);
/** Cases per property; they sum to 100,000 at scale 1. */
const BASE_RUNS = {
  message: 12_000,
  messageMutated: 12_000,
  struct: 8_000,
  lzw: 8_000,
  small: 8_000,
  packetRandom: 10_000,
  packetMutated: 24_000,
  streamRandom: 4_000,
  streamMutated: 14_000,
} as const;
const NUM_RUNS = Object.fromEntries(
  Object.entries(BASE_RUNS).map(([k, v]) => [k, v * SCALE]),
) as Record<keyof typeof BASE_RUNS, number>;
const TIMEOUT_MS = 120_000 * SCALE;
const MAX_DECOMPRESSED = 256 * 1024;

function check(r: { ok: boolean; reason?: string }): void {
  if (!r.ok && !REASONS.has(r.reason as DecodeFailureReason))
    throw new Error(`unknown reason ${String(r.reason)}`);
}

type Mutation =
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; n: number }
  | { kind: 'length'; at: number; value: number; width: 1 | 2 | 4 };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('flip' as const),
    at: fc.nat(),
    bit: fc.integer({ min: 0, max: 7 }),
  }),
  fc.record({
    kind: fc.constant('set' as const),
    at: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
  }),
  fc.record({
    kind: fc.constant('delete' as const),
    at: fc.nat(),
    n: fc.integer({ min: 1, max: 8 }),
  }),
  fc.record({
    kind: fc.constant('length' as const),
    at: fc.nat(),
    value: fc.oneof(fc.constantFrom(0, 1, 0x7f, 0xff, 0xffff, 0xffff_ffff), fc.nat()),
    width: fc.constantFrom(1 as const, 2 as const, 4 as const),
  }),
);

function mutate(src: Uint8Array, muts: readonly Mutation[]): Uint8Array {
  let b = Uint8Array.from(src);
  for (const m of muts) {
    const at = b.length === 0 ? 0 : m.at % b.length;
    switch (m.kind) {
      case 'truncate':
        b = b.subarray(0, at);
        break;
      case 'flip':
        if (b.length > 0) b[at] = b[at]! ^ (1 << m.bit);
        break;
      case 'set':
        if (b.length > 0) b[at] = m.value;
        break;
      case 'insert':
        {
          const next = new Uint8Array(b.length + m.bytes.length);
          next.set(b.subarray(0, at));
          next.set(m.bytes, at);
          next.set(b.subarray(at), at + m.bytes.length);
          b = next;
        }
        break;
      case 'delete':
        {
          const tail = b.subarray(Math.min(b.length, at + m.n));
          const next = new Uint8Array(at + tail.length);
          next.set(b.subarray(0, at));
          next.set(tail, at);
          b = next;
        }
        break;
      case 'length':
        if (at + m.width <= b.length) {
          const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
          if (m.width === 1) v.setUint8(at, m.value & 0xff);
          else if (m.width === 2) v.setUint16(at, m.value & 0xffff);
          else v.setUint32(at, m.value >>> 0);
        }
        break;
    }
  }
  return b;
}

const golden = loadCommittedGolden().fixtures;
const wrongKeyring = new Keyring([], new Uint8Array(16).fill(0x5a));

/** Decode options drawn per case: right keys, wrong keys, none, a label, lenient modes. */
function optionsArb(
  f: GoldenFixture | undefined,
): fc.Arbitrary<PacketDecodeOptions & StreamDecodeOptions> {
  const right = f === undefined ? undefined : fixtureKeyring(f);
  return fc.record({
    keyring: fc.constantFrom(right, wrongKeyring, undefined),
    label: fc.constantFrom(f?.label ?? '', '', 'x'),
    verifyIncoming: fc.boolean(),
    skipInboundLabelCheck: fc.boolean(),
    maxDecompressedBytes: fc.constant(MAX_DECOMPRESSED),
    maxStreamBytes: fc.constant(1024 * 1024),
  });
}

const messageBytes = golden.messages
  .map((f) => unhex(f.hex))
  .concat(golden.variants.map((f) => unhex(f.hex)));

describe('fuzz: decoders never throw and stay bounded', () => {
  it(
    'decodeMessage on random bytes behind every type byte',
    () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 255 }),
          fc.uint8Array({ maxLength: 200 }),
          (t, body) => {
            check(decodeMessage(new Uint8Array([t, ...body])));
          },
        ),
        { numRuns: NUM_RUNS.message },
      );
    },
    TIMEOUT_MS,
  );

  it(
    'decodeMessage on mutated golden messages',
    () => {
      fc.assert(
        fc.property(
          fc.constantFrom(...messageBytes),
          fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
          (m, muts) => {
            const r = decodeMessage(mutate(m, muts));
            check(r);
          },
        ),
        { numRuns: NUM_RUNS.messageMutated },
      );
    },
    TIMEOUT_MS,
  );

  it(
    'decodeStruct of every schema on msgpack-looking bytes',
    () => {
      const schemas = Object.values(Schemas);
      const msgpackish = fc
        .array(
          fc.oneof(
            fc.constantFrom(
              0x80,
              0x81,
              0x83,
              0x87,
              0x90,
              0x93,
              0xa0,
              0xa4,
              0xc0,
              0xc2,
              0xc3,
              0xcc,
              0xcd,
              0xce,
              0xcf,
            ),
            fc.constantFrom(
              0xd0,
              0xd3,
              0xd9,
              0xda,
              0xdb,
              0xdc,
              0xdd,
              0xde,
              0xdf,
              0xc4,
              0xc7,
              0xd4,
              0xd8,
              0xff,
            ),
            fc.integer({ min: 0, max: 255 }),
          ),
          { maxLength: 120 },
        )
        .map((a) => new Uint8Array(a));
      fc.assert(
        fc.property(fc.constantFrom(...schemas), msgpackish, (s, b) => {
          const r = decodeStruct(b, s as StructSchema<unknown>);
          check(r);
          if (r.ok && r.end > b.length) throw new Error('read past the end');
        }),
        { numRuns: NUM_RUNS.struct },
      );
    },
    TIMEOUT_MS,
  );

  it(
    'lzwDecompress and decodeCompress on random and mutated golden streams, output capped',
    () => {
      const bufs = golden.lzw.map((f) => unhex(f.bufHex!));
      const msgs = golden.lzw.map((f) => unhex(f.hex));
      const cap = 4096;
      fc.assert(
        fc.property(
          fc.oneof(
            fc.uint8Array({ maxLength: 300 }).map((b) => ({ b, msg: false })),
            fc
              .tuple(fc.constantFrom(...bufs), fc.array(mutationArb, { maxLength: 3 }))
              .map(([b, m]) => ({ b: mutate(b, m), msg: false })),
            fc
              .tuple(fc.constantFrom(...msgs), fc.array(mutationArb, { maxLength: 3 }))
              .map(([b, m]) => ({ b: mutate(b, m), msg: true })),
          ),
          ({ b, msg }) => {
            const r = msg ? decodeCompress(b, cap) : lzwDecompress(b, cap);
            check(r);
            if (r.ok && ('output' in r ? r.output : r.payload).length > cap)
              throw new Error('cap exceeded');
          },
        ),
        { numRuns: NUM_RUNS.lzw },
      );
    },
    TIMEOUT_MS,
  );

  it(
    'compound, CRC, label and decryption on random bytes',
    () => {
      const keys = [new Uint8Array(16).fill(1), new Uint8Array(32).fill(2)];
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 4 }),
          fc.uint8Array({ maxLength: 120 }),
          (which, b) => {
            switch (which) {
              case 0:
                check(decodeCompound(new Uint8Array([7, ...b])));
                break;
              case 1:
                check(checkCrc(new Uint8Array([12, ...b])));
                break;
              case 2:
                check(removeLabelHeader(new Uint8Array([244, ...b])));
                break;
              case 3:
                check(decryptPayload(keys, b));
                break;
              default:
                check(decryptPayload(keys, new Uint8Array([b.length & 1, ...b])));
            }
          },
        ),
        { numRuns: NUM_RUNS.small },
      );
    },
    TIMEOUT_MS,
  );

  const checkPacket = (b: Uint8Array, opts: PacketDecodeOptions): void => {
    const r = decodePacket(b, opts);
    check(r);
    if (r.ok) {
      for (const e of r.errors) if (!REASONS.has(e)) throw new Error(`unknown reason ${e}`);
      const total = r.parts.reduce((n, p) => n + p.length, 0);
      if (total > b.length + MAX_DECOMPRESSED) throw new Error('decompression budget exceeded');
    }
  };

  it(
    'decodePacket on random bytes',
    () => {
      fc.assert(
        fc.property(
          fc.oneof(
            fc.uint8Array({ maxLength: 300 }),
            fc
              .tuple(fc.constantFrom(0, 1, 7, 9, 12, 244), fc.uint8Array({ maxLength: 300 }))
              .map(([t, b]) => new Uint8Array([t, ...b])),
          ),
          optionsArb(golden.packets.find((f) => f.keys!.length > 0)),
          checkPacket,
        ),
        { numRuns: NUM_RUNS.packetRandom },
      );
    },
    TIMEOUT_MS,
  );

  it(
    'decodePacket on mutated golden packets (truncation, flips, bad CRC, wrong key or label, lengths)',
    () => {
      fc.assert(
        fc.property(
          fc
            .constantFrom(...golden.packets)
            .chain((f) =>
              fc.tuple(fc.constant(f), fc.array(mutationArb, { maxLength: 4 }), optionsArb(f)),
            ),
          ([f, muts, opts]) => checkPacket(mutate(unhex(f.hex), muts), opts),
        ),
        { numRuns: NUM_RUNS.packetMutated },
      );
    },
    TIMEOUT_MS,
  );

  const checkStream = (b: Uint8Array, opts: StreamDecodeOptions): void => {
    const r = readStreamMessage(b, opts);
    check(r);
    if (r.ok && r.consumed > b.length) throw new Error('consumed more than given');
  };

  it(
    'readStreamMessage on random bytes',
    () => {
      fc.assert(
        fc.property(
          fc
            .tuple(fc.constantFrom(6, 8, 0, 2, 13, 9, 10, 244), fc.uint8Array({ maxLength: 300 }))
            .map(([t, b]) => new Uint8Array([t, ...b])),
          optionsArb(golden.streams.find((f) => f.keys!.length > 0)),
          checkStream,
        ),
        { numRuns: NUM_RUNS.streamRandom },
      );
    },
    TIMEOUT_MS,
  );

  it(
    'readStreamMessage on mutated golden streams',
    () => {
      fc.assert(
        fc.property(
          fc
            .constantFrom(...golden.streams)
            .chain((f) =>
              fc.tuple(fc.constant(f), fc.array(mutationArb, { maxLength: 4 }), optionsArb(f)),
            ),
          ([f, muts, opts]) => checkStream(mutate(unhex(f.hex), muts), opts),
        ),
        { numRuns: NUM_RUNS.streamMutated },
      );
    },
    TIMEOUT_MS,
  );
});
