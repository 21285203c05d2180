import { describe, expect, it } from '@jest/globals';
import { varintSize } from '@plumtree/common';
import {
  decodeDirectoryDigest,
  decodeDirectoryMessage,
  DIRECTORY_CODEC_VERSION,
  DIRECTORY_CODEC_VERSION_GROUPS,
  DIRECTORY_CODEC_VERSION_RESPONDERS,
  DIRECTORY_DIGEST_TAG,
  DirectoryMessageKind,
  encodeDirectoryDigest,
  encodeDirectoryEntry,
  encodeDirectoryState,
  directoryEntryBodySize,
  directoryNameHash,
  MAX_DIRECTORY_DIGEST_BYTES,
  peekDirectoryKind,
  type DirectoryDecodeResult,
} from './directory-codec.js';
import { DEFAULT_DIRECTORY_OPTIONS } from './directory-options.js';

const L = DEFAULT_DIRECTORY_OPTIONS;
const utf8 = (s: string): number[] => [...Buffer.from(s, 'utf8')];
const str = (s: string): number[] => [...varint(Buffer.byteLength(s)), ...utf8(s)];
function varint(v: number): number[] {
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}
const entryMsg = (...body: number[]): Uint8Array =>
  Uint8Array.from([DIRECTORY_CODEC_VERSION, DirectoryMessageKind.Entry, ...body]);
const reasonOf = (r: DirectoryDecodeResult): string => (r.ok ? 'ok' : r.reason);

