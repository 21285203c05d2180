import { describe, expect, it } from '@jest/globals';
import {
  encodeDirectoryEntry,
  encodeDirectoryState,
  directoryNameHash,
} from './directory-codec.js';
import {
  DirectoryLimitError,
  DirectoryOptionsError,
  InvalidTopicError,
} from './directory-errors.js';
import { TopicDirectory } from './topic-directory.js';

const T0 = 1_764_000_000_000;
const all = (): boolean => true;
const entryOf = (node: string, version: number, subscriptions: string[]): Uint8Array =>
  encodeDirectoryEntry({ node, version, subscriptions: [...subscriptions].sort() });

describe('TopicDirectory: local set and versions', () => {
  it('starts empty at version 0 and raises the version to max(version + 1, nowMs)', () => {
    const d = new TopicDirectory('a');
    expect(d.localVersion).toBe(0);
    expect(d.localSubscriptions()).toEqual([]);
    expect(d.subscribe('orders', T0)).toBe(true);
    expect(d.localVersion).toBe(T0);
    // Same millisecond: still strictly higher.
    expect(d.subscribe('orders.*', T0)).toBe(true);
    expect(d.localVersion).toBe(T0 + 1);
    // A clock that went back never lowers the version.
    expect(d.unsubscribe('orders', T0 - 5000)).toBe(true);
    expect(d.localVersion).toBe(T0 + 2);
    expect(d.subscribe('x', T0 + 100)).toBe(true);
    expect(d.localVersion).toBe(T0 + 100);
    expect(d.localSubscriptions()).toEqual(['orders.*', 'x']);
  });

  it('reports no change (and keeps the version) for a repeated subscribe or an unknown unsubscribe', () => {
    const d = new TopicDirectory('a');
    d.subscribe('t', T0);
    expect(d.subscribe('t', T0 + 1)).toBe(false);
    expect(d.unsubscribe('u', T0 + 1)).toBe(false);
    expect(d.localVersion).toBe(T0);
  });

  it('throws typed errors for invalid topics, limits and options', () => {
    const d = new TopicDirectory('a', { maxSubscriptions: 2, maxTopicBytes: 10 });
    expect(() => d.subscribe('a..b', T0)).toThrow(InvalidTopicError);
    expect(() => d.subscribe('#.a', T0)).toThrow(/last segment/);
    expect(() => d.subscribe('x'.repeat(11), T0)).toThrow(/maxTopicBytes/);
    d.subscribe('a', T0);
    d.subscribe('b', T0);
    expect(() => d.subscribe('c', T0)).toThrow(DirectoryLimitError);
    expect(() => d.unsubscribe('a', Number.NaN)).toThrow(TypeError);
    expect(d.localSubscriptions()).toEqual(['a', 'b']);
    const small = new TopicDirectory('a', { maxEntryBytes: 20 });
    small.subscribe('abc', 1);
    expect(() => small.subscribe('defghijklmnop', 2)).toThrow(/maxEntryBytes/);
    expect(() => new TopicDirectory('a', { maxEntries: 0, maxTopicBytes: 300 })).toThrow(
      DirectoryOptionsError,
    );
    try {
      new TopicDirectory('a', { maxEntries: 0, maxTopicBytes: 300 });
    } catch (e) {
      expect((e as DirectoryOptionsError).problems).toHaveLength(2);
    }
    expect(() => new TopicDirectory('')).toThrow(DirectoryOptionsError);
    expect(() => new TopicDirectory('n'.repeat(513))).toThrow(/maxNodeNameBytes/);
  });

  it('encodes the local entry, caching it until the next change', () => {
    const d = new TopicDirectory('a');
    d.subscribe('t', T0);
    const first = d.encodeLocalEntry();
    expect(d.encodeLocalEntry()).toBe(first);
    d.subscribe('u', T0);
    const second = d.encodeLocalEntry();
    expect(second).not.toBe(first);
    const peer = new TopicDirectory('b');
    expect(peer.applyEntry(second)).toBe(true);
    expect(peer.entry('a')).toEqual({
      node: 'a',
      version: T0 + 1,
      subscriptions: ['t', 'u'],
      responders: [],
      groups: [],
    });
  });
});

