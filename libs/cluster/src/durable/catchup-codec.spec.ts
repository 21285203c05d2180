/**
 * Catch-up frames: round trips of valid frames, rejection of malformed ones, and a fuzz of the
 * decoder (100,000 cases per run in total) that checks it never throws and that whatever it
 * accepts is a valid frame (it re-encodes and decodes to the same value).
 *
 * The seed is fixed so a run is reproducible; set FUZZ_SEED to explore others.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  CATCHUP_MAX_HEADERS,
  CATCHUP_MAX_MARKS,
  CATCHUP_REQUEST_KIND,
  CATCHUP_RESPONSE_KIND,
  catchupHeaderBytes,
  catchupMarkBytes,
  catchupRecordBytes,
  CatchupStatus,
  decodeCatchupFrame,
  encodeCatchupRequest,
  encodeCatchupResponse,
  type CatchupRequest,
  type CatchupResponse,
} from './catchup-codec.js';
import type { DurableRecord } from './durable-log.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0xca7c4);

const name = fc.oneof(
  fc.constantFrom('a', 'node-1', 'ü-node', '日本', '😀', 'n'.repeat(300)),
  fc.string({ minLength: 1, maxLength: 20 }),
);
const safe = fc.oneof(
  fc.nat(1000),
  fc.constant(Number.MAX_SAFE_INTEGER),
  fc.integer({ min: 1_764_000_000_000, max: 1_764_000_100_000 }),
);
const mark = fc.record({ origin: name, epoch: safe, hwm: safe });
const headers = fc.option(
  fc
    .uniqueArray(fc.tuple(fc.oneof(fc.string(), fc.constant('__proto__')), fc.string()), {
      selector: ([k]) => k,
      maxLength: 4,
    })
    .map((e) => Object.fromEntries(e) as Record<string, string>),
  { nil: undefined },
);
const record: fc.Arbitrary<DurableRecord> = fc.record({
  origin: name,
  epoch: safe,
  seq: safe.map((s) => Math.max(1, s)),
  publishedAtMs: safe,
  headers,
  payload: fc.uint8Array({ maxLength: 64 }),
});
const u32 = fc.nat(0xffffffff);
const request: fc.Arbitrary<Omit<CatchupRequest, 'kind'>> = fc.record({
  requestId: u32,
  topic: name,
  marks: fc.array(mark, { maxLength: 5 }),
  maxMessages: u32,
  maxBytes: u32,
});
const response: fc.Arbitrary<Omit<CatchupResponse, 'kind'>> = fc.oneof(
  fc.record({
    requestId: u32,
    topic: name,
    status: fc.constant(CatchupStatus.Ok),
    more: fc.boolean(),
    records: fc.array(record, { maxLength: 4 }),
  }),
  fc.record({
    requestId: u32,
    topic: name,
    status: fc.constantFrom(CatchupStatus.NotDurable, CatchupStatus.Error),
    more: fc.constant(false),
    records: fc.constant([]),
  }),
);
const validFrame = fc.oneof(
  request.map((r) => encodeCatchupRequest(r)),
  response.map((r) => encodeCatchupResponse(r)),
);

/** Decoded frames compare with plain arrays for payloads. */
function normalize(d: unknown): unknown {
  return JSON.parse(
    JSON.stringify(d, (_k, v: unknown) => (v instanceof Uint8Array ? Array.from(v) : v)),
  );
}

function reencode(d: CatchupRequest | CatchupResponse): Uint8Array {
  return d.kind === CATCHUP_REQUEST_KIND ? encodeCatchupRequest(d) : encodeCatchupResponse(d);
}

