/**
 * The CRC layer (net.go `hasCrcMsg`): `[12][crc32 big-endian][message]`, where the checksum is
 * CRC-32 IEEE over the message. memberlist adds it to packets for peers whose maximum protocol
 * version is at least 5, and checks it whenever a packet starts with type 12 and has 5 bytes.
 */
import { crc32 } from 'node:zlib';
import { fail, type DecodeResult } from './decode-result.js';
import { MessageType } from './message-types.js';

/** Bytes the CRC header adds. */
export const CRC_HEADER_BYTES = 5;

/** CRC-32 IEEE (Go `crc32.ChecksumIEEE`), as an unsigned number. */
export function crc32Ieee(data: Uint8Array): number {
  return crc32(data) >>> 0;
}

/** Prefixes `msg` with the CRC header. */
export function addCrc(msg: Uint8Array): Uint8Array {
  const out = new Uint8Array(CRC_HEADER_BYTES + msg.length);
  out[0] = MessageType.HasCrc;
  new DataView(out.buffer).setUint32(1, crc32Ieee(msg));
  out.set(msg, CRC_HEADER_BYTES);
  return out;
}

/**
 * Checks and strips a CRC header (`buf[0]` must be 12). The payload is a view into `buf`.
 */
export function checkCrc(buf: Uint8Array): DecodeResult<{ payload: Uint8Array }> {
  if (buf.length < CRC_HEADER_BYTES) return fail('truncated');
  if (buf[0] !== MessageType.HasCrc) return fail('unknown-type');
  const expected = new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getUint32(1);
  const payload = buf.subarray(CRC_HEADER_BYTES);
  if (crc32Ieee(payload) !== expected) return fail('bad-crc');
  return { ok: true, payload };
}
