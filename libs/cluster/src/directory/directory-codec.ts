/**
 * Binary codec of the topic directory: one node's entry (a SWIM user broadcast) and the whole
 * directory (push-pull state), plus the short digest carried in node meta.
 *
 * All integers are unsigned LEB128 varints (canonical: no trailing zero byte, at most 2^53 - 1);
 * strings are a varint byte length then strict UTF-8.
 *
 * | message | layout                                                                     |
 * |---------|----------------------------------------------------------------------------|
 * | entry   | u8 codec version (1, 2 or 3), u8 kind (1), entry body                      |
 * | state   | u8 codec version (1, 2 or 3), u8 kind (2), varint count, count x entry body |
 * | body v1 | str node, varint version, varint n, n x str subscription                   |
 * | body v2 | body v1, then varint r, r x str responder                                  |
 * | body v3 | body v2, then varint g, g x (str topic or pattern, str queue group)        |
 * | digest  | u8 tag (0xd1), u32 BE FNV-1a of the node name, varint version              |
 *
 * Subscriptions are the topics and patterns whose events a node receives; responders are the
 * topics and patterns it answers requests on (request/reply routes only to these). A message is
 * written as version 1 when none of its entries has a responder, so nodes of the previous release
 * (which read version 1 only and drop version 2 as `unknown-codec-version`) keep seeing the
 * subscriptions of every node that answers no requests; decoders read both. Queue groups
 * (docs/queue-groups.md) follow the same rule: version 3 only when an entry names a group, so a
 * cluster that uses none stays readable by the releases before them.
 *
 * Subscriptions and responders are each written in strictly ascending order (JavaScript string
 * order) and decoders insist on it: the encoding of a set is then unique, duplicates cannot be
 * smuggled in, and two entries with the same version can be compared byte for byte.
 *
 * Sizes: every limit (`maxEntryBytes`, `maxTotalBytes`) counts an entry at its version 2 size (a
 * version 1 body plus its one-byte zero responder count) plus, when it names groups, its group
 * list; an entry accepted in any version still fits when it is relayed inside a newer state. A
 * state written at version 3 carries one zero group count per entry without groups: those bytes
 * are not counted, and the state limit allows one byte per entry for them.
 *
 * Queue groups are written in strictly ascending (topic, group) order and each group name must be
 * a valid concrete topic string (`validateTopic`).
 *
 * Decoders never throw and never allocate more than the input could hold: every count and
 * length is checked against the limits and the remaining bytes before it is used. A rejection
 * carries one {@link DirectoryDropReason}.
 */
import { ByteReader, varintSize, writeVarint } from '@plumtree/common';
import type { ResolvedDirectoryOptions } from './directory-options.js';
import { validatePattern, validateTopic } from './topic-pattern.js';

/** Version written in byte 0 of entries and states that carry no responder. */
export const DIRECTORY_CODEC_VERSION = 1;

/** Version written in byte 0 of entries and states that carry responders (body v2). */
export const DIRECTORY_CODEC_VERSION_RESPONDERS = 2;

/** Version written in byte 0 of entries and states that carry queue groups (body v3). */
export const DIRECTORY_CODEC_VERSION_GROUPS = 3;

/** Byte 1 of an encoded directory message: what follows. */
export enum DirectoryMessageKind {
  /** One node's entry (a broadcast). */
  Entry = 1,
  /** Every entry a node knows (push-pull state). */
  State = 2,
}

/** First byte of a digest, so meta that holds something else is not misread as one. */
export const DIRECTORY_DIGEST_TAG = 0xd1;

/** Largest digest: tag, 4-byte name hash, 8-byte varint. */
export const MAX_DIRECTORY_DIGEST_BYTES = 13;

/** Largest state header: codec version, kind and an 8-byte varint count. */
export const DIRECTORY_STATE_HEADER_MAX_BYTES = 10;

