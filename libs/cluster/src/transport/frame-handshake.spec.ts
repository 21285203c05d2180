/**
 * The handshake: plain and sealed exchanges end to end through both state machines, every
 * refusal (bad first byte, version, sealing mismatch, wrong key, reflected role, a proof replayed
 * on another connection, bad UTF-8), and the sealed session's batches: key rotation, tampering,
 * replay, reorder and cross-connection copies fail to open.
 */
import { describe, expect, it } from '@jest/globals';
import { Keyring } from '@plumtree/swim';
import {
  encodePlainPreamble,
  FRAME_PROTOCOL_VERSION,
  MAX_NAME_BYTES,
  parsePlainPreamble,
  PLUMTREE_STREAM_FIRST_BYTE,
  validateNodeName,
} from './frame-handshake.js';
import { FrameSession } from './frame-session.js';
import { Handshake, type HandshakeStep } from './handshake-machine.js';

const K1 = new Uint8Array(32).fill(1);
const K2 = new Uint8Array(16).fill(2);

/** Runs a whole exchange; the acceptor admits at once. Returns both ends' last steps. */
function exchange(
  dialerRing: Keyring | null,
  acceptorRing: Keyring | null,
): {
  dialer: HandshakeStep;
  acceptor: HandshakeStep;
  d: Handshake;
  a: Handshake;
  wire: Uint8Array[];
} {
  const d = new Handshake('dialer', 'dd', dialerRing);
  const a = new Handshake('acceptor', 'aa', acceptorRing);
  const wire: Uint8Array[] = [];
  let toAcceptor: Uint8Array | undefined = d.hello();
  let dialer: HandshakeStep = { kind: 'more' };
  let acceptor: HandshakeStep = { kind: 'more' };
  while (toAcceptor !== undefined) {
    wire.push(toAcceptor);
    acceptor = a.push(toAcceptor);
    toAcceptor = undefined;
    let toDialer: Uint8Array | undefined;
    if (acceptor.kind === 'more') toDialer = acceptor.write;
    else if (acceptor.kind === 'done') toDialer = a.reply();
    if (toDialer === undefined) break;
    wire.push(toDialer);
    dialer = d.push(toDialer);
    if (dialer.kind === 'more') toAcceptor = dialer.write;
  }
  return { dialer, acceptor, d, a, wire };
}