describe('TopicDirectory: remote entries', () => {
  it('keeps the newest version of each node; equal or older versions are ignored', () => {
    const d = new TopicDirectory('local');
    expect(d.applyEntry(entryOf('b', 10, ['x']))).toBe(true);
    expect(d.applyEntry(entryOf('b', 10, ['y']))).toBe(false);
    expect(d.applyEntry(entryOf('b', 9, ['z']))).toBe(false);
    expect(d.entry('b')?.subscriptions).toEqual(['x']);
    expect(d.applyEntry(entryOf('b', 11, ['y']))).toBe(true);
    expect(d.entry('b')).toEqual({
      node: 'b',
      version: 11,
      subscriptions: ['y'],
      responders: [],
      groups: [],
    });
    expect(d.stats()).toMatchObject({ entries: 2, received: 4, applied: 2, stale: 2, drops: {} });
  });

  it('any order of the same entries ends in the same directory', () => {
    const msgs = [entryOf('b', 1, ['a']), entryOf('b', 3, ['c']), entryOf('b', 2, ['b'])];
    for (const order of [
      [0, 1, 2],
      [2, 1, 0],
      [1, 0, 2],
    ]) {
      const d = new TopicDirectory('local');
      for (const i of order) d.applyEntry(msgs[i]!);
      expect(d.entry('b')).toEqual({
        node: 'b',
        version: 3,
        subscriptions: ['c'],
        responders: [],
        groups: [],
      });
    }
  });

  it('jumps above a previous life of its own entry and reports the change', () => {
    const d = new TopicDirectory('me');
    const changes: string[] = [];
    d.onChange((n) => changes.push(n));
    d.subscribe('fresh', T0);
    // The previous life got to T0 + 500 (its clock ran ahead).
    expect(d.applyEntry(entryOf('me', T0 + 500, ['old']))).toBe(true);
    expect(d.localVersion).toBe(T0 + 501);
    expect(d.localSubscriptions()).toEqual(['fresh']);
    expect(d.entry('me')).toEqual({
      node: 'me',
      version: T0 + 501,
      subscriptions: ['fresh'],
      responders: [],
      groups: [],
    });
    expect(changes).toEqual(['me', 'me']);
    // Our own current entry echoed back changes nothing.
    expect(d.applyEntry(d.encodeLocalEntry())).toBe(false);
    // Same version, another set: also a previous life.
    expect(d.applyEntry(entryOf('me', T0 + 501, ['other']))).toBe(true);
    expect(d.localVersion).toBe(T0 + 502);
    // Peers holding the previous life's entry now take ours.
    const peer = new TopicDirectory('peer');
    peer.applyEntry(entryOf('me', T0 + 501, ['other']));
    expect(peer.applyEntry(d.encodeLocalEntry())).toBe(true);
    expect(peer.entry('me')?.subscriptions).toEqual(['fresh']);
  });

  it('counts an own entry at 2^53 - 1 as version-exhausted instead of overflowing', () => {
    const d = new TopicDirectory('me');
    expect(d.applyEntry(entryOf('me', Number.MAX_SAFE_INTEGER, []))).toBe(false);
    expect(d.stats().drops).toEqual({ 'version-exhausted': 1 });
    expect(d.localVersion).toBe(0);
  });

  it('counts malformed input by reason and never throws', () => {
    const d = new TopicDirectory('me');
    expect(d.applyEntry(new Uint8Array(0))).toBe(false);
    expect(d.applyEntry(Uint8Array.of(9, 9))).toBe(false);
    expect(d.mergeState(Uint8Array.of(1, 7))).toBe(0);
    expect(d.mergeState(Uint8Array.of(1, 2, 5))).toBe(0);
    expect(d.stats().drops).toEqual({
      truncated: 2,
      'unknown-codec-version': 1,
      'unknown-kind': 1,
    });
    expect(d.stats().entries).toBe(1);
  });

  it('refuses new nodes past maxEntries and maxTotalBytes, but still updates known ones', () => {
    const d = new TopicDirectory('me', { maxEntries: 3 });
    expect(d.applyEntry(entryOf('b', 1, []))).toBe(true);
    expect(d.applyEntry(entryOf('c', 1, []))).toBe(true);
    expect(d.applyEntry(entryOf('d', 1, []))).toBe(false);
    expect(d.applyEntry(entryOf('c', 2, ['x']))).toBe(true);
    expect(d.stats()).toMatchObject({ entries: 3, drops: { 'directory-full': 1 } });
    const small = new TopicDirectory('me', { maxEntryBytes: 40, maxTotalBytes: 40 });
    expect(small.applyEntry(entryOf('b', 1, ['topic.one']))).toBe(true);
    expect(small.applyEntry(entryOf('c', 1, ['topic.two', 'topic.three']))).toBe(false);
    expect(small.stats().drops).toEqual({ 'directory-full': 1 });
    expect(small.stats().bytes).toBeLessThanOrEqual(40);
  });

  it('merges states and reports how many entries changed', () => {
    const d = new TopicDirectory('me');
    d.applyEntry(entryOf('b', 5, ['x']));
    const state = encodeDirectoryState([
      { node: 'b', version: 4, subscriptions: ['old'] },
      { node: 'c', version: 1, subscriptions: ['y'] },
      { node: 'e', version: 2, subscriptions: [] },
    ]);
    expect(d.mergeState(state)).toBe(2);
    expect(d.mergeState(state)).toBe(0);
    expect(d.nodes()).toEqual(['b', 'c', 'e', 'me']);
    expect(d.entry('b')?.subscriptions).toEqual(['x']);
    // applyEntry takes a state too; mergeState takes an entry.
    expect(d.applyEntry(encodeDirectoryState([{ node: 'f', version: 1, subscriptions: [] }]))).toBe(
      true,
    );
    expect(d.mergeState(entryOf('g', 1, []))).toBe(1);
  });

  it('round-trips its whole state into a fresh directory', () => {
    const a = new TopicDirectory('a');
    a.subscribe('orders.#', T0);
    a.applyEntry(entryOf('b', 7, ['orders.eu', 'chat']));
    a.applyEntry(entryOf('c', 9, []));
    const b = new TopicDirectory('z');
    expect(b.mergeState(a.encodeState())).toBe(3);
    for (const n of ['a', 'b', 'c']) expect(b.entry(n)).toEqual(a.entry(n));
    // The cached state follows changes.
    const before = a.encodeState();
    expect(a.encodeState()).toBe(before);
    a.forget('c');
    expect(a.encodeState()).not.toBe(before);
  });

  it('forgets remote entries, never the local one, and prunes the dead', () => {
    const d = new TopicDirectory('me');
    d.subscribe('t', T0);
    d.applyEntry(entryOf('b', 1, ['t']));
    d.applyEntry(entryOf('c', 1, ['t']));
    expect(d.forget('me')).toBe(false);
    expect(d.forget('b')).toBe(true);
    expect(d.forget('b')).toBe(false);
    expect(d.subscribersOf('t', all, true)).toEqual(['c', 'me']);
    expect(d.prune((n) => n !== 'c')).toBe(1);
    expect(d.nodes()).toEqual(['me']);
    // A forgotten node comes back with any version.
    expect(d.applyEntry(entryOf('b', 1, ['t']))).toBe(true);
  });
});