describe('catch-up codec', () => {
  it('round-trips requests', () => {
    fc.assert(
      fc.property(request, (r) => {
        const bytes = encodeCatchupRequest(r);
        expect(bytes[0]).toBe(CATCHUP_REQUEST_KIND);
        expect(bytes.length).toBe(
          catchupHeaderBytes(r.topic) + r.marks.reduce((n, m) => n + catchupMarkBytes(m), 0),
        );
        expect(decodeCatchupFrame(bytes)).toEqual({ kind: CATCHUP_REQUEST_KIND, ...r });
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it('round-trips responses, keeping "no headers" apart from empty headers', () => {
    fc.assert(
      fc.property(response, (r) => {
        const bytes = encodeCatchupResponse(r);
        expect(bytes[0]).toBe(CATCHUP_RESPONSE_KIND);
        expect(bytes.length).toBe(
          catchupHeaderBytes(r.topic) -
            6 +
            r.records.reduce((n, x) => n + catchupRecordBytes(x), 0),
        );
        const d = decodeCatchupFrame(bytes) as CatchupResponse;
        expect(d).not.toBeNull();
        expect(normalize(d)).toEqual(normalize({ kind: CATCHUP_RESPONSE_KIND, ...r }));
        d.records.forEach((x, i) => {
          expect(x.headers === undefined).toBe(r.records[i]!.headers === undefined);
          expect(Object.getPrototypeOf(x.headers ?? {})).toBe(Object.prototype);
        });
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it('keeps a "__proto__" header as a plain header', () => {
    const headers = Object.fromEntries([['__proto__', 'x']]) as Record<string, string>;
    const rec = {
      origin: 'o',
      epoch: 1,
      seq: 1,
      publishedAtMs: 2,
      headers,
      payload: Uint8Array.of(7),
    };
    const bytes = encodeCatchupResponse({
      requestId: 1,
      topic: 't',
      status: CatchupStatus.Ok,
      more: false,
      records: [rec],
    });
    const d = decodeCatchupFrame(bytes) as CatchupResponse;
    expect(Object.keys(d.records[0]!.headers!)).toEqual(['__proto__']);
    expect(d.records[0]!.headers!['__proto__']).toBe('x');
  });

  const ok = (records: DurableRecord[], more = false): Uint8Array =>
    encodeCatchupResponse({ requestId: 9, topic: 't', status: CatchupStatus.Ok, more, records });
  const rec: DurableRecord = {
    origin: 'o',
    epoch: 5,
    seq: 3,
    publishedAtMs: 4,
    headers: undefined,
    payload: Uint8Array.of(1, 2, 3),
  };

  it('rejects truncation, trailing bytes and unknown kinds', () => {
    const good = ok([rec]);
    expect(decodeCatchupFrame(good)).not.toBeNull();
    for (let n = 0; n < good.length; n++)
      expect(decodeCatchupFrame(good.subarray(0, n))).toBeNull();
    expect(decodeCatchupFrame(Uint8Array.of(...good, 0))).toBeNull();
    expect(decodeCatchupFrame(Uint8Array.of(0x85, ...good.subarray(1)))).toBeNull();
    const req = encodeCatchupRequest({
      requestId: 1,
      topic: 't',
      marks: [],
      maxMessages: 1,
      maxBytes: 1,
    });
    expect(decodeCatchupFrame(Uint8Array.of(...req, 0))).toBeNull();
  });

  it('rejects a non-Ok response that carries records or more, and unknown status or flags', () => {
    const good = ok([rec], true);
    const withStatus = (s: number): Uint8Array =>
      Uint8Array.from(good, (b, i) => (i === 5 ? s : b));
    expect(decodeCatchupFrame(withStatus(CatchupStatus.NotDurable))).toBeNull();
    expect(decodeCatchupFrame(withStatus(3))).toBeNull();
    const flags = Uint8Array.from(good, (b, i) => (i === 6 ? 2 : b));
    expect(decodeCatchupFrame(flags)).toBeNull();
    const empty = Uint8Array.from(ok([], true), (b, i) => (i === 5 ? CatchupStatus.Error : b));
    expect(decodeCatchupFrame(empty)).toBeNull();
    expect(() =>
      encodeCatchupResponse({
        requestId: 1,
        topic: 't',
        status: CatchupStatus.Error,
        more: true,
        records: [],
      }),
    ).toThrow(RangeError);
  });

  it('rejects seq 0, integers above 2^53 - 1, bad UTF-8, repeated header keys and an empty topic', () => {
    const good = ok([rec]);
    // Record starts after the 13 + 1 byte header: u16 origin length, "o", u64 epoch, u64 seq.
    const recAt = 13 + 1;
    const seqAt = recAt + 2 + 1 + 8;
    const seq0 = Uint8Array.from(good);
    new DataView(seq0.buffer).setBigUint64(seqAt, 0n);
    expect(decodeCatchupFrame(seq0)).toBeNull();
    const big = Uint8Array.from(good);
    new DataView(big.buffer).setBigUint64(seqAt, 2n ** 53n);
    expect(decodeCatchupFrame(big)).toBeNull();
    const max = Uint8Array.from(good);
    new DataView(max.buffer).setBigUint64(seqAt, 2n ** 53n - 1n);
    expect((decodeCatchupFrame(max) as CatchupResponse).records[0]!.seq).toBe(
      Number.MAX_SAFE_INTEGER,
    );
    const badUtf8 = Uint8Array.from(good, (b, i) => (i === recAt + 2 ? 0xff : b));
    expect(decodeCatchupFrame(badUtf8)).toBeNull();
    const twoHeaders = ok([{ ...rec, headers: { a: '1', b: '2' } }]);
    const hdrAt = recAt + 2 + 1 + 24 + 2;
    // Rename key "b" to "a".
    const dup = Uint8Array.from(twoHeaders, (b, i) => (i === hdrAt + 2 + 1 + 2 + 1 + 2 ? 0x61 : b));
    const renamed = Uint8Array.from(twoHeaders, (b, i) =>
      i === hdrAt + 2 + 1 + 2 + 1 + 2 ? 0x63 : b,
    );
    // The same edit with another letter decodes: the offset is the second key's only byte.
    expect((decodeCatchupFrame(renamed) as CatchupResponse).records[0]!.headers).toEqual({
      a: '1',
      c: '2',
    });
    expect(decodeCatchupFrame(dup)).toBeNull();
    const noTopic = Uint8Array.of(
      CATCHUP_REQUEST_KIND,
      0,
      0,
      0,
      1,
      0,
      0,
      0,
      0,
      0,
      1,
      0,
      0,
      0,
      1,
      0,
      0,
      0,
      0,
    );
    expect(decodeCatchupFrame(noTopic)).toBeNull();
  });

  it('rejects counts above the caps or above what the bytes left could hold', () => {
    const req = encodeCatchupRequest({
      requestId: 1,
      topic: 't',
      marks: [],
      maxMessages: 1,
      maxBytes: 1,
    });
    const countAt = req.length - 4;
    const tooMany = Uint8Array.from(req);
    new DataView(tooMany.buffer).setUint32(countAt, CATCHUP_MAX_MARKS + 1);
    expect(decodeCatchupFrame(tooMany)).toBeNull();
    const huge = Uint8Array.from(ok([]));
    new DataView(huge.buffer).setUint32(huge.length - 4, 0xffffffff);
    expect(decodeCatchupFrame(huge)).toBeNull();
    const manyHeaders = Object.fromEntries(
      Array.from({ length: CATCHUP_MAX_HEADERS + 1 }, (_, i) => [`h${i}`, '']),
    );
    expect(() => ok([{ ...rec, headers: manyHeaders }])).toThrow(RangeError);
  });

  it('throws RangeError when encoding values outside the layout', () => {
    const base = { requestId: 1, topic: 't', marks: [], maxMessages: 1, maxBytes: 1 };
    expect(() => encodeCatchupRequest({ ...base, topic: '' })).toThrow(RangeError);
    expect(() => encodeCatchupRequest({ ...base, requestId: 2 ** 32 })).toThrow(RangeError);
    expect(() =>
      encodeCatchupRequest({ ...base, marks: [{ origin: 'o', epoch: -1, hwm: 0 }] }),
    ).toThrow(RangeError);
    expect(() => ok([{ ...rec, seq: 0 }])).toThrow(RangeError);
    expect(() => ok([{ ...rec, origin: 'x'.repeat(1025) }])).toThrow(RangeError);
  });

  describe('fuzz (100,000 cases)', () => {
    const check = (bytes: Uint8Array): void => {
      const d = decodeCatchupFrame(bytes);
      if (d === null) return;
      // Whatever decodes is a valid frame: it re-encodes, and decodes to the same value.
      const again = decodeCatchupFrame(reencode(d));
      expect(normalize(again)).toEqual(normalize(d));
    };

    it('never throws on random bytes behind a catch-up kind byte', () => {
      fc.assert(
        fc.property(
          fc.constantFrom(CATCHUP_REQUEST_KIND, CATCHUP_RESPONSE_KIND),
          fc.uint8Array({ maxLength: 96 }),
          (kind, rest) => check(Uint8Array.of(kind, ...rest)),
        ),
        { seed: SEED, numRuns: 40_000 },
      );
    });

    it('never throws on valid frames with bytes flipped, cut or inserted', () => {
      const mutated = fc
        .tuple(
          validFrame,
          fc.array(fc.tuple(fc.nat(), fc.nat(255), fc.nat(2)), { minLength: 1, maxLength: 4 }),
        )
        .map(([frame, edits]) => {
          let b = Array.from(frame);
          for (const [at, value, op] of edits) {
            const i = b.length === 0 ? 0 : at % b.length;
            if (op === 0) b[i] = value;
            else if (op === 1) b = b.slice(0, i);
            else b.splice(i, 0, value);
          }
          return Uint8Array.from(b);
        });
      fc.assert(fc.property(mutated, check), { seed: SEED, numRuns: 50_000 });
    });

    it('decodes every valid frame', () => {
      fc.assert(
        fc.property(validFrame, (f) => {
          expect(decodeCatchupFrame(f)).not.toBeNull();
          check(f);
        }),
        { seed: SEED, numRuns: 10_000 },
      );
    });
  });
});
