/**
 * Encoding and decoding of the memberlist message bodies (messages.ts) with the msgpack subset
 * of msgpack.ts. Each Go struct is described once as a schema: field names in declaration
 * order, with the Go type and the `omitempty` tag. Encoding writes the fields as a map keyed by
 * field name in byte order of the names (go-msgpack's `sfiSort`), leaving out empty
 * `omitempty` fields; decoding accepts every layout go-msgpack accepts (see msgpack.ts).
 *
 * An encoded message is the type byte followed by the msgpack map, as memberlist's
 * `encode(msgType, in)` in util.go.
 */
import { fail, WireDecodeError, type DecodeResult } from './decode-result.js';
import { MessageType, NodeStateType } from './message-types.js';
import type * as M from './messages.js';
import type { Message } from './messages.js';
import { MsgpackReader, MsgpackWriter } from './msgpack.js';

/** Go field types that occur in memberlist structs. */
type FieldKind = 'uint8' | 'uint16' | 'uint32' | 'int' | 'bool' | 'string' | 'bytes' | 'state';

interface FieldSpec {
  readonly name: string;
  readonly kind: FieldKind;
  readonly omitEmpty: boolean;
  /** The msgpack-encoded key (a raw string), precomputed. */
  readonly key: Uint8Array;
  /** The name's bytes, for matching keys while decoding. */
  readonly nameBytes: Uint8Array;
}

/** A Go struct: fields in declaration order and in encoding (sorted) order. */
export interface StructSchema<T> {
  /** The Go struct name, for messages. */
  readonly goName: string;
  readonly fields: readonly FieldSpec[];
  readonly sorted: readonly FieldSpec[];
  /** `fields[i].nameBytes`, for {@link MsgpackReader.keyIndex}. */
  readonly names: readonly Uint8Array[];
  /** Phantom marker tying the schema to its TypeScript interface. */
  readonly _type?: T;
}

function defineStruct<T>(
  goName: string,
  spec: ReadonlyArray<[keyof T & string, FieldKind, boolean?]>,
): StructSchema<T> {
  const fields = spec.map(([name, kind, omitEmpty]): FieldSpec => {
    const w = new MsgpackWriter(32);
    w.str(name);
    const key = w.finish(); // names are under 32 bytes: a one-byte fixraw header, then the name
    return { name, kind, omitEmpty: omitEmpty === true, key, nameBytes: key.subarray(1) };
  });
  // go-msgpack sorts by Go string comparison: byte order, which for ASCII names is code-unit order.
  const sorted = [...fields].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { goName, fields, sorted, names: fields.map((f) => f.nameBytes) };
}

/** `suspect` and `dead` declare the same fields in net.go: who, at which incarnation, said by whom. */
const ACCUSATION_FIELDS: ReadonlyArray<[keyof M.Suspect & keyof M.Dead, FieldKind]> = [
  ['Incarnation', 'uint32'],
  ['Node', 'string'],
  ['From', 'string'],
];

