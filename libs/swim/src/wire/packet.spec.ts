import { describe, expect, it } from '@jest/globals';
import { encodeCompound } from './compound.js';
import { encodeCompress } from './compress.js';
import { addCrc } from './crc.js';
import { Keyring } from './keyring.js';
import { encodeMessage } from './message-codec.js';
import { MessageType } from './message-types.js';
import type { Message } from './messages.js';
import { decodePacket, encodePacket, encodePacketMessages, unwrapPacket } from './packet.js';

const ping: Message = { type: MessageType.Ping, body: { SeqNo: 7, Node: 'node-b' } };
const suspect: Message = {
  type: MessageType.Suspect,
  body: { Incarnation: 3, Node: 'node-c', From: 'node-a' },
};
const user: Message = { type: MessageType.User, body: new Uint8Array([1, 2, 3]) };
const key16 = new Uint8Array(16).fill(1);
const key32 = new Uint8Array(32).fill(2);
const nonce = new Uint8Array(12).fill(5);
const bigAlives = Array.from({ length: 10 }, (_, i) =>
  encodeMessage({
    type: MessageType.Alive,
    body: {
      Incarnation: i,
      Node: `node-${i}`,
      Addr: new Uint8Array([10, 0, 0, i]),
      Port: 7946,
      Meta: new TextEncoder().encode('role=worker;zone=a'),
      Vsn: new Uint8Array([1, 5, 2, 0, 1, 1]),
    },
  }),
);