/** Why a directory message from the network was dropped; counted in `stats().drops`. */
export const DIRECTORY_DROP_REASONS = [
  /** Input ended inside a field. */
  'truncated',
  /** A varint longer than 8 bytes, above 2^53 - 1, or not in its shortest form. */
  'bad-varint',
  /** A string that is not well-formed UTF-8. */
  'bad-utf8',
  /** Byte 0 is not a codec version this build reads. */
  'unknown-codec-version',
  /** Byte 1 is neither an entry nor a state. */
  'unknown-kind',
  /** Bytes left after a complete message. */
  'trailing-bytes',
  /** An entry message longer than `maxEntryBytes`. */
  'entry-too-large',
  /** A state message whose entries take more than `maxTotalBytes`. */
  'state-too-large',
  /** An empty node name. */
  'empty-node-name',
  /** A node name longer than `maxNodeNameBytes`. */
  'node-name-too-long',
  /** More subscriptions in one entry than `maxSubscriptions`. */
  'too-many-subscriptions',
  /** A subscription longer than `maxTopicBytes`. */
  'topic-too-long',
  /** A subscription that `validatePattern` rejects. */
  'invalid-topic',
  /** Subscriptions not in strictly ascending order (or repeated). */
  'unsorted-subscriptions',
  /** More responders in one entry than `maxSubscriptions`. */
  'too-many-responders',
  /** Responders not in strictly ascending order (or repeated). */
  'unsorted-responders',
  /** More queue groups in one entry than `maxSubscriptions`. */
  'too-many-groups',
  /** Queue groups not in strictly ascending (topic, group) order (or repeated). */
  'unsorted-groups',
  /** A queue group name that is not a valid concrete topic string. */
  'invalid-group',
  /** More entries in one state than `maxEntries`. */
  'too-many-entries',
  /** The same node twice in one state. */
  'duplicate-node',
  /** A well-formed entry of a new node arrived while `maxEntries` or `maxTotalBytes` is reached. */
  'directory-full',
  /** Our own entry came back with a version that leaves no room above it (2^53 - 1). */
  'version-exhausted',
] as const;

/** One of {@link DIRECTORY_DROP_REASONS}. */
export type DirectoryDropReason = (typeof DIRECTORY_DROP_REASONS)[number];

/** One node's subscription set at a version. */
export interface DirectoryEntry {
  /** Node name (the SWIM member name). */
  readonly node: string;
  /** Version of the set; a higher version replaces a lower one. */
  readonly version: number;
  /** Topics and patterns, sorted ascending (JavaScript string order). */
  readonly subscriptions: readonly string[];
  /** Topics and patterns the node answers requests on, sorted ascending. */
  readonly responders: readonly string[];
  /** Queue groups the node is a member of, sorted by (topic, group). */
  readonly groups: readonly GroupMembership[];
}

/**
 * An entry as decoded or about to be encoded: on the wire its lists are strictly ascending (the
 * decoder drops an entry whose lists are not).
 */
export interface DecodedDirectoryEntry extends DirectoryEntry {
  /** Size of the entry body at version 2 or 3 (what it adds to a state; see the file comment). */
  readonly bodyBytes: number;
}

/** One queue group a node is a member of: `subscribe(topic, { group })`. */
export interface GroupMembership {
  /** The topic or pattern subscribed. */
  readonly topic: string;
  /** The group's name. */
  readonly group: string;
}

/** Strict ascending order of group memberships: by topic, then by group. */
export function compareGroupMemberships(a: GroupMembership, b: GroupMembership): number {
  if (a.topic !== b.topic) return a.topic < b.topic ? -1 : 1;
  if (a.group !== b.group) return a.group < b.group ? -1 : 1;
  return 0;
}

/** A decoded message, or the reason it was dropped. */
export type DirectoryDecodeResult =
  | {
      readonly ok: true;
      readonly kind: DirectoryMessageKind;
      readonly entries: DecodedDirectoryEntry[];
    }
  | { readonly ok: false; readonly reason: DirectoryDropReason };

/** Decoding limits: a subset of the directory's options. */
export type DirectoryCodecLimits = Pick<
  ResolvedDirectoryOptions,
  | 'maxSubscriptions'
  | 'maxTopicBytes'
  | 'maxEntries'
  | 'maxNodeNameBytes'
  | 'maxEntryBytes'
  | 'maxTotalBytes'
>;

const encoder = new TextEncoder();

/** The shared byte reader, recording directory drop reasons. */
type DirectoryReader = ByteReader<DirectoryDropReason>;

function strSize(s: string): number {
  const len = Buffer.byteLength(s, 'utf8');
  return varintSize(len) + len;
}

/**
 * Size of an entry body at version 2 (version 3 when it names groups): what one entry adds to a
 * state, and what every limit counts. Its entry message is `2 +` this, one byte less when it has
 * no responder and no group (version 1).
 */
export function directoryEntryBodySize(
  node: string,
  version: number,
  subscriptions: readonly string[],
  responders: readonly string[] = [],
  groups: readonly GroupMembership[] = [],
): number {
  let size = strSize(node) + varintSize(version) + varintSize(subscriptions.length);
  for (const s of subscriptions) size += strSize(s);
  size += varintSize(responders.length);
  for (const s of responders) size += strSize(s);
  if (groups.length > 0) {
    size += varintSize(groups.length);
    for (const g of groups) size += strSize(g.topic) + strSize(g.group);
  }
  return size;
}

