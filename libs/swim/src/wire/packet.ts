/**
 * The packet (UDP) pipeline of memberlist, both ways.
 *
 * Sending (net.go `sendMsg` + `rawSendMsgPacket`): messages -> compound (when more than one)
 * -> LZW compress (only if it makes the packet smaller) -> CRC (peers with protocol >= 5)
 * -> encrypt with the primary key, label as additional data -> label header.
 *
 * Receiving (net.go `ingestPacket` + `handleCommand`): label header (must equal ours) ->
 * decrypt with any key -> CRC check -> compound / compress, recursively -> messages. As in Go,
 * one bad part of a compound does not spoil the others: it is reported in `errors`.
 */
import { encodeCompound, decodeCompound } from './compound.js';
import { encodeCompress, decodeCompress } from './compress.js';
import { addCrc, checkCrc } from './crc.js';
import { fail, type DecodeFailureReason, type DecodeResult } from './decode-result.js';
import { decryptPayload, encryptPayload } from './encryption.js';
import { acceptLabel, addLabelHeader, labelBytes } from './label.js';
import { decodeMessage } from './message-codec.js';
import { MessageType } from './message-types.js';
import type { Message } from './messages.js';
import {
  activeKeys,
  DEFAULT_MAX_PACKET_DECOMPRESSED_BYTES,
  outgoingKey,
  outgoingVersion,
  type WireConfig,
} from './wire-config.js';

/** Options for {@link encodePacket}. */
export interface PacketEncodeOptions extends WireConfig {
  /** `Config.EnableCompression`: LZW-compress when that makes the packet smaller. */
  compress?: boolean;
  /** Add a CRC header: memberlist does when the peer's maximum protocol version is >= 5. */
  crc?: boolean;
  /** Fixed GCM nonce, for reproducing known bytes in tests only. */
  nonce?: Uint8Array;
}

/** Options for {@link decodePacket}. */
export interface PacketDecodeOptions extends WireConfig {
  /** Cap on bytes produced by decompression across the whole packet (default 1 MiB). */
  maxDecompressedBytes?: number;
}

/** A packet taken apart. */
export interface UnwrappedPacket {
  /** The label the packet carried ('' for none). */
  label: string;
  /** Each message's bytes (type byte + body), in order. */
  parts: Uint8Array[];
  /** Why parts were dropped (a compound part cut short, an unknown type, ...). */
  errors: DecodeFailureReason[];
}

/** A packet decoded down to its messages. */
export interface DecodedPacket extends UnwrappedPacket {
  messages: Message[];
}

/** How deep compound and compress may nest (Go recurses without a bound). */
const MAX_NESTING = 4;

/** Encodes one message or a compound of several (see {@link encodePacket}). */
export function encodePacketMessages(
  messages: readonly Uint8Array[],
  opts: PacketEncodeOptions = {},
): Uint8Array {
  const payload = messages.length === 1 ? messages[0]! : encodeCompound(messages);
  return encodePacket(payload, opts);
}

/**
 * Frames an encoded message (or compound) for the wire, as `rawSendMsgPacket`. Throws only on
 * programmer errors (a label over 255 bytes, a bad key or nonce length).
 */
export function encodePacket(payload: Uint8Array, opts: PacketEncodeOptions = {}): Uint8Array {
  let msg = payload;
  if (opts.compress === true) {
    const c = encodeCompress(msg);
    if (c.length < msg.length) msg = c;
  }
  if (opts.crc === true) msg = addCrc(msg);
  const label = opts.label ?? '';
  const key = outgoingKey(opts);
  if (key !== undefined)
    msg = encryptPayload(outgoingVersion(opts), key, msg, labelBytes(label), opts.nonce);
  return addLabelHeader(msg, label);
}

/** Message types `handleCommand` accepts as leaves of a packet. */
function isPacketMessage(t: number): boolean {
  switch (t) {
    case MessageType.Ping:
    case MessageType.IndirectPing:
    case MessageType.AckResp:
    case MessageType.NackResp:
    case MessageType.Suspect:
    case MessageType.Alive:
    case MessageType.Dead:
    case MessageType.User:
      return true;
    default:
      return false;
  }
}

interface PeelState {
  parts: Uint8Array[];
  errors: DecodeFailureReason[];
  budget: number;
}

function peel(buf: Uint8Array, depth: number, st: PeelState): void {
  if (buf.length === 0) {
    st.errors.push('truncated');
    return;
  }
  const t = buf[0]!;
  if (t === MessageType.Compound || t === MessageType.Compress) {
    if (depth >= MAX_NESTING) {
      st.errors.push('too-deep');
      return;
    }
    if (t === MessageType.Compound) {
      const c = decodeCompound(buf);
      if (!c.ok) {
        st.errors.push(c.reason);
        return;
      }
      if (c.truncated > 0) st.errors.push('truncated');
      for (const p of c.parts) peel(p, depth + 1, st);
      return;
    }
    const d = decodeCompress(buf, st.budget);
    if (!d.ok) {
      st.errors.push(d.reason);
      return;
    }
    st.budget -= d.payload.length;
    peel(d.payload, depth + 1, st);
    return;
  }
  if (isPacketMessage(t)) st.parts.push(buf);
  else st.errors.push('unknown-type');
}

/**
 * Takes a packet apart down to message bytes. Fails as a whole (`ok: false`) on a label
 * mismatch, a decryption or CRC failure, or when nothing usable is left; otherwise returns
 * the parts and the reasons any other parts were dropped.
 */
export function unwrapPacket(
  packet: Uint8Array,
  opts: PacketDecodeOptions = {},
): DecodeResult<UnwrappedPacket> {
  const l = acceptLabel(packet, opts);
  if (!l.ok) return l;
  const { label, raw: aad } = l;
  let buf = l.rest;
  const keys = activeKeys(opts);
  if (keys !== undefined) {
    const d = decryptPayload(keys, buf, aad);
    if (d.ok) buf = d.plaintext;
    else if (opts.verifyIncoming !== false) return d;
    // GossipVerifyIncoming false: a packet that does not decrypt is taken as plaintext.
  }
  if (buf.length >= 5 && buf[0] === MessageType.HasCrc) {
    const c = checkCrc(buf);
    if (!c.ok) return c;
    buf = c.payload;
  }
  const st: PeelState = {
    parts: [],
    errors: [],
    budget: opts.maxDecompressedBytes ?? DEFAULT_MAX_PACKET_DECOMPRESSED_BYTES,
  };
  peel(buf, 0, st);
  if (st.parts.length === 0 && st.errors.length > 0) return fail(st.errors[0]!);
  return { ok: true, label, parts: st.parts, errors: st.errors };
}

/** {@link unwrapPacket}, then each part decoded; undecodable parts are added to `errors`. */
export function decodePacket(
  packet: Uint8Array,
  opts: PacketDecodeOptions = {},
): DecodeResult<DecodedPacket> {
  const u = unwrapPacket(packet, opts);
  if (!u.ok) return u;
  const messages: Message[] = [];
  const errors = u.errors;
  for (const p of u.parts) {
    const m = decodeMessage(p);
    if (m.ok) messages.push(m.message);
    else errors.push(m.reason);
  }
  if (messages.length === 0 && errors.length > 0) return fail(errors[0]!);
  return { ok: true, label: u.label, parts: u.parts, messages, errors };
}
