/**
 * The compression layer (net.go `compressMsg`, util.go `compressPayload`): `[9]` followed by
 * the msgpack of `compress{Algo: lzwAlgo, Buf: lzw(payload)}`.
 */
import { fail, type DecodeResult } from './decode-result.js';
import { lzwCompress, lzwDecompress } from './lzw.js';
import { CompressionType, MessageType } from './message-types.js';
import { decodeStruct, Schemas, writeStruct } from './message-codec.js';
import { MsgpackWriter } from './msgpack.js';

/** Wraps `payload` in a compress message, as Go's `compressPayload`. */
export function encodeCompress(payload: Uint8Array): Uint8Array {
  const buf = lzwCompress(payload);
  const w = new MsgpackWriter(buf.length + 16);
  w.byte(MessageType.Compress);
  writeStruct(w, Schemas.compress, { Algo: CompressionType.Lzw, Buf: buf });
  return w.finish();
}

/**
 * Unwraps a compress message (`msg[0]` must be 9) starting at `offset`; returns the payload
 * and where the compress message ended (streams continue after it). Output is capped at
 * `maxOutputBytes`.
 */
export function decodeCompress(
  msg: Uint8Array,
  maxOutputBytes: number,
  offset = 0,
): DecodeResult<{ payload: Uint8Array; end: number }> {
  if (msg.length <= offset) return fail('truncated');
  if (msg[offset] !== MessageType.Compress) return fail('unknown-type');
  const c = decodeStruct(msg, Schemas.compress, offset + 1);
  if (!c.ok) return c;
  if (c.value.Algo !== CompressionType.Lzw) return fail('unsupported-algo');
  const out = lzwDecompress(c.value.Buf, maxOutputBytes);
  if (!out.ok) return out;
  return { ok: true, payload: out.output, end: c.end };
}