describe('TopicDirectory: lookups', () => {
  const build = (): TopicDirectory => {
    const d = new TopicDirectory('me');
    d.subscribe('orders.eu', T0);
    d.subscribe('chat.*', T0);
    d.applyEntry(entryOf('b', 1, ['orders.eu', 'news']));
    d.applyEntry(entryOf('c', 1, ['orders.*']));
    d.applyEntry(entryOf('d', 1, ['orders.#']));
    d.applyEntry(entryOf('e', 1, ['#']));
    d.applyEntry(entryOf('f', 1, ['orders.us']));
    d.applyEntry(entryOf('g', 1, ['orders.*']));
    return d;
  };

  it('finds subscribers through exact topics and patterns, filtered by liveness', () => {
    const d = build();
    expect(d.subscribersOf('orders.eu', all)).toEqual(['b', 'c', 'd', 'e', 'g']);
    expect(d.subscribersOf('orders.eu', all, true)).toEqual(['b', 'c', 'd', 'e', 'g', 'me']);
    expect(d.subscribersOf('orders.eu', (n) => n !== 'c' && n !== 'e')).toEqual(['b', 'd', 'g']);
    expect(d.subscribersOf('orders.eu.x', all)).toEqual(['d', 'e']);
    expect(d.subscribersOf('orders', all)).toEqual(['e']);
    expect(d.subscribersOf('chat.room', all, true)).toEqual(['e', 'me']);
    expect(d.subscribersOf('nothing.here', () => false)).toEqual([]);
    // A pattern argument is looked up literally.
    expect(d.subscribersOf('orders.*', all)).toEqual(['c', 'g']);
  });

  it('follows entry changes in its index', () => {
    const d = build();
    d.applyEntry(entryOf('c', 2, ['news']));
    d.forget('g');
    expect(d.subscribersOf('orders.eu', all)).toEqual(['b', 'd', 'e']);
    expect(d.subscribersOf('news', all)).toEqual(['b', 'c', 'e']);
    expect(d.subscribersOf('orders.*', all)).toEqual([]);
  });

  it('matches the local set and lists the concrete topics it knows', () => {
    const d = build();
    expect(d.localMatches('orders.eu')).toBe(true);
    expect(d.localMatches('chat.room')).toBe(true);
    expect(d.localMatches('chat.room.x')).toBe(false);
    expect(d.localMatches('orders.us')).toBe(false);
    expect(d.knownTopics()).toEqual(['news', 'orders.eu', 'orders.us']);
    d.unsubscribe('chat.*', T0);
    expect(d.localMatches('chat.room')).toBe(false);
  });
});