function writeStr(out: Uint8Array, o: number, s: string): number {
  const len = Buffer.byteLength(s, 'utf8');
  o = writeVarint(len, out, o);
  encoder.encodeInto(s, out.subarray(o, o + len));
  return o + len;
}

function writeBody(
  out: Uint8Array,
  o: number,
  e: EncodableDirectoryEntry,
  codecVersion: number,
): number {
  o = writeStr(out, o, e.node);
  o = writeVarint(e.version, out, o);
  o = writeVarint(e.subscriptions.length, out, o);
  for (const s of e.subscriptions) o = writeStr(out, o, s);
  if (codecVersion === DIRECTORY_CODEC_VERSION) return o;
  const responders = e.responders ?? [];
  o = writeVarint(responders.length, out, o);
  for (const s of responders) o = writeStr(out, o, s);
  if (codecVersion === DIRECTORY_CODEC_VERSION_RESPONDERS) return o;
  const groups = e.groups ?? [];
  o = writeVarint(groups.length, out, o);
  for (const g of groups) {
    o = writeStr(out, o, g.topic);
    o = writeStr(out, o, g.group);
  }
  return o;
}

/** What the encoder needs of an entry; both lists must already be strictly ascending. */
export interface EncodableDirectoryEntry {
  readonly node: string;
  readonly version: number;
  readonly subscriptions: readonly string[];
  /** Topics and patterns the node answers requests on. Default none. */
  readonly responders?: readonly string[];
  /** Queue groups, strictly ascending by (topic, group). Default none. */
  readonly groups?: readonly GroupMembership[];
}

/**
 * The codec version of a message holding `entries`: 3 when one names a group, else 2 when one
 * has a responder, else 1.
 */
function codecVersionOf(entries: readonly EncodableDirectoryEntry[]): number {
  let v = DIRECTORY_CODEC_VERSION;
  for (const e of entries) {
    if ((e.groups?.length ?? 0) > 0) return DIRECTORY_CODEC_VERSION_GROUPS;
    if ((e.responders?.length ?? 0) > 0) v = DIRECTORY_CODEC_VERSION_RESPONDERS;
  }
  return v;
}

/**
 * Body bytes of `e` as written at `codecVersion` (version 1 has no responder count; version 3
 * has a group count, zero for an entry without groups).
 */
function writtenBodySize(e: EncodableDirectoryEntry, codecVersion: number): number {
  const size = directoryEntryBodySize(e.node, e.version, e.subscriptions, e.responders, e.groups);
  if (codecVersion === DIRECTORY_CODEC_VERSION) return size - 1;
  if (codecVersion === DIRECTORY_CODEC_VERSION_GROUPS && (e.groups?.length ?? 0) === 0) {
    return size + 1;
  }
  return size;
}

/** Encode one entry as an entry message. The caller keeps both lists sorted. */
export function encodeDirectoryEntry(e: EncodableDirectoryEntry): Uint8Array {
  const v = codecVersionOf([e]);
  const out = new Uint8Array(2 + writtenBodySize(e, v));
  out[0] = v;
  out[1] = DirectoryMessageKind.Entry;
  writeBody(out, 2, e, v);
  return out;
}

/** Encode entries as a state message. */
export function encodeDirectoryState(entries: Iterable<EncodableDirectoryEntry>): Uint8Array {
  const list = [...entries];
  const v = codecVersionOf(list);
  let size = 2 + varintSize(list.length);
  for (const e of list) size += writtenBodySize(e, v);
  const out = new Uint8Array(size);
  out[0] = v;
  out[1] = DirectoryMessageKind.State;
  let o = writeVarint(list.length, out, 2);
  for (const e of list) o = writeBody(out, o, e, v);
  return out;
}

/** Whether byte 0 of a directory message is a codec version this build reads. */
function isKnownCodecVersion(b: number | undefined): boolean {
  return (
    b === DIRECTORY_CODEC_VERSION ||
    b === DIRECTORY_CODEC_VERSION_RESPONDERS ||
    b === DIRECTORY_CODEC_VERSION_GROUPS
  );
}

/**
 * The kind of a directory message from its first two bytes, without decoding it; undefined when
 * it is not one this build reads. Lets the runtime route user broadcasts cheaply.
 */
export function peekDirectoryKind(bytes: Uint8Array): DirectoryMessageKind | undefined {
  if (bytes.length < 2 || !isKnownCodecVersion(bytes[0])) return undefined;
  const k = bytes[1];
  return k === DirectoryMessageKind.Entry || k === DirectoryMessageKind.State ? k : undefined;
}

