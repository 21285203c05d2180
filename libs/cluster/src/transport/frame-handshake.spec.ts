/**
 * Preambles: plain and sealed round trips, and every refusal (bad first byte, version, sealing
 * mismatch, wrong key, reflected role, bad UTF-8); frame sealing with key rotation.
 */
import { describe, expect, it } from '@jest/globals';
import { Keyring } from '@plumtree/swim';
import {
  encodePreamble,
  MAX_NAME_BYTES,
  openFrame,
  parsePreamble,
  PLUMTREE_STREAM_FIRST_BYTE,
  sealFrame,
  validateNodeName,
} from './frame-handshake.js';

const K1 = new Uint8Array(32).fill(1);
const K2 = new Uint8Array(16).fill(2);

describe('preamble', () => {
  it('round-trips a plain name and reports what it consumed', () => {
    const p = encodePreamble('dialer', 'node-ä', null);
    expect(p[0]).toBe(PLUMTREE_STREAM_FIRST_BYTE);
    const withTail = Buffer.concat([p, Buffer.from([9, 9])]);
    expect(parsePreamble(withTail, 'dialer', null)).toEqual({
      kind: 'done',
      name: 'node-ä',
      consumed: p.length,
    });
  });

  it('asks for more until the whole preamble is there', () => {
    const p = encodePreamble('dialer', 'abc', new Keyring([], K1));
    for (let n = 0; n < p.length; n++) {
      expect(parsePreamble(p.subarray(0, n), 'dialer', new Keyring([], K1)).kind).toBe('more');
    }
  });

  it('opens a sealed name with any key of the ring', () => {
    const p = encodePreamble('acceptor', 'b', new Keyring([], K2));
    const step = parsePreamble(p, 'acceptor', new Keyring([K2], K1));
    expect(step).toMatchObject({ kind: 'done', name: 'b' });
  });

  it.each([
    ['a wrong key', new Keyring([], K1), 'dialer', new Keyring([], K2), 'auth-failed'],
    ['a reflected role', new Keyring([], K1), 'acceptor', new Keyring([], K1), 'auth-failed'],
    ['plain to a sealed end', null, 'dialer', new Keyring([], K1), 'encryption-mismatch'],
    ['sealed to a plain end', new Keyring([], K1), 'dialer', null, 'encryption-mismatch'],
  ] as const)('refuses %s', (_what, sendRing, parseRole, recvRing, reason) => {
    const p = encodePreamble('dialer', 'a', sendRing);
    expect(parsePreamble(p, parseRole, recvRing)).toEqual({ kind: 'error', reason });
  });

  it('refuses a wrong first byte at once, an unknown version and bad names', () => {
    expect(parsePreamble(Uint8Array.of(0x51), 'dialer', null)).toEqual({
      kind: 'error',
      reason: 'bad-preamble',
    });
    expect(parsePreamble(Uint8Array.of(0x50, 2, 1, 65), 'dialer', null)).toMatchObject({
      reason: 'bad-version',
    });
    expect(parsePreamble(Uint8Array.of(0x50, 1, 0), 'dialer', null)).toMatchObject({
      reason: 'bad-name',
    });
    expect(parsePreamble(Uint8Array.of(0x50, 1, 1, 0xff), 'dialer', null)).toMatchObject({
      reason: 'bad-name',
    });
  });

  it('bounds node names', () => {
    expect(() => validateNodeName('x'.repeat(MAX_NAME_BYTES))).not.toThrow();
    expect(() => validateNodeName('x'.repeat(MAX_NAME_BYTES + 1))).toThrow(RangeError);
    expect(() => validateNodeName('')).toThrow(RangeError);
  });
});

describe('frame sealing', () => {
  it('opens with the sealing key among others and refuses tampering', () => {
    const frame = Uint8Array.from({ length: 100 }, (_, i) => i);
    const sealed = sealFrame(K2, frame);
    expect(openFrame([K1, K2], sealed)).toEqual(frame);
    expect(openFrame([K1], sealed)).toBeUndefined();
    sealed[20]! ^= 1;
    expect(openFrame([K2], sealed)).toBeUndefined();
    expect(openFrame([K2], new Uint8Array(5))).toBeUndefined();
  });
});
