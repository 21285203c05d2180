/**
 * Labels (memberlist >= 0.3, label.go): `[244][length u8][label bytes]` before a packet or at
 * the start of a stream, so clusters sharing a network cannot mix. When encryption is on, the
 * label is also authenticated as GCM additional data. An empty label means no header.
 */
import { fail, type DecodeResult } from './decode-result.js';
import { MessageType, WireLimits } from './message-types.js';
import { sameBytes, type WireConfig } from './wire-config.js';

const NO_LABEL = new Uint8Array(0);

/** A label memberlist would refuse to send. */
export class LabelError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'LabelError';
  }
}

/** The label as bytes; throws {@link LabelError} above 255 bytes. */
export function labelBytes(label: string): Uint8Array {
  if (label === '') return NO_LABEL;
  const b = Buffer.from(label, 'utf8');
  if (b.length > WireLimits.labelMaxBytes)
    throw new LabelError(`label ${JSON.stringify(label)} is too long`);
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

/** Bytes the label header adds (label.go `labelOverhead`): 0 without a label. */
export function labelOverhead(label: string): number {
  return label === '' ? 0 : 2 + labelBytes(label).length;
}

/** The header alone, `[244][len][label]`, or empty for the empty label (streams send it first). */
export function makeLabelHeader(label: string): Uint8Array {
  if (label === '') return new Uint8Array(0);
  const l = labelBytes(label);
  const out = new Uint8Array(2 + l.length);
  out[0] = MessageType.HasLabel;
  out[1] = l.length;
  out.set(l, 2);
  return out;
}

/** Prefixes `buf` with the label header (label.go `AddLabelHeaderToPacket`). */
export function addLabelHeader(buf: Uint8Array, label: string): Uint8Array {
  if (label === '') return buf;
  const h = makeLabelHeader(label);
  const out = new Uint8Array(h.length + buf.length);
  out.set(h);
  out.set(buf, h.length);
  return out;
}

/**
 * Splits off a label header if `buf` starts with one (label.go `RemoveLabelHeaderFromPacket`);
 * without one the label is empty. `raw` is the label's bytes (Go compares bytes), `rest` a view into `buf`; `headerBytes` is what was
 * consumed. A zero length is `bad-label`; a header cut short is `truncated`.
 */
export function removeLabelHeader(
  buf: Uint8Array,
): DecodeResult<{ label: string; raw: Uint8Array; rest: Uint8Array; headerBytes: number }> {
  if (buf.length === 0 || buf[0] !== MessageType.HasLabel) {
    return { ok: true, label: '', raw: buf.subarray(0, 0), rest: buf, headerBytes: 0 };
  }
  if (buf.length < 2) return fail('truncated');
  const size = buf[1]!;
  if (size < 1) return fail('bad-label');
  if (buf.length < 2 + size) return fail('truncated');
  const raw = buf.subarray(2, 2 + size);
  const label = Buffer.from(raw.buffer, raw.byteOffset, size).toString('utf8');
  return { ok: true, label, raw, rest: buf.subarray(2 + size), headerBytes: 2 + size };
}

/**
 * The inbound label rule of packets and streams (label.go): the label header must carry our
 * label (none when ours is ''); with `skipInboundLabelCheck` no header may come at all ("unexpected
 * double packet label header") and our label is taken. Returns the label, its bytes (the GCM
 * additional data), what follows the header and the header's size.
 */
export function acceptLabel(
  buf: Uint8Array,
  opts: Pick<WireConfig, 'label' | 'skipInboundLabelCheck'>,
): DecodeResult<{ label: string; raw: Uint8Array; rest: Uint8Array; headerBytes: number }> {
  const l = removeLabelHeader(buf);
  if (!l.ok) return l;
  const ours = opts.label ?? '';
  if (opts.skipInboundLabelCheck === true) {
    if (l.headerBytes > 0) return fail('label-mismatch');
    return { ...l, label: ours, raw: labelBytes(ours) };
  }
  return sameBytes(l.raw, labelBytes(ours)) ? l : fail('label-mismatch');
}