/**
 * A varint length then a string of 1..maxBytes UTF-8 bytes, or undefined; an empty or over-long
 * string records the reason given for it.
 */
function readStr(
  r: DirectoryReader,
  maxBytes: number,
  emptyReason: DirectoryDropReason,
  longReason: DirectoryDropReason,
): string | undefined {
  const at = r.pos;
  const len = r.varint('length');
  if (len < 0) return undefined;
  if (len === 0 || len > maxBytes) {
    r.fail(len === 0 ? emptyReason : longReason, at, 'length');
    return undefined;
  }
  return r.utf8(len, 'string', at);
}

/**
 * A list of 0..`maxSubscriptions` strictly ascending valid topics or patterns, or undefined (the
 * reason recorded). `what` names the list in the reader's error detail.
 */
function readTopicList(
  r: DirectoryReader,
  l: DirectoryCodecLimits,
  what: 'subscription' | 'responder',
  tooMany: DirectoryDropReason,
  unsorted: DirectoryDropReason,
): string[] | undefined {
  // Each topic takes at least two bytes (length and one byte).
  const n = r.count(l.maxSubscriptions, 2, `${what} count`, tooMany);
  if (n < 0) return undefined;
  const list: string[] = new Array<string>(n);
  let prev = '';
  for (let i = 0; i < n; i++) {
    const at = r.pos;
    const s = readStr(r, l.maxTopicBytes, 'invalid-topic', 'topic-too-long');
    if (s === undefined) return undefined;
    if (i > 0 && !(prev < s)) {
      r.fail(unsorted, at, what);
      return undefined;
    }
    if (validatePattern(s) !== null) {
      r.fail('invalid-topic', at, what);
      return undefined;
    }
    list[i] = s;
    prev = s;
  }
  return list;
}

function readBody(
  r: DirectoryReader,
  l: DirectoryCodecLimits,
  codecVersion: number,
): DecodedDirectoryEntry | undefined {
  const start = r.pos;
  const node = readStr(r, l.maxNodeNameBytes, 'empty-node-name', 'node-name-too-long');
  if (node === undefined) return undefined;
  const version = r.varint('version');
  if (version < 0) return undefined;
  const subscriptions = readTopicList(
    r,
    l,
    'subscription',
    'too-many-subscriptions',
    'unsorted-subscriptions',
  );
  if (subscriptions === undefined) return undefined;
  if (codecVersion === DIRECTORY_CODEC_VERSION) {
    // Counted at its version 2 size: one byte more for the absent responder count.
    const bodyBytes = r.pos - start + 1;
    return { node, version, subscriptions, responders: [], groups: [], bodyBytes };
  }
  const responders = readTopicList(r, l, 'responder', 'too-many-responders', 'unsorted-responders');
  if (responders === undefined) return undefined;
  if (codecVersion === DIRECTORY_CODEC_VERSION_RESPONDERS) {
    return { node, version, subscriptions, responders, groups: [], bodyBytes: r.pos - start };
  }
  const groups = readGroupList(r, l);
  if (groups === undefined) return undefined;
  // An entry without groups is counted at its version 2 size (no group count), as it was sent.
  const bodyBytes = r.pos - start - (groups.length === 0 ? 1 : 0);
  return { node, version, subscriptions, responders, groups, bodyBytes };
}

/**
 * A list of 0..`maxSubscriptions` queue groups, strictly ascending by (topic, group): each a
 * valid topic or pattern and a group name that is a valid concrete topic; undefined on the first
 * problem (the reason recorded).
 */
function readGroupList(r: DirectoryReader, l: DirectoryCodecLimits): GroupMembership[] | undefined {
  // Each membership takes at least four bytes (two lengths, one byte each).
  const n = r.count(l.maxSubscriptions, 4, 'group count', 'too-many-groups');
  if (n < 0) return undefined;
  const list: GroupMembership[] = new Array<GroupMembership>(n);
  for (let i = 0; i < n; i++) {
    const at = r.pos;
    const topic = readStr(r, l.maxTopicBytes, 'invalid-topic', 'topic-too-long');
    if (topic === undefined) return undefined;
    const group = readStr(r, l.maxTopicBytes, 'invalid-group', 'invalid-group');
    if (group === undefined) return undefined;
    if (validatePattern(topic) !== null) {
      r.fail('invalid-topic', at, 'group topic');
      return undefined;
    }
    if (validateTopic(group) !== null) {
      r.fail('invalid-group', at, 'group');
      return undefined;
    }
    const m: GroupMembership = { topic, group };
    if (i > 0 && compareGroupMemberships(list[i - 1]!, m) >= 0) {
      r.fail('unsorted-groups', at, 'group');
      return undefined;
    }
    list[i] = m;
  }
  return list;
}