describe('TopicDirectory: responders', () => {
  it('keeps responders apart from subscriptions and routes requests only to them', () => {
    const me = new TopicDirectory('me');
    const responder = new TopicDirectory('r');
    const eventsOnly = new TopicDirectory('e');
    expect(responder.addResponder('q', T0)).toBe(true);
    expect(responder.addResponder('calc.*', T0)).toBe(true);
    expect(responder.addResponder('q', T0 + 1)).toBe(false);
    expect(responder.localVersion).toBe(T0 + 1);
    eventsOnly.subscribe('q', T0);
    eventsOnly.subscribe('calc.*', T0);
    me.applyEntry(responder.encodeLocalEntry());
    me.applyEntry(eventsOnly.encodeLocalEntry());
    expect(me.respondersOf('q', all)).toEqual(['r']);
    expect(me.respondersOf('calc.add', all)).toEqual(['r']);
    expect(me.subscribersOf('q', all)).toEqual(['e']);
    expect(me.knownTopics()).toEqual(['q']);
    expect(me.entry('r')).toEqual({
      node: 'r',
      version: T0 + 1,
      subscriptions: [],
      responders: ['calc.*', 'q'],
      groups: [],
    });
    // Removal travels like any change; the local node counts only when asked.
    responder.removeResponder('q', T0 + 2);
    me.applyEntry(responder.encodeLocalEntry());
    expect(me.respondersOf('q', all)).toEqual([]);
    expect(me.respondersOf('calc.x', () => false)).toEqual([]);
    me.addResponder('calc.*', T0);
    expect(me.respondersOf('calc.x', all)).toEqual(['r']);
    expect(me.respondersOf('calc.x', all, true)).toEqual(['me', 'r']);
    // A state carries them too.
    const copy = new TopicDirectory('copy');
    copy.mergeState(me.encodeState());
    expect(copy.respondersOf('calc.x', all)).toEqual(['me', 'r']);
    expect(copy.stats().drops).toEqual({});
  });

  it('checks responders like subscriptions: valid topics, limits, entry size', () => {
    const d = new TopicDirectory('a', { maxSubscriptions: 1, maxEntryBytes: 24 });
    expect(() => d.addResponder('a.#.b', T0)).toThrow(InvalidTopicError);
    d.addResponder('a', T0);
    expect(() => d.addResponder('b', T0)).toThrow(DirectoryLimitError);
    d.subscribe('s', T0);
    expect(() =>
      new TopicDirectory('a', { maxEntryBytes: 20 }).addResponder('x'.repeat(20), 1),
    ).toThrow(/maxEntryBytes/);
    expect(d.localResponderList()).toEqual(['a']);
  });

  it('treats its own entry with other responders at the same version as a previous life', () => {
    const d = new TopicDirectory('me');
    d.subscribe('t', T0);
    const forged = encodeDirectoryEntry({
      node: 'me',
      version: T0,
      subscriptions: ['t'],
      responders: ['q'],
    });
    expect(d.applyEntry(forged)).toBe(true);
    expect(d.localVersion).toBe(T0 + 1);
    expect(d.localResponderList()).toEqual([]);
  });
});

