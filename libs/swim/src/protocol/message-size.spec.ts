import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { MessageType } from '../wire/message-types.js';
import { encodeMessage } from '../wire/message-codec.js';
import type { Message } from '../wire/messages.js';
import { estimateEncodedSize } from './message-size.js';

// The estimate must never be below what the codec writes, or a packet filled against
// udpBufferSize could overflow it.
const bytes = (max: number) => fc.uint8Array({ maxLength: max });
const ip = fc.oneof(
  fc.uint8Array({ minLength: 4, maxLength: 4 }),
  fc.uint8Array({ minLength: 16, maxLength: 16 }),
);
const name = fc.string({ maxLength: 80, unit: 'binary' });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const port = fc.integer({ min: 0, max: 65535 });

const message: fc.Arbitrary<Message> = fc.oneof(
  fc
    .record({ SeqNo: u32, Node: name, SourceAddr: ip, SourcePort: port, SourceNode: name })
    .map((body) => ({ type: MessageType.Ping, body })),
  fc.record({ SeqNo: u32, Node: name }).map((body) => ({ type: MessageType.Ping, body })),
  fc
    .record({
      SeqNo: u32,
      Target: ip,
      Port: port,
      Node: name,
      Nack: fc.boolean(),
      SourceAddr: ip,
      SourcePort: port,
      SourceNode: name,
    })
    .map((body) => ({ type: MessageType.IndirectPing, body })),
  fc
    .record({ SeqNo: u32, Payload: bytes(300) })
    .map((body) => ({ type: MessageType.AckResp, body })),
  fc.record({ SeqNo: u32 }).map((body) => ({ type: MessageType.NackResp, body })),
  fc
    .record({ Incarnation: u32, Node: name, From: name })
    .map((body) => ({ type: MessageType.Suspect, body })),
  fc
    .record({ Incarnation: u32, Node: name, From: name })
    .map((body) => ({ type: MessageType.Dead, body })),
  fc
    .record({
      Incarnation: u32,
      Node: name,
      Addr: ip,
      Port: port,
      Meta: bytes(512),
      Vsn: fc.uint8Array({ minLength: 6, maxLength: 6 }),
    })
    .map((body) => ({ type: MessageType.Alive, body })),
  bytes(1000).map((body) => ({ type: MessageType.User, body })),
);

describe('estimateEncodedSize', () => {
  it('is never below the codec output', () => {
    fc.assert(
      fc.property(message, (m) => {
        expect(estimateEncodedSize(m)).toBeGreaterThanOrEqual(encodeMessage(m).length);
      }),
      { numRuns: 2000, seed: 7 },
    );
  });

  it('stays close for typical membership messages (within 16 bytes)', () => {
    const alive: Message = {
      type: MessageType.Alive,
      body: {
        Incarnation: 3,
        Node: 'node-12',
        Addr: Uint8Array.of(10, 0, 0, 12),
        Port: 7946,
        Meta: new Uint8Array(40),
        Vsn: Uint8Array.of(1, 5, 2, 0, 0, 0),
      },
    };
    const suspect: Message = {
      type: MessageType.Suspect,
      body: { Incarnation: 3, Node: 'node-12', From: 'node-3' },
    };
    for (const m of [alive, suspect]) {
      const real = encodeMessage(m).length;
      expect(estimateEncodedSize(m) - real).toBeLessThanOrEqual(16);
    }
  });
});