/**
 * Decode an entry or a state message. Never throws. A state is all or nothing: one bad entry
 * drops the whole message (a correct peer never sends one).
 */
export function decodeDirectoryMessage(
  bytes: Uint8Array,
  limits: DirectoryCodecLimits,
): DirectoryDecodeResult {
  if (bytes.length < 2) return { ok: false, reason: 'truncated' };
  const codecVersion = bytes[0]!;
  if (!isKnownCodecVersion(codecVersion)) return { ok: false, reason: 'unknown-codec-version' };
  const kind = bytes[1];
  const r: DirectoryReader = new ByteReader(bytes, 2);
  const entries: DecodedDirectoryEntry[] = [];
  if (kind === DirectoryMessageKind.Entry) {
    // A version 1 entry is checked at its version 2 size (see the file comment).
    const v2Bytes = bytes.length + (codecVersion === DIRECTORY_CODEC_VERSION ? 1 : 0);
    if (v2Bytes > limits.maxEntryBytes) return { ok: false, reason: 'entry-too-large' };
    const e = readBody(r, limits, codecVersion);
    if (e !== undefined) entries.push(e);
  } else if (kind === DirectoryMessageKind.State) {
    // The entries' bodies are bounded by maxTotalBytes; the header (version, kind, count) comes
    // on top, so a peer whose directory is exactly full can still send its whole state.
    const groupCounts = codecVersion === DIRECTORY_CODEC_VERSION_GROUPS ? limits.maxEntries : 0;
    if (bytes.length > limits.maxTotalBytes + DIRECTORY_STATE_HEADER_MAX_BYTES + groupCounts) {
      return { ok: false, reason: 'state-too-large' };
    }
    // An entry body takes at least four bytes (name, version, count).
    const n = r.count(limits.maxEntries, 4, 'entry count', 'too-many-entries');
    const seen = new Set<string>();
    for (let i = 0; i < n && r.error === undefined; i++) {
      const before = r.pos;
      const e = readBody(r, limits, codecVersion);
      if (e === undefined) break;
      // The entry-message limit applies to each entry of a state too, at its version 2 size.
      if (e.bodyBytes + 2 > limits.maxEntryBytes) {
        r.fail('entry-too-large', before, 'entry');
        break;
      }
      if (seen.has(e.node)) {
        r.fail('duplicate-node', before, 'entry');
        break;
      }
      seen.add(e.node);
      entries.push(e);
    }
  } else {
    return { ok: false, reason: 'unknown-kind' };
  }
  // Only varints, counts (with their own over-limit reasons) and strings are read, so the
  // reader's own reasons are truncated, bad-varint and bad-utf8, all of them drop reasons.
  if (r.error !== undefined) return { ok: false, reason: r.error.reason as DirectoryDropReason };
  if (r.pos !== bytes.length) return { ok: false, reason: 'trailing-bytes' };
  return { ok: true, kind, entries };
}

/** 32-bit FNV-1a over the UTF-8 bytes of `s`: a cheap check that a digest names its node. */
export function directoryNameHash(s: string): number {
  const b = encoder.encode(s);
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) {
    h ^= b[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The digest of `node` at `version` (at most {@link MAX_DIRECTORY_DIGEST_BYTES}). */
export function encodeDirectoryDigest(node: string, version: number): Uint8Array {
  const out = new Uint8Array(5 + varintSize(version));
  out[0] = DIRECTORY_DIGEST_TAG;
  new DataView(out.buffer).setUint32(1, directoryNameHash(node));
  writeVarint(version, out, 5);
  return out;
}

/** A parsed digest. */
export interface DirectoryDigest {
  /** Version of the node's entry when the meta was written. */
  readonly version: number;
  /** {@link directoryNameHash} of the node's name. */
  readonly nameHash: number;
  /** Bytes the digest took; anything after it in the meta is another layer's. */
  readonly length: number;
}

/**
 * Parse a digest at the start of `meta`; null when there is none. Bytes after the digest are
 * left alone so the runtime may append its own fields to the meta. Never throws.
 */
export function decodeDirectoryDigest(meta: Uint8Array): DirectoryDigest | null {
  if (meta.length < 6 || meta[0] !== DIRECTORY_DIGEST_TAG) return null;
  const nameHash = ((meta[1]! << 24) | (meta[2]! << 16) | (meta[3]! << 8) | meta[4]!) >>> 0;
  const r = new ByteReader(meta, 5);
  const version = r.varint('version');
  if (version < 0) return null;
  return { version, nameHash, length: r.pos };
}