describe('entry codec', () => {
  it('encodes the documented layout', () => {
    const bytes = encodeDirectoryEntry({ node: 'n1', version: 300, subscriptions: ['a', 'b.*'] });
    expect([...bytes]).toEqual([1, 1, ...str('n1'), 0xac, 0x02, 2, ...str('a'), ...str('b.*')]);
    // No responder: version 1, one byte under the version 2 size every limit counts.
    expect(bytes.length).toBe(2 + directoryEntryBodySize('n1', 300, ['a', 'b.*']) - 1);
  });

  it('writes responders after the subscriptions, as version 2', () => {
    const e = { node: 'n1', version: 5, subscriptions: ['a'], responders: ['q', 'r.*'] };
    const bytes = encodeDirectoryEntry(e);
    expect([...bytes]).toEqual([
      DIRECTORY_CODEC_VERSION_RESPONDERS,
      1,
      ...str('n1'),
      5,
      1,
      ...str('a'),
      2,
      ...str('q'),
      ...str('r.*'),
    ]);
    expect(bytes.length).toBe(2 + directoryEntryBodySize('n1', 5, ['a'], ['q', 'r.*']));
    const r = decodeDirectoryMessage(bytes, L);
    expect(r.ok && r.entries[0]).toEqual({ ...e, groups: [], bodyBytes: bytes.length - 2 });
  });

  it('reads version 1 entries with no responders, counted at their version 2 size', () => {
    const v1 = encodeDirectoryEntry({ node: 'n', version: 1, subscriptions: ['a'] });
    expect(v1[0]).toBe(DIRECTORY_CODEC_VERSION);
    const r = decodeDirectoryMessage(v1, L);
    expect(r.ok && r.entries[0]).toEqual({
      node: 'n',
      version: 1,
      subscriptions: ['a'],
      responders: [],
      groups: [],
      bodyBytes: directoryEntryBodySize('n', 1, ['a']),
    });
    // A version 1 entry of exactly maxEntryBytes would not fit once relayed as version 2.
    expect(reasonOf(decodeDirectoryMessage(v1, { ...L, maxEntryBytes: v1.length }))).toBe(
      'entry-too-large',
    );
    expect(reasonOf(decodeDirectoryMessage(v1, { ...L, maxEntryBytes: v1.length + 1 }))).toBe('ok');
  });

  it('writes a state as version 2 when one entry has responders, every entry with its count', () => {
    const entries = [
      { node: 'a', version: 1, subscriptions: ['x'], responders: [], groups: [] },
      { node: 'b', version: 2, subscriptions: [], responders: ['q.#'], groups: [] },
    ];
    const bytes = encodeDirectoryState(entries);
    expect(bytes[0]).toBe(DIRECTORY_CODEC_VERSION_RESPONDERS);
    const r = decodeDirectoryMessage(bytes, L);
    expect(r.ok && r.entries.map(({ bodyBytes: _, ...e }) => e)).toEqual(entries);
    expect(encodeDirectoryState([entries[0]!])[0]).toBe(DIRECTORY_CODEC_VERSION);
  });

  it('writes queue groups after the responders, as version 3, and counts them', () => {
    const groups = [
      { topic: 'orders.*', group: 'audit' },
      { topic: 'orders.created', group: 'billing' },
    ];
    const e = { node: 'n1', version: 5, subscriptions: ['a'], responders: [], groups };
    const bytes = encodeDirectoryEntry(e);
    expect(bytes[0]).toBe(DIRECTORY_CODEC_VERSION_GROUPS);
    expect(bytes.length).toBe(2 + directoryEntryBodySize('n1', 5, ['a'], [], groups));
    const r = decodeDirectoryMessage(bytes, L);
    expect(r.ok && r.entries[0]).toEqual({ ...e, bodyBytes: bytes.length - 2 });
    // In a version 3 state an entry without groups is counted at its version 2 size.
    const plain = { node: 'p', version: 1, subscriptions: ['x'], responders: [], groups: [] };
    const state = decodeDirectoryMessage(encodeDirectoryState([e, plain]), L);
    expect(state.ok && state.entries[1]).toEqual({
      ...plain,
      bodyBytes: directoryEntryBodySize('p', 1, ['x']),
    });
  });

  it.each([
    { node: 'n', version: 0, subscriptions: [] },
    { node: 'node-ü-😀', version: Number.MAX_SAFE_INTEGER, subscriptions: ['#', 'a.#', 'x.*.y'] },
    { node: 'n'.repeat(512), version: 1_764_000_000_000, subscriptions: ['t'.repeat(255)] },
  ])('round-trips $node @ $version', (e) => {
    const r = decodeDirectoryMessage(encodeDirectoryEntry(e), L);
    expect(r.ok && r.kind).toBe(DirectoryMessageKind.Entry);
    if (!r.ok) return;
    expect(r.entries).toHaveLength(1);
    const [d] = r.entries;
    expect({ node: d!.node, version: d!.version, subscriptions: d!.subscriptions }).toEqual(e);
    expect(d!.bodyBytes).toBe(directoryEntryBodySize(e.node, e.version, e.subscriptions));
  });

  it('round-trips a state', () => {
    const entries = [
      { node: 'a', version: 1, subscriptions: ['x'] },
      { node: 'b', version: 2, subscriptions: [] },
      { node: 'c', version: 3, subscriptions: ['orders.#', 'orders.eu'] },
    ];
    const r = decodeDirectoryMessage(encodeDirectoryState(entries), L);
    expect(r.ok && r.kind).toBe(DirectoryMessageKind.State);
    if (!r.ok) return;
    expect(
      r.entries.map(({ node, version, subscriptions }) => ({ node, version, subscriptions })),
    ).toEqual(entries);
    const empty = decodeDirectoryMessage(encodeDirectoryState([]), L);
    expect(empty.ok && empty.entries).toEqual([]);
  });

  it('peeks the kind without decoding', () => {
    expect(
      peekDirectoryKind(encodeDirectoryEntry({ node: 'n', version: 1, subscriptions: [] })),
    ).toBe(DirectoryMessageKind.Entry);
    expect(peekDirectoryKind(encodeDirectoryState([]))).toBe(DirectoryMessageKind.State);
    expect(peekDirectoryKind(Uint8Array.of(1))).toBeUndefined();
    expect(peekDirectoryKind(Uint8Array.of(2, 1))).toBe(DirectoryMessageKind.Entry);
    expect(peekDirectoryKind(Uint8Array.of(3, 1))).toBe(DirectoryMessageKind.Entry);
    expect(peekDirectoryKind(Uint8Array.of(4, 1))).toBeUndefined();
    expect(peekDirectoryKind(Uint8Array.of(1, 3))).toBeUndefined();
  });

  it('sizes varints as written', () => {
    for (const v of [0, 127, 128, 16383, 16384, 2 ** 32, Number.MAX_SAFE_INTEGER]) {
      expect(varintSize(v)).toBe(varint(v).length);
    }
    expect(varintSize(Number.MAX_SAFE_INTEGER)).toBe(8);
  });
});

