import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { decodeMessage, encodeMessage } from './message-codec.js';
import { MessageType } from './message-types.js';
import type { Message } from './messages.js';

const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const name = fc.string({ unit: 'grapheme', maxLength: 80 });
const bytes = (max: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength: max });
const ip = fc.oneof(
  fc.uint8Array({ minLength: 4, maxLength: 4 }),
  fc.uint8Array({ minLength: 16, maxLength: 16 }),
);
const vsn = fc.uint8Array({ minLength: 6, maxLength: 6 });
const source = fc.record(
  {
    SourceAddr: ip,
    SourcePort: u16.filter((p) => p > 0),
    SourceNode: name.filter((s) => s !== ''),
  },
  { requiredKeys: [] },
);

const messageArb: fc.Arbitrary<Message> = fc.oneof(
  fc
    .record({ SeqNo: u32, Node: name })
    .chain((b) => source.map((s) => ({ type: MessageType.Ping, body: { ...b, ...s } }) as Message)),
  fc
    .record({ SeqNo: u32, Target: ip, Port: u16, Node: name, Nack: fc.boolean() })
    .chain((b) =>
      source.map((s) => ({ type: MessageType.IndirectPing, body: { ...b, ...s } }) as Message),
    ),
  fc
    .record({ SeqNo: u32, Payload: bytes(300) })
    .map((body) => ({ type: MessageType.AckResp, body }) as Message),
  fc.record({ SeqNo: u32 }).map((body) => ({ type: MessageType.NackResp, body }) as Message),
  fc
    .record({ Incarnation: u32, Node: name, From: name })
    .map((body) => ({ type: MessageType.Suspect, body }) as Message),
  fc
    .record({ Incarnation: u32, Node: name, From: name })
    .map((body) => ({ type: MessageType.Dead, body }) as Message),
  fc
    .record({ Incarnation: u32, Node: name, Addr: ip, Port: u16, Meta: bytes(512), Vsn: vsn })
    .map((body) => ({ type: MessageType.Alive, body }) as Message),
  fc
    .record({ Error: fc.string({ maxLength: 100 }) })
    .map((body) => ({ type: MessageType.Err, body }) as Message),
  bytes(100).map((body) => ({ type: MessageType.User, body }) as Message),
);

describe('message codec', () => {
  it('decodes what it encodes, for every message type and field range', () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        const d = decodeMessage(encodeMessage(m));
        expect(d).toEqual({ ok: true, message: m });
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses layer and stream-only types and empty input', () => {
    expect(decodeMessage(new Uint8Array(0))).toEqual({ ok: false, reason: 'truncated' });
    for (const t of [
      MessageType.PushPull,
      MessageType.Compound,
      MessageType.Compress,
      MessageType.Encrypt,
      MessageType.HasCrc,
      MessageType.HasLabel,
      14,
      255,
    ]) {
      expect(decodeMessage(new Uint8Array([t, 0x80]))).toEqual({
        ok: false,
        reason: 'unknown-type',
      });
    }
  });

  it('refuses values out of range for the Go field type', () => {
    // nackResp{SeqNo: 2^32}
    expect(decodeMessage(Buffer.from('0b81a55365714e6fcf0000000100000000', 'hex'))).toEqual({
      ok: false,
      reason: 'bad-msgpack',
    });
    // alive{Port: -1}
    expect(decodeMessage(Buffer.from('0481a4506f7274ff', 'hex'))).toEqual({
      ok: false,
      reason: 'bad-msgpack',
    });
  });
});
