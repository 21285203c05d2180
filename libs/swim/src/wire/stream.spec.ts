import { describe, expect, it } from '@jest/globals';
import { Keyring } from './keyring.js';
import { MessageType, NodeStateType } from './message-types.js';
import type { PushNodeState } from './messages.js';
import {
  encodeStreamMessage,
  readStreamMessage,
  type StreamDecodeOptions,
  type StreamEncodeOptions,
  type StreamMessage,
} from './stream.js';

const node = (i: number): PushNodeState => ({
  Name: `node-${i}`,
  Addr: new Uint8Array([10, 0, 0, i]),
  Port: 7946,
  Meta: new Uint8Array(0),
  Incarnation: i,
  State: NodeStateType.Alive,
  Vsn: new Uint8Array([1, 5, 2, 0, 1, 1]),
});
const pushPull: StreamMessage = {
  type: MessageType.PushPull,
  join: true,
  nodes: [node(1), node(2)],
  userState: new TextEncoder().encode('state'),
};
const keyring = new Keyring([], new Uint8Array(24).fill(3));

describe('stream framing', () => {
  it.each<[string, StreamEncodeOptions & StreamDecodeOptions]>([
    ['plain', {}],
    ['compressed', { compress: true }],
    ['encrypted', { keyring }],
    ['labelled, compressed and encrypted', { keyring, compress: true, label: 'eu' }],
  ])('round-trips push-pull %s and reports what it consumed', (_n, opts) => {
    const bytes = encodeStreamMessage(pushPull, opts);
    const next = encodeStreamMessage({ type: MessageType.Err, body: { Error: 'x' } }, opts);
    const both = new Uint8Array([...bytes, ...next]);
    const r = readStreamMessage(both, opts);
    if (!r.ok) throw new Error(r.reason);
    expect(r.message).toEqual(pushPull);
    expect(r.consumed).toBe(bytes.length);
    const r2 = readStreamMessage(both.subarray(r.consumed), opts);
    expect(r2.ok && r2.message).toEqual({ type: MessageType.Err, body: { Error: 'x' } });
  });

  it('round-trips user messages, stream pings and acks', () => {
    const msgs: StreamMessage[] = [
      { type: MessageType.User, payload: new Uint8Array([1, 2, 3]) },
      { type: MessageType.User, payload: new Uint8Array(0) },
      { type: MessageType.Ping, body: { SeqNo: 9, Node: 'b' } },
      { type: MessageType.AckResp, body: { SeqNo: 9, Payload: new Uint8Array(0) } },
    ];
    for (const m of msgs) {
      const r = readStreamMessage(encodeStreamMessage(m));
      expect(r.ok && r.message).toEqual(m);
    }
  });

  it('answers truncated for every prefix: the caller reads more', () => {
    const bytes = encodeStreamMessage(pushPull, { keyring, label: 'eu' });
    for (let cut = 0; cut < bytes.length; cut++) {
      expect(readStreamMessage(bytes.subarray(0, cut), { keyring, label: 'eu' })).toEqual({
        ok: false,
        reason: 'truncated',
      });
    }
  });

  it('refuses plaintext when encryption is on, and ciphertext without keys', () => {
    expect(readStreamMessage(encodeStreamMessage(pushPull), { keyring })).toEqual({
      ok: false,
      reason: 'encryption-required',
    });
    expect(
      readStreamMessage(encodeStreamMessage(pushPull), { keyring, verifyIncoming: false }).ok,
    ).toBe(true);
    expect(readStreamMessage(encodeStreamMessage(pushPull, { keyring }))).toEqual({
      ok: false,
      reason: 'decrypt-failed',
    });
  });

  it('authenticates the stream label and the length header', () => {
    const bytes = encodeStreamMessage(pushPull, { keyring, label: 'eu' });
    expect(readStreamMessage(bytes, { keyring, label: 'us' })).toEqual({
      ok: false,
      reason: 'label-mismatch',
    });
    const noLabel = bytes.subarray(4);
    expect(
      readStreamMessage(noLabel, { keyring, label: 'eu', skipInboundLabelCheck: true }).ok,
    ).toBe(true);
    expect(readStreamMessage(noLabel, { keyring })).toEqual({
      ok: false,
      reason: 'decrypt-failed',
    });
  });

  it('refuses declared sizes over the limits before buffering them', () => {
    const big = new Uint8Array([MessageType.Encrypt, 0x02, 0x00, 0x00, 0x00]);
    expect(readStreamMessage(big, { keyring })).toEqual({ ok: false, reason: 'too-large' });
    // pushPullHeader{Nodes: 0, UserStateLen: 2^31, Join: false}
    const header = Buffer.from(
      '0683a44a6f696ec2a54e6f64657300ac5573657253746174654c656ece80000000',
      'hex',
    );
    expect(readStreamMessage(header)).toEqual({ ok: false, reason: 'too-large' });
    const plain = encodeStreamMessage(pushPull);
    expect(readStreamMessage(plain.subarray(0, 40), { maxStreamBytes: 40 })).toEqual({
      ok: false,
      reason: 'too-large',
    });
  });

  it('refuses unknown stream message types and negative counts', () => {
    expect(readStreamMessage(new Uint8Array([MessageType.Alive, 0x80]))).toEqual({
      ok: false,
      reason: 'unknown-type',
    });
    const negative = Buffer.from('0681a54e6f646573ff', 'hex');
    expect(readStreamMessage(negative)).toEqual({ ok: false, reason: 'bad-msgpack' });
  });
});
