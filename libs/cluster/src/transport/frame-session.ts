/**
 * The sealed session of one frame connection: the two handshake nonces and the sequence number
 * of its batches (see frame-handshake.ts for the bytes).
 *
 * Each batch is sealed with additional data `0x50 'F' Na Nd [seq u64 BE]`: the nonces bind it
 * to this connection, `seq` (0, 1, 2, ... per batch, counted by both ends) to its place. A batch
 * replayed on this connection, delivered out of order, or copied from another connection (other
 * nonces) fails to open. The additional data is one buffer per session, its `seq` patched in
 * place per batch, so the check costs no allocation.
 */
import { decryptPayload, EncryptionVersion, encryptPayload } from '@plumtree/swim';

/** Bytes of each handshake nonce. */
export const NONCE_BYTES = 16;

const FRAME_AAD_TAG = Uint8Array.of(0x50, 0x46 /* F */);
const SEQ_AT = FRAME_AAD_TAG.length + 2 * NONCE_BYTES;

/** See the file comment. */
export class FrameSession {
  private readonly aad: Buffer;
  /** Sequence number of the next batch sealed or opened. */
  private seq = 0n;

  constructor(
    readonly acceptorNonce: Uint8Array,
    readonly dialerNonce: Uint8Array,
  ) {
    this.aad = Buffer.alloc(SEQ_AT + 8);
    this.aad.set(FRAME_AAD_TAG, 0);
    this.aad.set(acceptorNonce, FRAME_AAD_TAG.length);
    this.aad.set(dialerNonce, FRAME_AAD_TAG.length + NONCE_BYTES);
  }

  private nextAad(): Buffer {
    this.aad.writeBigUInt64BE(this.seq, SEQ_AT);
    this.seq++;
    return this.aad;
  }

  /** Seals the next batch with `key` (under a fresh random GCM nonce). */
  seal(key: Uint8Array, batch: Uint8Array): Uint8Array {
    return encryptPayload(EncryptionVersion.NoPadding, key, batch, this.nextAad());
  }

  /**
   * Opens the next batch with the first of `keys` that fits; undefined when none does (tampered,
   * replayed, reordered, or from another connection). The sequence moves on either way: the
   * connection is closed after a failure.
   */
  open(keys: readonly Uint8Array[], body: Uint8Array): Uint8Array | undefined {
    const r = decryptPayload(keys, body, this.nextAad());
    return r.ok ? r.plaintext : undefined;
  }
}