describe('entry codec rejections', () => {
  const ok = [...str('n'), 5, 1, ...str('a')];
  it.each<[string, Uint8Array, string]>([
    ['empty input', new Uint8Array(0), 'truncated'],
    ['one byte', Uint8Array.of(1), 'truncated'],
    ['codec version 4', Uint8Array.of(4, 1, ...ok), 'unknown-codec-version'],
    ['version 3 without a group count', Uint8Array.of(3, 1, ...ok, 0), 'truncated'],
    [
      'version 3 groups unsorted',
      Uint8Array.of(3, 1, ...ok, 0, 2, ...str('a'), ...str('g2'), ...str('a'), ...str('g1')),
      'unsorted-groups',
    ],
    [
      'version 3 group duplicate',
      Uint8Array.of(3, 1, ...ok, 0, 2, ...str('a'), ...str('g'), ...str('a'), ...str('g')),
      'unsorted-groups',
    ],
    ['version 3 1025 groups', Uint8Array.of(3, 1, ...ok, 0, ...varint(1025)), 'too-many-groups'],
    [
      'version 3 wildcard group name',
      Uint8Array.of(3, 1, ...ok, 0, 1, ...str('a'), ...str('g.*')),
      'invalid-group',
    ],
    [
      'version 3 empty group name',
      Uint8Array.of(3, 1, ...ok, 0, 1, ...str('a'), 0, 0),
      'invalid-group',
    ],
    [
      'version 3 invalid group topic',
      Uint8Array.of(3, 1, ...ok, 0, 1, ...str('#.a'), ...str('g')),
      'invalid-topic',
    ],
    ['version 2 without a responder count', Uint8Array.of(2, 1, ...ok), 'truncated'],
    [
      'version 2 responders unsorted',
      Uint8Array.of(2, 1, ...ok, 2, ...str('b'), ...str('a')),
      'unsorted-responders',
    ],
    [
      'version 2 responder duplicate',
      Uint8Array.of(2, 1, ...ok, 2, ...str('a'), ...str('a')),
      'unsorted-responders',
    ],
    [
      'version 2 1025 responders',
      Uint8Array.of(2, 1, ...ok, ...varint(1025)),
      'too-many-responders',
    ],
    [
      'version 2 invalid responder',
      Uint8Array.of(2, 1, ...ok, 1, ...str('a.#.b')),
      'invalid-topic',
    ],
    ['kind 3', Uint8Array.of(1, 3, ...ok), 'unknown-kind'],
    ['truncated subscription', entryMsg(...ok.slice(0, -1)), 'truncated'],
    ['name length beyond input', entryMsg(9, 0x6e), 'truncated'],
    ['trailing byte', entryMsg(...ok, 0), 'trailing-bytes'],
    ['empty node name', entryMsg(0, 5, 0), 'empty-node-name'],
    ['513-byte name', entryMsg(...str('n'.repeat(513)), 5, 0), 'node-name-too-long'],
    ['non-canonical varint', entryMsg(...str('n'), 0x85, 0x00, 0), 'bad-varint'],
    [
      'varint above 2^53 - 1',
      entryMsg(...str('n'), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x10, 0),
      'bad-varint',
    ],
    [
      '9-byte varint',
      entryMsg(...str('n'), 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0),
      'bad-varint',
    ],
    ['bad UTF-8 name', entryMsg(2, 0xc3, 0x28, 5, 0), 'bad-utf8'],
    ['encoded surrogate', entryMsg(...str('n'), 5, 1, 3, 0xed, 0xa0, 0x80), 'bad-utf8'],
    ['1025 subscriptions', entryMsg(...str('n'), 5, ...varint(1025)), 'too-many-subscriptions'],
    ['count the input cannot hold', entryMsg(...str('n'), 5, 100, ...str('a')), 'truncated'],
    ['256-byte topic', entryMsg(...str('n'), 5, 1, ...str('t'.repeat(256))), 'topic-too-long'],
    ['empty topic', entryMsg(...str('n'), 5, 1, 0, 0), 'invalid-topic'],
    ['invalid pattern', entryMsg(...str('n'), 5, 1, ...str('#.a')), 'invalid-topic'],
    ['unsorted', entryMsg(...str('n'), 5, 2, ...str('b'), ...str('a')), 'unsorted-subscriptions'],
    ['duplicate', entryMsg(...str('n'), 5, 2, ...str('a'), ...str('a')), 'unsorted-subscriptions'],
    [
      'too large',
      entryMsg(...str('n'), 5, 1, ...str('a'), ...new Array<number>(L.maxEntryBytes)),
      'entry-too-large',
    ],
  ])('%s', (_name, bytes, reason) => {
    expect(reasonOf(decodeDirectoryMessage(bytes, L))).toBe(reason);
  });

  it('rejects states: too many entries, duplicates, oversize entries and states', () => {
    const stateOf = (...body: number[]): Uint8Array => Uint8Array.from([1, 2, ...body]);
    const e = (n: string): number[] => [...str(n), 1, 0];
    expect(reasonOf(decodeDirectoryMessage(stateOf(...varint(10_001)), L))).toBe(
      'too-many-entries',
    );
    expect(reasonOf(decodeDirectoryMessage(stateOf(2, ...e('a'), ...e('a')), L))).toBe(
      'duplicate-node',
    );
    expect(reasonOf(decodeDirectoryMessage(stateOf(3, ...e('a'), ...e('b')), L))).toBe('truncated');
    expect(reasonOf(decodeDirectoryMessage(stateOf(1, ...e('a'), 0), L))).toBe('trailing-bytes');
    const small = { ...L, maxEntryBytes: 16, maxTotalBytes: 64 };
    const big = encodeDirectoryState([
      { node: 'a', version: 1, subscriptions: ['topic.one', 'topic.two'] },
    ]);
    expect(reasonOf(decodeDirectoryMessage(big, small))).toBe('entry-too-large');
    const many = encodeDirectoryState(
      Array.from({ length: 20 }, (_, i) => ({ node: `n${i}`, version: 1, subscriptions: [] })),
    );
    expect(reasonOf(decodeDirectoryMessage(many, small))).toBe('state-too-large');
    // Bodies of exactly maxTotalBytes pass: the header is allowed on top.
    const exact = encodeDirectoryState([
      { node: 'a', version: 1, subscriptions: ['t'.repeat(11)] },
    ]);
    const bodies = exact.length - 3;
    expect(reasonOf(decodeDirectoryMessage(exact, { ...L, maxTotalBytes: bodies }))).toBe('ok');
    expect(reasonOf(decodeDirectoryMessage(exact, { ...L, maxTotalBytes: bodies - 8 }))).toBe(
      'state-too-large',
    );
    // One bad entry drops the whole state.
    expect(
      reasonOf(decodeDirectoryMessage(stateOf(2, ...e('a'), ...str('b'), 1, 1, ...str('#.x')), L)),
    ).toBe('invalid-topic');
  });
});

