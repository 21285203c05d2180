/**
 * Key layout of the node store (one LevelDB, utf8 keys, binary values; see value-codec.ts).
 *
 * Fields are separated by NUL (`\0`). Topic, origin and peer names are escaped so that they never
 * contain NUL: `\x01` becomes `\x01\x02` and `\0` becomes `\x01\x01`. The escape keeps UTF-8 byte
 * order and NUL sorts below every escaped byte, so a key range scan visits names in UTF-8 byte
 * order and one topic's keys never interleave with a topic whose name extends it. Numbers are 16
 * lower-case hex digits (safe integers fit in 14), so byte order is numeric order.
 *
 * | key | value |
 * |---|---|
 * | `p\0<name>` | peer: address, lastSeenAliveMs |
 * | `m\0incarnation` | the node's own incarnation |
 * | `m\0subscriptions` | the node's topics and patterns |
 * | `l\0<topic>\0<origin>\0<epoch>\0<seq>` | one durable record (ordered for catch-up scans) |
 * | `t\0<topic>\0<appendedAtMs>\0<origin>\0<epoch>\0<seq>` | time index: payload size, oldest first (retention) |
 * | `k\0<topic>\0<origin>\0<epoch>` | stream mark: hwm, lastSeq, newest append time |
 * | `u\0<topic>\0<origin>\0<epoch>\0<seq>` | empty: the record is stored but not yet handled (unhandled-index.ts) |
 */

const SEP = '\0';
/** Upper bound for a prefix ending in SEP: the next byte after NUL. */
const AFTER = '\x01';

/** Escapes a name so that it holds no NUL (order-preserving, see the file header). */
export function escapeKeyPart(s: string): string {
  if (!s.includes('\0') && !s.includes('\x01')) return s;
  return s.replaceAll('\x01', '\x01\x02').replaceAll('\0', '\x01\x01');
}

/** Inverse of {@link escapeKeyPart}; null when `s` is not a valid escape. */
export function unescapeKeyPart(s: string): string | null {
  if (!s.includes('\x01')) return s.includes('\0') ? null : s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\0') return null;
    if (c !== '\x01') {
      out += c;
      continue;
    }
    const n = s[++i];
    if (n === '\x01') out += '\0';
    else if (n === '\x02') out += '\x01';
    else return null;
  }
  return out;
}

/** A safe integer >= 0 as 16 hex digits. */
export function hex16(n: number): string {
  return n.toString(16).padStart(16, '0');
}

/** Parses 16 hex digits; null otherwise. */
export function parseHex16(s: string): number | null {
  if (!/^[0-9a-f]{16}$/.test(s)) return null;
  const n = parseInt(s, 16);
  return Number.isSafeInteger(n) ? n : null;
}

/** A `[gt, lt)` key range: every key that starts with `prefix` (which ends in SEP). */
export interface KeyRange {
  readonly gt: string;
  readonly lt: string;
}

function range(prefix: string): KeyRange {
  return { gt: prefix, lt: prefix.slice(0, -1) + AFTER };
}

/** Peer record key. */
export const peerKey = (name: string): string => `p${SEP}${escapeKeyPart(name)}`;
/** Every peer key. */
export const PEER_RANGE: KeyRange = range(`p${SEP}`);
/** Name in a peer key; null when the key is not one. */
export function parsePeerKey(key: string): string | null {
  return key.startsWith(`p${SEP}`) ? unescapeKeyPart(key.slice(2)) : null;
}
/** The incarnation key. */
export const INCARNATION_KEY = `m${SEP}incarnation`;
/** The subscriptions key. */
export const SUBSCRIPTIONS_KEY = `m${SEP}subscriptions`;

/** Prefix of one stream's log keys (ends in SEP, the seq follows). */
export function logStreamPrefix(topic: string, origin: string, epoch: number): string {
  return `l${SEP}${escapeKeyPart(topic)}${SEP}${escapeKeyPart(origin)}${SEP}${hex16(epoch)}${SEP}`;
}
/** Log record key. */
export function logKey(topic: string, origin: string, epoch: number, seq: number): string {
  return logStreamPrefix(topic, origin, epoch) + hex16(seq);
}
/** Every log key of a topic. */
export const logTopicRange = (topic: string): KeyRange =>
  range(`l${SEP}${escapeKeyPart(topic)}${SEP}`);