/** Schemas of the memberlist structs, in net.go's declaration order. */
export const Schemas = {
  ping: defineStruct<M.Ping>('ping', [
    ['SeqNo', 'uint32'],
    ['Node', 'string'],
    ['SourceAddr', 'bytes', true],
    ['SourcePort', 'uint16', true],
    ['SourceNode', 'string', true],
  ]),
  indirectPingReq: defineStruct<M.IndirectPingReq>('indirectPingReq', [
    ['SeqNo', 'uint32'],
    ['Target', 'bytes'],
    ['Port', 'uint16'],
    ['Node', 'string'],
    ['Nack', 'bool'],
    ['SourceAddr', 'bytes', true],
    ['SourcePort', 'uint16', true],
    ['SourceNode', 'string', true],
  ]),
  ackResp: defineStruct<M.AckResp>('ackResp', [
    ['SeqNo', 'uint32'],
    ['Payload', 'bytes'],
  ]),
  nackResp: defineStruct<M.NackResp>('nackResp', [['SeqNo', 'uint32']]),
  errResp: defineStruct<M.ErrResp>('errResp', [['Error', 'string']]),
  suspect: defineStruct<M.Suspect>('suspect', ACCUSATION_FIELDS),
  alive: defineStruct<M.Alive>('alive', [
    ['Incarnation', 'uint32'],
    ['Node', 'string'],
    ['Addr', 'bytes'],
    ['Port', 'uint16'],
    ['Meta', 'bytes'],
    ['Vsn', 'bytes'],
  ]),
  dead: defineStruct<M.Dead>('dead', ACCUSATION_FIELDS),
  pushPullHeader: defineStruct<M.PushPullHeader>('pushPullHeader', [
    ['Nodes', 'int'],
    ['UserStateLen', 'int'],
    ['Join', 'bool'],
  ]),
  userMsgHeader: defineStruct<M.UserMsgHeader>('userMsgHeader', [['UserMsgLen', 'int']]),
  pushNodeState: defineStruct<M.PushNodeState>('pushNodeState', [
    ['Name', 'string'],
    ['Addr', 'bytes'],
    ['Port', 'uint16'],
    ['Meta', 'bytes'],
    ['Incarnation', 'uint32'],
    ['State', 'state'],
    ['Vsn', 'bytes'],
  ]),
  compress: defineStruct<M.Compress>('compress', [
    ['Algo', 'uint8'],
    ['Buf', 'bytes'],
  ]),
} as const;

const EMPTY = new Uint8Array(0);

function zeroOf(kind: FieldKind): unknown {
  switch (kind) {
    case 'bool':
      return false;
    case 'string':
      return '';
    case 'bytes':
      return EMPTY;
    default:
      return 0;
  }
}

function isEmpty(kind: FieldKind, v: unknown): boolean {
  if (v === undefined || v === null) return true;
  switch (kind) {
    case 'bool':
      return v === false;
    case 'string':
      return v === '';
    case 'bytes':
      return (v as Uint8Array).length === 0;
    default:
      return v === 0;
  }
}

function writeField(w: MsgpackWriter, kind: FieldKind, v: unknown): void {
  switch (kind) {
    case 'bool':
      w.bool(v === true);
      return;
    case 'string':
      w.str((v as string | undefined) ?? '');
      return;
    case 'bytes':
      w.raw((v as Uint8Array | undefined) ?? EMPTY);
      return;
    case 'int':
    case 'state':
      w.int((v as number | undefined) ?? 0);
      return;
    default:
      w.uint((v as number | undefined) ?? 0);
  }
}

const INT64_SAFE_MIN = Number.MIN_SAFE_INTEGER;
const INT64_SAFE_MAX = Number.MAX_SAFE_INTEGER;

function readField(r: MsgpackReader, kind: FieldKind): unknown {
  switch (kind) {
    case 'bool':
      return r.bool();
    case 'string':
      return r.str();
    case 'bytes':
      return r.bytes();
    case 'uint8':
      return r.integer(0, 0xff);
    case 'uint16':
      return r.integer(0, 0xffff);
    case 'uint32':
      return r.integer(0, 0xffff_ffff);
    case 'state':
      // Go's NodeStateType is an int; states outside the four memberlist defines are refused.
      return r.integer(NodeStateType.Alive, NodeStateType.Left);
    case 'int':
      return r.integer(INT64_SAFE_MIN, INT64_SAFE_MAX);
  }
}

/** Writes `value` as go-msgpack writes the Go struct: a map keyed by sorted field names. */
export function writeStruct<T>(w: MsgpackWriter, schema: StructSchema<T>, value: T): void {
  const obj = value as Record<string, unknown>;
  let n = 0;
  for (const f of schema.sorted) if (!(f.omitEmpty && isEmpty(f.kind, obj[f.name]))) n++;
  w.mapHeader(n);
  for (const f of schema.sorted) {
    const v = obj[f.name];
    if (f.omitEmpty && isEmpty(f.kind, v)) continue;
    w.bytes(f.key);
    writeField(w, f.kind, v);
  }
}

/**
 * Reads one struct value; throws {@link WireDecodeError} (callers catch it). Fields absent from
 * the input take Go's zero value, except absent `omitempty` fields, which stay absent.
 */