describe('digest', () => {
  it('round-trips name hash and version within the meta budget', () => {
    for (const v of [0, 1, 1_764_000_000_000, Number.MAX_SAFE_INTEGER]) {
      const d = encodeDirectoryDigest('node-1', v);
      expect(d.length).toBeLessThanOrEqual(MAX_DIRECTORY_DIGEST_BYTES);
      expect(d[0]).toBe(DIRECTORY_DIGEST_TAG);
      expect(decodeDirectoryDigest(d)).toEqual({
        version: v,
        nameHash: directoryNameHash('node-1'),
        length: d.length,
      });
    }
  });

  it('ignores bytes after the digest and rejects what is not one', () => {
    const d = encodeDirectoryDigest('n', 1234);
    const withTail = Uint8Array.from([...d, 9, 9, 9]);
    expect(decodeDirectoryDigest(withTail)).toEqual({
      version: 1234,
      nameHash: directoryNameHash('n'),
      length: d.length,
    });
    expect(decodeDirectoryDigest(new Uint8Array(0))).toBeNull();
    expect(decodeDirectoryDigest(Uint8Array.from([0x00, ...d.subarray(1)]))).toBeNull();
    expect(decodeDirectoryDigest(d.subarray(0, d.length - 1))).toBeNull();
    expect(
      decodeDirectoryDigest(Uint8Array.of(DIRECTORY_DIGEST_TAG, 0, 0, 0, 0, 0x80, 0)),
    ).toBeNull();
  });

  it('hashes names with FNV-1a over UTF-8', () => {
    // Published FNV-1a 32-bit test vectors.
    expect(directoryNameHash('')).toBe(0x811c9dc5);
    expect(directoryNameHash('a')).toBe(0xe40c292c);
    expect(directoryNameHash('foobar')).toBe(0xbf9cf968);
  });
});