/** Seqs of one stream in `[fromSeq, ∞)`. */
export function logStreamRangeFrom(
  topic: string,
  origin: string,
  epoch: number,
  fromSeq: number,
): { gte: string; lt: string } {
  const p = logStreamPrefix(topic, origin, epoch);
  return { gte: p + hex16(fromSeq), lt: p.slice(0, -1) + AFTER };
}

/** (origin, epoch, seq) of a stored record. */
export interface RecordId {
  readonly origin: string;
  readonly epoch: number;
  readonly seq: number;
}

/** Parses a log key (of any topic); null when malformed. */
export function parseLogKey(key: string): RecordId | null {
  return parseRecordIdKey(key, 'l');
}

/** `<kind>\0<topic>\0<origin>\0<epoch>\0<seq>` parsed; null when malformed or of another kind. */
function parseRecordIdKey(key: string, kind: 'l' | 'u'): RecordId | null {
  const parts = key.split(SEP);
  if (parts.length !== 5 || parts[0] !== kind) return null;
  const origin = unescapeKeyPart(parts[2]!);
  const epoch = parseHex16(parts[3]!);
  const seq = parseHex16(parts[4]!);
  if (origin === null || epoch === null || seq === null) return null;
  return { origin, epoch, seq };
}

/** Time index key. */
export function timeKey(topic: string, appendedAtMs: number, id: RecordId): string {
  return (
    `t${SEP}${escapeKeyPart(topic)}${SEP}${hex16(appendedAtMs)}${SEP}` +
    `${escapeKeyPart(id.origin)}${SEP}${hex16(id.epoch)}${SEP}${hex16(id.seq)}`
  );
}
/** Every time-index key of a topic. */
export const timeTopicRange = (topic: string): KeyRange =>
  range(`t${SEP}${escapeKeyPart(topic)}${SEP}`);

/** Parses a time index key; null when malformed. */
export function parseTimeKey(key: string): (RecordId & { appendedAtMs: number }) | null {
  const parts = key.split(SEP);
  if (parts.length !== 6 || parts[0] !== 't') return null;
  const appendedAtMs = parseHex16(parts[2]!);
  const origin = unescapeKeyPart(parts[3]!);
  const epoch = parseHex16(parts[4]!);
  const seq = parseHex16(parts[5]!);
  if (appendedAtMs === null || origin === null || epoch === null || seq === null) return null;
  return { appendedAtMs, origin, epoch, seq };
}

/** Stream mark key. */
export function markKey(topic: string, origin: string, epoch: number): string {
  return `k${SEP}${escapeKeyPart(topic)}${SEP}${escapeKeyPart(origin)}${SEP}${hex16(epoch)}`;
}
/** Every mark key of a topic. */
export const markTopicRange = (topic: string): KeyRange =>
  range(`k${SEP}${escapeKeyPart(topic)}${SEP}`);

/** Parses a mark key; null when malformed. */
export function parseMarkKey(key: string): { origin: string; epoch: number } | null {
  const parts = key.split(SEP);
  if (parts.length !== 4 || parts[0] !== 'k') return null;
  const origin = unescapeKeyPart(parts[2]!);
  const epoch = parseHex16(parts[3]!);
  if (origin === null || epoch === null) return null;
  return { origin, epoch };
}

/** Unhandled-record key: the record with this id is stored and not yet handed to observers. */
export function unhandledKey(topic: string, id: RecordId): string {
  return (
    `u${SEP}${escapeKeyPart(topic)}${SEP}${escapeKeyPart(id.origin)}${SEP}` +
    `${hex16(id.epoch)}${SEP}${hex16(id.seq)}`
  );
}
/** Every unhandled-record key of a topic. */
export const unhandledTopicRange = (topic: string): KeyRange =>
  range(`u${SEP}${escapeKeyPart(topic)}${SEP}`);

/** Parses an unhandled-record key; null when malformed. */
export function parseUnhandledKey(key: string): RecordId | null {
  return parseRecordIdKey(key, 'u');
}