describe('handshake', () => {
  it('plain: each end learns the other name, and the rest of the bytes is kept', () => {
    const r = exchange(null, null);
    expect(r.acceptor).toMatchObject({ kind: 'done', name: 'dd' });
    expect(r.dialer).toMatchObject({ kind: 'done', name: 'aa' });
    expect(r.d.session).toBeNull();
    const p = encodePlainPreamble('node-ä');
    expect(p[0]).toBe(PLUMTREE_STREAM_FIRST_BYTE);
    expect(p[1]).toBe(FRAME_PROTOCOL_VERSION);
    const a = new Handshake('acceptor', 'aa', null);
    const step = a.push(Buffer.concat([p, Buffer.from([9, 9])]));
    expect(step).toMatchObject({ kind: 'done', name: 'node-ä' });
    expect([...(step as { rest: Uint8Array }).rest]).toEqual([9, 9]);
  });

  it('sealed: a challenge-response over both nonces, opened with any key of the ring', () => {
    const r = exchange(new Keyring([], K2), new Keyring([K2], K1));
    // The acceptor's ring seals with K1, which the dialer does not hold: it refuses the answer.
    expect(r.acceptor).toMatchObject({ kind: 'done', name: 'dd' });
    expect(r.dialer).toEqual({ kind: 'error', reason: 'auth-failed' });
    const ok = exchange(new Keyring([K1], K2), new Keyring([K2], K1));
    expect(ok.acceptor).toMatchObject({ kind: 'done', name: 'dd' });
    expect(ok.dialer).toMatchObject({ kind: 'done', name: 'aa' });
    expect(ok.wire.map((w) => w.length)).toEqual([18, 18, ok.wire[2]!.length, ok.wire[3]!.length]);
    expect(ok.d.session!.acceptorNonce).toEqual(ok.a.session!.acceptorNonce);
    expect(ok.d.session!.dialerNonce).toEqual(ok.a.session!.dialerNonce);
  });

  it('asks for more until each message is whole, byte by byte', () => {
    const d = new Handshake('dialer', 'dd', new Keyring([], K1));
    const a = new Handshake('acceptor', 'aa', new Keyring([], K1));
    const hello = d.hello();
    let step: HandshakeStep = { kind: 'more' };
    for (let i = 0; i < hello.length; i++) step = a.push(hello.subarray(i, i + 1));
    expect(step.kind).toBe('more');
    const challenge = (step as { write: Uint8Array }).write;
    for (let i = 0; i < challenge.length - 1; i++) {
      expect(d.push(challenge.subarray(i, i + 1))).toEqual({ kind: 'more' });
    }
    const proof = (d.push(challenge.subarray(-1)) as { write: Uint8Array }).write;
    for (let i = 0; i < proof.length - 1; i++) {
      expect(a.push(proof.subarray(i, i + 1))).toEqual({ kind: 'more' });
    }
    expect(a.push(proof.subarray(-1))).toMatchObject({ kind: 'done', name: 'dd' });
  });

  it.each([
    ['a wrong key', new Keyring([], K1), new Keyring([], K2), 'auth-failed'],
    ['plain to a sealed end', null, new Keyring([], K1), 'encryption-mismatch'],
    ['sealed to a plain end', new Keyring([], K1), null, 'encryption-mismatch'],
  ] as const)('the acceptor refuses %s', (_what, dialerRing, acceptorRing, reason) => {
    expect(exchange(dialerRing, acceptorRing).acceptor).toEqual({ kind: 'error', reason });
  });

  it('refuses a proof replayed on another connection, and a reflected one', () => {
    const ring = new Keyring([], K1);
    const recorded = exchange(ring, ring);
    expect(recorded.acceptor.kind).toBe('done');
    // The attacker replays the dialer's opening and proof to a new acceptor (a fresh challenge).
    const a2 = new Handshake('acceptor', 'aa', ring);
    expect(a2.push(recorded.wire[0]!).kind).toBe('more');
    expect(a2.push(recorded.wire[2]!)).toEqual({ kind: 'error', reason: 'auth-failed' });
    // The acceptor's own proof sent back to it as the dialer's: the role byte differs.
    const a3 = new Handshake('acceptor', 'aa', ring);
    const d3 = new Handshake('dialer', 'dd', ring);
    const challenge = (a3.push(d3.hello()) as { write: Uint8Array }).write;
    d3.push(challenge);
    const reflected = new Handshake('acceptor', 'aa', ring);
    reflected.session = a3.session;
    expect(a3.push(reflected.reply()!)).toEqual({ kind: 'error', reason: 'auth-failed' });
  });

  it('refuses a wrong first byte at once, an unknown version and bad names', () => {
    expect(parsePlainPreamble(Uint8Array.of(0x51))).toEqual({
      kind: 'error',
      reason: 'bad-preamble',
    });
    for (const v of [1, 3]) {
      expect(parsePlainPreamble(Uint8Array.of(0x50, v, 1, 65))).toMatchObject({
        reason: 'bad-version',
      });
    }
    const v = FRAME_PROTOCOL_VERSION;
    expect(parsePlainPreamble(Uint8Array.of(0x50, v, 0))).toMatchObject({ reason: 'bad-name' });
    expect(parsePlainPreamble(Uint8Array.of(0x50, v, 1, 0xff))).toMatchObject({
      reason: 'bad-name',
    });
  });

  it('bounds node names', () => {
    expect(() => validateNodeName('x'.repeat(MAX_NAME_BYTES))).not.toThrow();
    expect(() => validateNodeName('x'.repeat(MAX_NAME_BYTES + 1))).toThrow(RangeError);
    expect(() => validateNodeName('')).toThrow(RangeError);
    const ring = new Keyring([], K1);
    const d = new Handshake('dialer', 'x'.repeat(MAX_NAME_BYTES), ring);
    const a = new Handshake('acceptor', 'aa', ring);
    const challenge = (a.push(d.hello()) as { write: Uint8Array }).write;
    const proof = (d.push(challenge) as { write: Uint8Array }).write;
    expect(a.push(proof)).toMatchObject({ kind: 'done', name: 'x'.repeat(MAX_NAME_BYTES) });
  });
});

describe('sealed session', () => {
  const na = new Uint8Array(16).fill(7);
  const nd = new Uint8Array(16).fill(8);
  const batch = (i: number): Uint8Array => Uint8Array.from({ length: 100 }, (_, k) => k ^ i);

  it('opens batches in order, with any key of the ring', () => {
    const tx = new FrameSession(na, nd);
    const rx = new FrameSession(na, nd);
    for (let i = 0; i < 3; i++) expect(rx.open([K1, K2], tx.seal(K2, batch(i)))).toEqual(batch(i));
  });

  it('refuses a replayed, reordered, cross-connection or tampered batch', () => {
    const tx = new FrameSession(na, nd);
    const b0 = tx.seal(K1, batch(0));
    const b1 = tx.seal(K1, batch(1));
    const replay = new FrameSession(na, nd);
    expect(replay.open([K1], b0)).toEqual(batch(0));
    expect(replay.open([K1], b0)).toBeUndefined();
    expect(new FrameSession(na, nd).open([K1], b1)).toBeUndefined();
    expect(new FrameSession(nd, na).open([K1], b0)).toBeUndefined();
    expect(new FrameSession(na, nd).open([K2], b0)).toBeUndefined();
    const tampered = Uint8Array.from(b0);
    tampered[20]! ^= 1;
    expect(new FrameSession(na, nd).open([K1], tampered)).toBeUndefined();
    expect(new FrameSession(na, nd).open([K1], new Uint8Array(5))).toBeUndefined();
  });
});