describe('packet pipeline', () => {
  it('round-trips messages through every layer: compound, LZW, CRC, AES-GCM, label', () => {
    const keyring = new Keyring([key16], key32);
    const parts = [encodeMessage(ping), ...bigAlives, encodeMessage(user)];
    const packet = encodePacketMessages(parts, {
      compress: true,
      crc: true,
      keyring,
      label: 'prod',
    });
    expect(packet[0]).toBe(MessageType.HasLabel);
    const d = decodePacket(packet, { keyring, label: 'prod' });
    if (!d.ok) throw new Error(d.reason);
    expect(d.label).toBe('prod');
    expect(d.errors).toEqual([]);
    expect(d.messages.map(encodeMessage)).toEqual(parts);
  });

  it('compresses only when that makes the packet smaller, as Go', () => {
    const small = encodeMessage(ping);
    expect(encodePacket(small, { compress: true })).toEqual(small);
    const big = encodeCompound(bigAlives);
    expect(encodePacket(big, { compress: true })[0]).toBe(MessageType.Compress);
  });

  it('authenticates the label: the right key with another label fails', () => {
    const keyring = new Keyring([], key16);
    const packet = encodePacket(encodeMessage(ping), { keyring, label: 'a', nonce });
    expect(decodePacket(packet, { keyring, label: 'b' })).toEqual({
      ok: false,
      reason: 'label-mismatch',
    });
    // Strip the header and claim another label: the GCM tag no longer verifies.
    const relabelled = new Uint8Array([244, 1, 0x62, ...packet.subarray(3)]);
    expect(decodePacket(relabelled, { keyring, label: 'b' })).toEqual({
      ok: false,
      reason: 'decrypt-failed',
    });
  });

  it('refuses unlabelled packets when a label is configured, and labelled ones when not', () => {
    const plain = encodePacket(encodeMessage(ping));
    expect(decodePacket(plain, { label: 'x' })).toEqual({ ok: false, reason: 'label-mismatch' });
    const labelled = encodePacket(encodeMessage(ping), { label: 'x' });
    expect(decodePacket(labelled)).toEqual({ ok: false, reason: 'label-mismatch' });
  });

  it('skipInboundLabelCheck: unlabelled input counts as ours; a label header is refused', () => {
    const keyring = new Keyring([], key16);
    const sealed = encodePacket(encodeMessage(ping), { keyring, label: 'x' }).subarray(3);
    const d = decodePacket(sealed, { keyring, label: 'x', skipInboundLabelCheck: true });
    expect(d.ok && d.label).toBe('x');
    const labelled = encodePacket(encodeMessage(ping), { label: 'x' });
    expect(decodePacket(labelled, { label: 'x', skipInboundLabelCheck: true }).ok).toBe(false);
  });

  it('with encryption on, refuses plaintext unless verifyIncoming is off', () => {
    const keyring = new Keyring([], key16);
    const plain = encodePacket(encodeMessage(ping));
    expect(decodePacket(plain, { keyring }).ok).toBe(false);
    const d = decodePacket(plain, { keyring, verifyIncoming: false });
    expect(d.ok && d.messages).toEqual([ping]);
  });

  it('sends plaintext when verifyOutgoing is off, and uses encryption version 0 on request', () => {
    const keyring = new Keyring([], key16);
    const m = encodeMessage(ping);
    expect(encodePacket(m, { keyring, verifyOutgoing: false })).toEqual(m);
    expect(encodePacket(m, { keyring, encryptionVersion: 0 })[0]).toBe(0);
    expect(encodePacket(m, { keyring })[0]).toBe(1);
  });

  it('drops a packet whose CRC does not match', () => {
    const p = encodePacket(encodeMessage(ping), { crc: true });
    p[p.length - 1] ^= 0xff;
    expect(decodePacket(p)).toEqual({ ok: false, reason: 'bad-crc' });
  });

  it('keeps the good parts of a compound and reports the bad ones', () => {
    const parts = [
      encodeMessage(ping),
      new Uint8Array([99, 1]),
      new Uint8Array([MessageType.Alive, 0xc1]),
      new Uint8Array(0),
      encodeMessage(suspect),
    ];
    const d = decodePacket(encodeCompound(parts));
    if (!d.ok) throw new Error(d.reason);
    expect(d.messages).toEqual([ping, suspect]);
    expect(d.errors).toEqual(['unknown-type', 'truncated', 'bad-msgpack']);
  });

  it('refuses stream-only and layer types as packet messages, as handleCommand does', () => {
    for (const t of [
      MessageType.PushPull,
      MessageType.Err,
      MessageType.Encrypt,
      MessageType.HasCrc,
    ]) {
      expect(unwrapPacket(new Uint8Array([t, 0x80]))).toEqual({
        ok: false,
        reason: 'unknown-type',
      });
    }
  });

  it('unwraps nested compound and compress layers, up to a bound', () => {
    const inner = encodeCompound([
      encodeMessage(ping),
      encodeCompress(encodeCompound([encodeMessage(suspect)])),
    ]);
    const d = decodePacket(encodeCompress(inner));
    expect(d.ok && d.messages).toEqual([ping, suspect]);
    let deep = encodeMessage(ping);
    for (let i = 0; i < 5; i++) deep = encodeCompound([deep]);
    expect(decodePacket(deep)).toEqual({ ok: false, reason: 'too-deep' });
  });

  it('caps decompressed bytes across the whole packet', () => {
    const bomb = encodeCompress(new Uint8Array(5_000_000).fill(MessageType.User));
    expect(bomb.length).toBeLessThan(20_000);
    expect(decodePacket(bomb)).toEqual({ ok: false, reason: 'too-large' });
    const twice = encodeCompound([
      encodeCompress(new Uint8Array(600_000).fill(8)),
      encodeCompress(new Uint8Array(600_000).fill(8)),
    ]);
    const d = unwrapPacket(twice);
    expect(d.ok && d.errors).toEqual(['too-large']);
    expect(d.ok && d.parts.length).toBe(1);
  });

  it('a CRC header inside the plaintext is checked after decryption', () => {
    const keyring = new Keyring([], key16);
    const p = encodePacket(encodeMessage(ping), { keyring, crc: true });
    expect(decodePacket(p, { keyring }).ok).toBe(true);
    const corrupt = encodePacket(
      addCrc(encodeMessage(ping)).map((b, i) => (i === 6 ? b ^ 1 : b)),
      { keyring },
    );
    expect(decodePacket(corrupt, { keyring })).toEqual({ ok: false, reason: 'bad-crc' });
  });
});