export function readStruct<T>(r: MsgpackReader, schema: StructSchema<T>): T {
  // Required fields first, always in declaration order, so every decoded value of a struct
  // shares one object shape; omitempty fields are added only when present and non-empty.
  const out: Record<string, unknown> = {};
  for (const f of schema.fields) if (!f.omitEmpty) out[f.name] = zeroOf(f.kind);
  const c = r.container();
  if (c.kind === 'nil') return out as T;
  if (c.length > r.remaining) throw new WireDecodeError('truncated');
  const byMap = c.kind === 'map';
  for (let i = 0; i < c.length; i++) {
    const f = byMap ? schema.fields[r.keyIndex(schema.names)] : schema.fields[i];
    if (f === undefined) {
      r.skip();
      continue;
    }
    const v = readField(r, f.kind);
    if (!f.omitEmpty) out[f.name] = v;
    else if (!isEmpty(f.kind, v)) out[f.name] = v;
    // An empty omitempty value carries nothing; a later duplicate key still wins, as in Go.
    else if (f.name in out) delete out[f.name];
  }
  return out as T;
}

/**
 * Decodes one struct from `buf` at `offset`. Trailing bytes are ignored, as Go ignores them.
 * Returns the value and the offset after it.
 */
export function decodeStruct<T>(
  buf: Uint8Array,
  schema: StructSchema<T>,
  offset = 0,
): DecodeResult<{ value: T; end: number }> {
  const r = new MsgpackReader(buf, offset);
  try {
    const value = readStruct(r, schema);
    return { ok: true, value, end: r.pos };
  } catch (e) {
    if (e instanceof WireDecodeError) return fail(e.reason);
    throw e;
  }
}

/** Encodes one struct as msgpack without a type byte (stream headers and node states). */
export function encodeStruct<T>(schema: StructSchema<T>, value: T): Uint8Array {
  const w = new MsgpackWriter(64);
  writeStruct(w, schema, value);
  return w.finish();
}

/** The schema for each message type that has a msgpack body. */
const BODY_SCHEMAS = {
  [MessageType.Ping]: Schemas.ping,
  [MessageType.IndirectPing]: Schemas.indirectPingReq,
  [MessageType.AckResp]: Schemas.ackResp,
  [MessageType.NackResp]: Schemas.nackResp,
  [MessageType.Suspect]: Schemas.suspect,
  [MessageType.Alive]: Schemas.alive,
  [MessageType.Dead]: Schemas.dead,
  [MessageType.Err]: Schemas.errResp,
} as const;

/**
 * Encodes a message as memberlist's `encode(msgType, in)`: the type byte, then the msgpack
 * body. A `User` message is the type byte followed by the payload bytes untouched.
 */
export function encodeMessage(msg: Message): Uint8Array {
  const w = new MsgpackWriter(msg.type === MessageType.User ? msg.body.length + 1 : 64);
  writeMessage(w, msg);
  return w.finish();
}

/** Appends the encoded `msg` to `w` (lets callers build compound packets without copies). */
export function writeMessage(w: MsgpackWriter, msg: Message): void {
  w.byte(msg.type);
  if (msg.type === MessageType.User) {
    w.bytes(msg.body);
    return;
  }
  writeStruct(w, BODY_SCHEMAS[msg.type] as StructSchema<unknown>, msg.body);
}

/**
 * Decodes one message (type byte + body) as memberlist's `handleCommand` would dispatch it.
 * Layer types (compound, compress, CRC, encrypt, label) and stream-only types (push-pull) are
 * `unknown-type` here: packet.ts peels the layers first.
 */
export function decodeMessage(buf: Uint8Array): DecodeResult<{ message: Message }> {
  if (buf.length < 1) return fail('truncated');
  const type = buf[0]!;
  if (type === MessageType.User) {
    return { ok: true, message: { type, body: buf.slice(1) } };
  }
  const schema = (BODY_SCHEMAS as Partial<Record<number, StructSchema<unknown>>>)[type];
  if (schema === undefined) return fail('unknown-type');
  const r = decodeStruct(buf, schema, 1);
  if (!r.ok) return r;
  return { ok: true, message: { type, body: r.value } as Message };
}
