/**
 * Both ends of the frame connection handshake as byte-driven state machines (the bytes are in
 * frame-handshake.ts): each is fed what the socket delivers and says what to write back, when it
 * is done and what it learnt. They own no socket and no timer: the transport writes, times out
 * and closes.
 */
import type { Keyring } from '@plumtree/swim';
import {
  encodePlainPreamble,
  encodeProof,
  encodeSealedOpening,
  freshNonce,
  parsePlainPreamble,
  parseProof,
  parseSealedOpening,
  type PreambleError,
  type PreambleRole,
} from './frame-handshake.js';
import { FrameSession } from './frame-session.js';

/** What one chunk did to a handshake. */
export type HandshakeStep =
  | { readonly kind: 'more'; readonly write?: Uint8Array }
  | {
      readonly kind: 'done';
      /** The other end's node name, authenticated when sealed. */
      readonly name: string;
      /** Bytes after the handshake (the start of the frames). */
      readonly rest: Uint8Array;
    }
  | { readonly kind: 'error'; readonly reason: PreambleError };

const EMPTY = new Uint8Array(0);

/** Bytes gathered until the current message is whole (never more than one message and a chunk). */
class Pending {
  private buf: Uint8Array = EMPTY;

  add(chunk: Uint8Array): Uint8Array {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    return this.buf;
  }

  consume(n: number): Uint8Array {
    this.buf = this.buf.subarray(n);
    return this.buf;
  }
}

const OTHER: Record<PreambleRole, PreambleRole> = { dialer: 'acceptor', acceptor: 'dialer' };

/**
 * One end of the handshake. The dialer writes {@link hello} first and is done once the acceptor's
 * answer is checked. The acceptor is done once the dialer's name is known (and proven, when
 * sealed); it then decides whether to admit the dialer and writes {@link reply}.
 */
export class Handshake {
  private readonly pending = new Pending();
  private readonly nonce = freshNonce();
  /** The connection's sealed session, set once the other end's nonce arrived (sealed only). */
  session: FrameSession | null = null;

  /** `keyring`: the sealing keyring, or null for a plain connection. */
  constructor(
    private readonly role: PreambleRole,
    private readonly localName: string,
    private readonly keyring: Keyring | null,
  ) {}

  /** The dialer's first message. */
  hello(): Uint8Array {
    return this.keyring === null
      ? encodePlainPreamble(this.localName)
      : encodeSealedOpening(this.nonce);
  }

  /** Feed bytes from the other end. */
  push(chunk: Uint8Array): HandshakeStep {
    let buf = this.pending.add(chunk);
    if (this.keyring === null) {
      const step = parsePlainPreamble(buf);
      if (step.kind !== 'done') return step;
      return { kind: 'done', name: step.name, rest: buf.subarray(step.consumed) };
    }
    let write: Uint8Array | undefined;
    if (this.session === null) {
      const opening = parseSealedOpening(buf);
      if (opening.kind !== 'done') return opening;
      buf = this.pending.consume(opening.consumed);
      if (this.role === 'acceptor') {
        this.session = new FrameSession(this.nonce, opening.nonce);
        write = encodeSealedOpening(this.nonce);
      } else {
        this.session = new FrameSession(opening.nonce, this.nonce);
        write = this.proof();
        if (write === undefined) return { kind: 'error', reason: 'auth-failed' };
      }
    }
    const proof = parseProof(buf, OTHER[this.role], this.keyring.getKeys(), this.session);
    if (proof.kind === 'more') return write ? { kind: 'more', write } : proof;
    if (proof.kind === 'error') return proof;
    return { kind: 'done', name: proof.name, rest: buf.subarray(proof.consumed) };
  }

  /**
   * The acceptor's answer once the dialer is admitted; undefined when the keyring lost every key
   * since (nothing to prove with).
   */
  reply(): Uint8Array | undefined {
    return this.keyring === null ? encodePlainPreamble(this.localName) : this.proof();
  }

  private proof(): Uint8Array | undefined {
    const key = this.keyring?.getPrimaryKey();
    if (key === undefined || this.session === null) return undefined;
    return encodeProof(this.role, this.localName, key, this.session);
  }
}