describe('TopicDirectory: digest and change listeners', () => {
  it('puts name and version in a digest of at most 16 bytes and spots stale entries', () => {
    const a = new TopicDirectory('node-a');
    a.subscribe('t', T0);
    const meta = a.digest();
    expect(meta.length).toBeLessThanOrEqual(16);
    expect(TopicDirectory.parseDigest(meta)).toEqual({
      version: T0,
      nameHash: directoryNameHash('node-a'),
      length: meta.length,
    });
    expect(TopicDirectory.parseDigest(Uint8Array.of(1, 2, 3))).toBeNull();
    const b = new TopicDirectory('node-b');
    expect(b.isStale('node-a', meta)).toBe(true);
    b.applyEntry(a.encodeLocalEntry());
    expect(b.isStale('node-a', meta)).toBe(false);
    a.subscribe('u', T0 + 1);
    expect(b.isStale('node-a', a.digest())).toBe(true);
    // A digest naming someone else is not taken for node-a's.
    expect(b.isStale('node-a', new TopicDirectory('other').digest())).toBe(false);
  });

  it('notifies listeners of every change and survives a throwing one', () => {
    const d = new TopicDirectory('me');
    const seen: string[] = [];
    const errors: [unknown, string][] = [];
    d.onListenerError((e, node) => errors.push([e, node]));
    d.onChange(() => {
      throw new Error('listener bug');
    });
    const off = d.onChange((n) => seen.push(n));
    d.subscribe('t', T0);
    d.applyEntry(entryOf('b', 1, []));
    d.applyEntry(entryOf('b', 1, []));
    d.forget('b');
    off();
    d.subscribe('u', T0);
    expect(seen).toEqual(['me', 'b', 'b']);
    expect(errors.map(([e, n]) => [(e as Error).message, n])).toEqual([
      ['listener bug', 'me'],
      ['listener bug', 'b'],
      ['listener bug', 'b'],
      ['listener bug', 'me'],
    ]);
    expect(d.stats().listenerErrors).toBe(4);
    expect(d.localSubscriptions()).toEqual(['t', 'u']);
  });
});
