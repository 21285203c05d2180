import { describe, expect, it } from '@jest/globals';
import { decryptPayload, encryptedLength, encryptOverhead, encryptPayload } from './encryption.js';
import { Keyring, KeyringError } from './keyring.js';
import { EncryptionVersion } from './message-types.js';

const key = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill);
const nonce = new Uint8Array(12).fill(9);
const msg = new TextEncoder().encode('memberlist');

describe('AES-GCM payloads (security.go)', () => {
  it.each([16, 24, 32])('seals and opens with a %d-byte key, both versions', (n) => {
    for (const v of [EncryptionVersion.Pkcs7, EncryptionVersion.NoPadding]) {
      const sealed = encryptPayload(v, key(n, 1), msg, undefined, nonce);
      expect(sealed.length).toBe(encryptedLength(v, msg.length));
      expect(sealed[0]).toBe(v);
      expect(decryptPayload([key(n, 1)], sealed)).toEqual({ ok: true, plaintext: msg });
    }
  });

  it('pads version 0 with PKCS#7, a whole block when already aligned', () => {
    expect(encryptedLength(EncryptionVersion.Pkcs7, 16)).toBe(1 + 12 + 32 + 16);
    expect(encryptedLength(EncryptionVersion.Pkcs7, 15)).toBe(1 + 12 + 16 + 16);
    expect(encryptOverhead(EncryptionVersion.Pkcs7)).toBe(45);
    expect(encryptOverhead(EncryptionVersion.NoPadding)).toBe(29);
  });

  it('tries every key in order, and fails when none opens it', () => {
    const sealed = encryptPayload(1, key(16, 2), msg, undefined, nonce);
    expect(decryptPayload([key(16, 1), key(32, 3), key(16, 2)], sealed).ok).toBe(true);
    expect(decryptPayload([key(16, 1)], sealed)).toEqual({ ok: false, reason: 'decrypt-failed' });
  });

  it('authenticates the additional data (the label)', () => {
    const aad = new TextEncoder().encode('cluster-a');
    const sealed = encryptPayload(1, key(16, 1), msg, aad, nonce);
    expect(decryptPayload([key(16, 1)], sealed, aad).ok).toBe(true);
    expect(decryptPayload([key(16, 1)], sealed, new TextEncoder().encode('cluster-b')).ok).toBe(
      false,
    );
    expect(decryptPayload([key(16, 1)], sealed).ok).toBe(false);
  });

  it('refuses unknown versions and payloads shorter than an empty one', () => {
    const sealed = encryptPayload(1, key(16, 1), msg, undefined, nonce);
    sealed[0] = 2;
    expect(decryptPayload([key(16, 1)], sealed)).toEqual({
      ok: false,
      reason: 'unsupported-version',
    });
    expect(decryptPayload([key(16, 1)], new Uint8Array(28).fill(1))).toEqual({
      ok: false,
      reason: 'truncated',
    });
    expect(decryptPayload([key(16, 1)], new Uint8Array(44))).toEqual({
      ok: false,
      reason: 'truncated',
    });
    expect(decryptPayload([key(16, 1)], new Uint8Array(0))).toEqual({
      ok: false,
      reason: 'truncated',
    });
  });

  it('refuses bad PKCS#7 padding where Go would panic', () => {
    // Version 0 framing around a plaintext whose last byte claims 200 bytes of padding.
    const plain = new Uint8Array(16).fill(200);
    const sealed = encryptPayload(1, key(16, 1), plain, undefined, nonce);
    sealed[0] = 0;
    // Re-seal as version 1 bytes but labelled 0: GCM does not cover the version byte.
    expect(decryptPayload([key(16, 1)], sealed)).toEqual({ ok: false, reason: 'decrypt-failed' });
  });

  it('draws a fresh random nonce when none is given', () => {
    const a = encryptPayload(1, key(16, 1), msg);
    const b = encryptPayload(1, key(16, 1), msg);
    expect(Buffer.from(a.subarray(1, 13)).equals(Buffer.from(b.subarray(1, 13)))).toBe(false);
  });
});

describe('Keyring (keyring.go)', () => {
  it('puts the primary first and drops duplicates', () => {
    const k = new Keyring([key(16, 1), key(24, 2), key(16, 1)], key(32, 3));
    expect(k.getKeys()).toEqual([key(32, 3), key(16, 1), key(24, 2)]);
    expect(k.getPrimaryKey()).toEqual(key(32, 3));
    expect(k.enabled).toBe(true);
  });

  it('switches primary with useKey, keeping the others in order', () => {
    const k = new Keyring([key(16, 1), key(16, 2)], key(16, 3));
    k.useKey(key(16, 2));
    expect(k.getKeys()).toEqual([key(16, 2), key(16, 3), key(16, 1)]);
    expect(() => k.useKey(key(16, 9))).toThrow(KeyringError);
  });

  it('removes keys but never the primary', () => {
    const k = new Keyring([key(16, 1)], key(16, 3));
    expect(() => k.removeKey(key(16, 3))).toThrow(KeyringError);
    k.removeKey(key(16, 1));
    expect(k.getKeys()).toEqual([key(16, 3)]);
  });

  it('validates key sizes and refuses keys without a primary', () => {
    expect(() => new Keyring([], key(15, 1))).toThrow(KeyringError);
    expect(() => new Keyring([key(16, 1)])).toThrow(KeyringError);
    expect(new Keyring().enabled).toBe(false);
  });

  it('copies keys, so the caller mutating its array does not change the ring', () => {
    const raw = key(16, 1);
    const k = new Keyring([], raw);
    raw.fill(0);
    expect(k.getPrimaryKey()).toEqual(key(16, 1));
  });
});
