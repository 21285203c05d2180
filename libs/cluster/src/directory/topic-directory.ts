/**
 * The topic directory: every node's subscription set, the set of topics it answers requests on
 * (its responders) and the queue groups it is a member of, at a version, as this node knows it.
 *
 * The local entry changes through {@link TopicDirectory.subscribe},
 * {@link TopicDirectory.unsubscribe}, {@link TopicDirectory.addResponder} and
 * {@link TopicDirectory.removeResponder}; remote entries arrive as SWIM user broadcasts
 * ({@link TopicDirectory.applyEntry}) and push-pull states ({@link TopicDirectory.mergeState}).
 * A remote entry replaces the stored one only when its version is higher, so any exchange order
 * converges to the newest set of every node.
 *
 * Versions: each local change sets `version = max(version + 1, nowMs)`. A node restarted
 * without a store thus starts above its previous life (as long as its clock has not gone back);
 * and if its previous life's entry still comes back from the network with a higher or equal
 * version, the local version jumps above it and the change is reported so the runtime
 * rebroadcasts (the SWIM incarnation trick, applied to subscriptions).
 *
 * Sans-IO: time is an argument, nothing is scheduled. Bytes from peers never throw: malformed
 * or over-limit input is dropped and counted by reason in {@link TopicDirectory.stats}.
 */
import {
  decodeDirectoryDigest,
  decodeDirectoryMessage,
  DirectoryMessageKind,
  encodeDirectoryDigest,
  encodeDirectoryEntry,
  encodeDirectoryState,
  directoryEntryBodySize,
  directoryNameHash,
  type DecodedDirectoryEntry,
  type DirectoryEntry,
  type DirectoryDigest,
  type DirectoryDropReason,
  type GroupMembership,
  compareGroupMemberships,
} from './directory-codec.js';
import { InvalidTopicError } from './directory-errors.js';
import {
  checkLocalName,
  resolveDirectoryOptions,
  type DirectoryOptions,
  type ResolvedDirectoryOptions,
} from './directory-options.js';
import { checkEntrySize, isNewLocal, nextVersion, type LocalLists } from './local-entry-checks.js';
import { ChangeListeners } from './change-listeners.js';
import { GroupIndex, sameGroups } from './group-index.js';
import { TopicHolders } from './topic-holders.js';
import { isPattern, topicMatches, validateTopic } from './topic-pattern.js';

export type { DirectoryEntry };

/** Counters of a directory. */
export interface DirectoryStats {
  /** Entries stored, the local one included. */
  entries: number;
  /** Sum of the encoded sizes of stored entries (what a push-pull state carries). */
  bytes: number;
  /** Messages or entries dropped, by reason; only reasons that occurred are present. */
  drops: Record<string, number>;
  /** Messages (entries and states) that decoded correctly. */
  received: number;
  /** Entries that changed the directory (remote or our own bumped). */
  applied: number;
  /** Well-formed entries ignored because their version was not newer. */
  stale: number;
  /** Errors thrown by change listeners (see `onListenerError`). */
  listenerErrors: number;
}

interface StoredEntry {
  /** What {@link TopicDirectory.entry} hands out (frozen). */
  readonly value: DirectoryEntry;
  /** Encoded body size, counted against `maxTotalBytes`. */
  readonly bodyBytes: number;
}

const EMPTY: readonly string[] = Object.freeze([]);
const NO_GROUPS: readonly GroupMembership[] = Object.freeze([]);

/** See the file comment. */
export class TopicDirectory {
  /** The limits in force, defaults filled in. */
  readonly options: ResolvedDirectoryOptions;

  private version = 0;
  private readonly localSubs = new Set<string>();
  private localSorted: readonly string[] = EMPTY;
  private localPatterns: readonly string[] = EMPTY;
  private localResponders: readonly string[] = EMPTY;
  private localGroups: readonly GroupMembership[] = NO_GROUPS;

  private readonly entries = new Map<string, StoredEntry>();
  /** Subscription (topic or pattern) -> nodes holding it: subscribersOf without a full scan. */
  private readonly subscribers = new TopicHolders();
  /** Responder topic or pattern -> nodes answering it, kept apart from the subscriptions. */
  private readonly responders = new TopicHolders();
  /** Queue group memberships by group. */
  private readonly groupIndex = new GroupIndex();
  private totalBytes = 0;

  // Encodings are cached until the next change: broadcasts and push-pull ask far more often
  // than subscriptions change.
  private localEntryCache: Uint8Array | undefined;
  private stateCache: Uint8Array | undefined;
  private digestCache: Uint8Array | undefined;

  private readonly listeners = new ChangeListeners();
  private readonly drops: Record<string, number> = {};
  private received = 0;
  private applied = 0;
  private stale = 0;

  /**
   * @param localName this node's SWIM name; its entry is always kept.
   * @param options limits; invalid ones (or an empty or over-long `localName`) throw
   *   `DirectoryOptionsError` listing every problem.
   */
  constructor(
    readonly localName: string,
    options?: DirectoryOptions,
  ) {
    this.options = resolveDirectoryOptions(options);
    checkLocalName(localName, this.options);
    this.storeLocal();
  }

  /** Version of the local entry; 0 until the first change. */
  get localVersion(): number {
    return this.version;
  }

  /**
   * Add a topic or pattern to the local set. Returns true when the set changed (the version then
   * rises to `max(version + 1, nowMs)`); false when it was already there.
   * Throws {@link InvalidTopicError} for an invalid topic or pattern and
   * {@link DirectoryLimitError} when the local entry would pass `maxSubscriptions` or
   * `maxEntryBytes`.
   */
  subscribe(topicOrPattern: string, nowMs: number): boolean {
    if (!isNewLocal(this.options, topicOrPattern, this.localSorted, 'subscribe to')) return false;
    const next = nextVersion(this.version, nowMs);
    const subs = [...this.localSorted, topicOrPattern].sort();
    this.checkSize(next, { subscriptions: subs }, `subscribe to "${topicOrPattern}"`);
    this.localSubs.add(topicOrPattern);
    this.setLocal(next, subs, this.localResponders, this.localGroups);
    return true;
  }

  /**
   * Add a topic or pattern this node answers requests on (kept apart from its subscriptions:
   * requesters route only to responders). Returns true when the set changed; the version then
   * rises as for {@link subscribe}. Throws like {@link subscribe}.
   */
  addResponder(topicOrPattern: string, nowMs: number): boolean {
    const verb = 'answer requests on';
    if (!isNewLocal(this.options, topicOrPattern, this.localResponders, verb)) return false;
    const next = nextVersion(this.version, nowMs);
    const responders = [...this.localResponders, topicOrPattern].sort();
    this.checkSize(next, { responders }, `${verb} "${topicOrPattern}"`);
    this.setLocal(next, this.localSorted, responders, this.localGroups);
    return true;
  }

  /** Remove a responder topic or pattern; true when the set changed (see {@link addResponder}). */
  removeResponder(topicOrPattern: string, nowMs: number): boolean {
    if (!this.localResponders.includes(topicOrPattern)) return false;
    const next = nextVersion(this.version, nowMs);
    this.setLocal(
      next,
      this.localSorted,
      this.localResponders.filter((s) => s !== topicOrPattern),
      this.localGroups,
    );
    return true;
  }

  /**
   * Make this node a member of queue `group` on `topicOrPattern` (docs/queue-groups.md). Returns
   * true when the set changed (the version then rises as for {@link subscribe}). Throws
   * {@link InvalidTopicError} for an invalid topic or pattern, or a group name that is not a valid
   * concrete topic string, and {@link DirectoryLimitError} as {@link subscribe} does.
   */
  addGroup(topicOrPattern: string, group: string, nowMs: number): boolean {
    const reason = validateTopic(group);
    if (reason !== null) throw new InvalidTopicError(group, `queue group name: ${reason}`);
    const m: GroupMembership = { topic: topicOrPattern, group };
    const keys = this.localGroups.map((g) => `${g.topic}\u0000${g.group}`);
    const verb = 'join a queue group on';
    const key = `${topicOrPattern}\u0000${group}`;
    if (!isNewLocal(this.options, topicOrPattern, keys, verb, key)) return false;
    const next = nextVersion(this.version, nowMs);
    const groups = [...this.localGroups, m].sort(compareGroupMemberships);
    this.checkSize(next, { groups }, `join queue group "${group}" on "${topicOrPattern}"`);
    this.setLocal(next, this.localSorted, this.localResponders, groups);
    return true;
  }

  /** Leave queue `group` on `topicOrPattern`; true when the set changed. */
  removeGroup(topicOrPattern: string, group: string, nowMs: number): boolean {
    const i = this.localGroups.findIndex((g) => g.topic === topicOrPattern && g.group === group);
    if (i < 0) return false;
    const next = nextVersion(this.version, nowMs);
    const groups = this.localGroups.filter((_, j) => j !== i);
    this.setLocal(next, this.localSorted, this.localResponders, groups);
    return true;
  }

  /**
   * Members of queue `group` for the concrete `topic` (a membership of the topic itself or of a
   * pattern matching it), sorted; the local node when it is one, remote nodes when `isAlive`.
   */
  groupMembersOf(topic: string, group: string, isAlive: (node: string) => boolean): string[] {
    return this.alive(this.groupIndex.matching(topic, group), isAlive, true);
  }

  /** The local responder set, sorted ascending. */
  localResponderList(): readonly string[] {
    return this.localResponders;
  }

  /**
   * Remove a topic or pattern from the local set. Returns true when the set changed (the version
   * then rises as for {@link subscribe}); false when it was not there.
   */
  unsubscribe(topicOrPattern: string, nowMs: number): boolean {
    if (!this.localSubs.has(topicOrPattern)) return false;
    const next = nextVersion(this.version, nowMs);
    this.localSubs.delete(topicOrPattern);
    this.setLocal(
      next,
      this.localSorted.filter((s) => s !== topicOrPattern),
      this.localResponders,
      this.localGroups,
    );
    return true;
  }

  /** The local set, sorted ascending. */
  localSubscriptions(): readonly string[] {
    return this.localSorted;
  }

  /**
   * The local entry encoded for a SWIM user broadcast. Queue it under the name
   * `topics:<localName>` so a newer one replaces an older one still in the queue. Cached.
   * Its size is at most `maxEntryBytes`, which can exceed what fits in one UDP packet: the
   * runtime should skip the broadcast when it does not fit and rely on push-pull and the digest.
   */
  encodeLocalEntry(): Uint8Array {
    this.localEntryCache ??= encodeDirectoryEntry(this.entries.get(this.localName)!.value);
    return this.localEntryCache;
  }

  /**
   * Apply a received entry broadcast (a state is accepted too and merged). Returns true when the
   * directory changed. Never throws: malformed input is counted in `stats().drops` and false
   * returned.
   */
  applyEntry(bytes: Uint8Array): boolean {
    const r = decodeDirectoryMessage(bytes, this.options);
    if (!r.ok) {
      this.drop(r.reason);
      return false;
    }
    this.received++;
    if (r.kind === DirectoryMessageKind.State) return this.applyAll(r.entries) > 0;
    return this.applyDecoded(r.entries[0]!);
  }

  /** Every known entry (the local one included) for push-pull `localState`. Cached. */
  encodeState(): Uint8Array {
    this.stateCache ??= encodeDirectoryState([...this.entries.values()].map((e) => e.value));
    return this.stateCache;
  }

  /**
   * Merge a push-pull state (an entry message is accepted too). Returns the number of entries
   * that changed. Never throws; a malformed state is dropped whole and counted.
   */
  mergeState(bytes: Uint8Array): number {
    const r = decodeDirectoryMessage(bytes, this.options);
    if (!r.ok) {
      this.drop(r.reason);
      return 0;
    }
    this.received++;
    return this.applyAll(r.entries);
  }

  /**
   * Remove a node's entry (the member left or was reaped). The local entry cannot be removed.
   * A forgotten entry may come back through a peer's older push-pull state; that is harmless
   * because {@link subscribersOf} asks for liveness, and a restarted node's newer version wins.
   */
  forget(node: string): boolean {
    if (node === this.localName) return false;
    const e = this.entries.get(node);
    if (e === undefined) return false;
    this.remove(e);
    this.changed(node);
    return true;
  }

  /** Forget every remote node `isAlive` rejects; returns how many were removed. */
  prune(isAlive: (node: string) => boolean): number {
    let n = 0;
    for (const node of [...this.entries.keys()]) {
      if (node !== this.localName && !isAlive(node) && this.forget(node)) n++;
    }
    return n;
  }

  /** The stored entry of `node` (frozen), the local one included. */
  entry(node: string): DirectoryEntry | undefined {
    return this.entries.get(node)?.value;
  }

  /** Names of every node with an entry, the local one included, sorted. */
  nodes(): string[] {
    return [...this.entries.keys()].sort();
  }

  /**
   * Nodes whose set matches `topic` through an exact subscription or a pattern, sorted; the
   * local node only when `includeLocal` (and then whatever `isAlive` says of it). Remote nodes
   * must pass `isAlive`. When `topic` is itself a pattern, only nodes holding that same pattern
   * string are returned (patterns are not intersected).
   */
  subscribersOf(topic: string, isAlive: (node: string) => boolean, includeLocal = false): string[] {
    return this.alive(this.subscribers.matching(topic), isAlive, includeLocal);
  }

  /**
   * Nodes that answer requests on `topic` (a responder topic or pattern matches it), sorted; the
   * local node only when `includeLocal`. Subscriptions do not count: an event-only subscriber
   * cannot answer. Otherwise as {@link subscribersOf}.
   */
  respondersOf(topic: string, isAlive: (node: string) => boolean, includeLocal = false): string[] {
    return this.alive(this.responders.matching(topic), isAlive, includeLocal);
  }

  /** `found` filtered by liveness (the local node by `includeLocal`), sorted. */
  private alive(
    found: Set<string>,
    isAlive: (node: string) => boolean,
    includeLocal: boolean,
  ): string[] {
    const out: string[] = [];
    for (const n of found) {
      if (n === this.localName ? includeLocal : isAlive(n)) out.push(n);
    }
    return out.sort();
  }

  /** Whether the local set matches the concrete `topic` (exactly or through a local pattern). */
  localMatches(topic: string): boolean {
    if (this.localSubs.has(topic)) return true;
    for (const p of this.localPatterns) if (topicMatches(p, topic)) return true;
    return false;
  }

  /** Whether the local set holds `topic` itself, not only a pattern matching it. */
  localHolds(topic: string): boolean {
    return this.localSubs.has(topic);
  }

  /** Whether `node`'s entry subscribes to the concrete `topic` (exactly or through a pattern). */
  lists(node: string, topic: string): boolean {
    return this.subscribers.matching(topic).has(node);
  }

  /**
   * Concrete (non-pattern) topics named in any entry, the local one included, sorted: what a
   * local pattern is resolved against.
   */
  knownTopics(): string[] {
    return this.subscribers.concreteTopics().sort();
  }

  /**
   * A digest of the local name and version for node meta (at most 13 bytes, under the 16
   * promised). A peer that sees a digest newer than its stored entry knows its directory is
   * stale for this node ({@link isStale}).
   */
  digest(): Uint8Array {
    this.digestCache ??= encodeDirectoryDigest(this.localName, this.version);
    return this.digestCache;
  }

  /**
   * Parse a digest at the start of a node's meta; null when the meta holds none. Bytes after
   * the digest (`length`) are ignored, so the runtime may append other fields. Never throws.
   */
  static parseDigest(meta: Uint8Array): DirectoryDigest | null {
    return decodeDirectoryDigest(meta);
  }

  /**
   * Whether `meta` (the member `node`'s meta) carries a digest of `node` with a version above
   * the one stored here: the runtime should then expect or ask for a push-pull.
   */
  isStale(node: string, meta: Uint8Array): boolean {
    const d = decodeDirectoryDigest(meta);
    if (d === null || d.nameHash !== directoryNameHash(node)) return false;
    const known =
      node === this.localName ? this.version : (this.entries.get(node)?.value.version ?? -1);
    return d.version > known;
  }

  /**
   * Call `listener` with the node's name after any change of its entry: local subscribe or
   * unsubscribe, a remote entry applied, a forget, or our own version bumped by a previous
   * life's entry (the runtime then rebroadcasts the local entry). Returns the unsubscriber.
   * A throwing listener does not disturb the directory or the other listeners; its error goes
   * to {@link onListenerError}'s handler.
   */
  onChange(listener: (node: string) => void): () => void {
    return this.listeners.add(listener);
  }

  /**
   * Where errors thrown by {@link onChange} listeners go (the runtime's logger or events).
   * Without a handler they are rethrown in a microtask, as an unhandled error.
   */
  onListenerError(handler: ((error: unknown, node: string) => void) | undefined): void {
    this.listeners.onError(handler);
  }

  /** Counters; `drops` counts rejected input by {@link DirectoryDropReason}. */
  stats(): DirectoryStats {
    return {
      entries: this.entries.size,
      bytes: this.totalBytes,
      drops: { ...this.drops },
      received: this.received,
      applied: this.applied,
      stale: this.stale,
      listenerErrors: this.listeners.errors,
    };
  }

  // -------------------------------------------------------------------------------------------

  /** {@link checkEntrySize} of the local entry with `change` applied. */
  private checkSize(version: number, change: Partial<LocalLists>, what: string): void {
    const lists: LocalLists = {
      subscriptions: change.subscriptions ?? this.localSorted,
      responders: change.responders ?? this.localResponders,
      groups: change.groups ?? this.localGroups,
    };
    checkEntrySize(this.options, this.localName, version, lists, what);
  }

  private setLocal(
    version: number,
    sorted: readonly string[],
    responders: readonly string[],
    groups: readonly GroupMembership[],
  ): void {
    this.version = version;
    this.localSorted = Object.freeze([...sorted]);
    this.localPatterns = Object.freeze(this.localSorted.filter(isPattern));
    this.localResponders = Object.freeze([...responders]);
    this.localGroups = Object.freeze([...groups]);
    this.storeLocal();
    this.changed(this.localName);
  }

  /** (Re)store the local entry from `version` and `localSorted`. */
  private storeLocal(): void {
    const old = this.entries.get(this.localName);
    if (old !== undefined) this.remove(old);
    this.insert(
      {
        node: this.localName,
        version: this.version,
        subscriptions: this.localSorted,
        responders: this.localResponders,
        groups: this.localGroups,
      },
      directoryEntryBodySize(
        this.localName,
        this.version,
        this.localSorted,
        this.localResponders,
        this.localGroups,
      ),
    );
    this.localEntryCache = undefined;
    this.digestCache = undefined;
  }

  private applyAll(entries: readonly DecodedDirectoryEntry[]): number {
    let n = 0;
    for (const e of entries) if (this.applyDecoded(e)) n++;
    return n;
  }

  private applyDecoded(e: DecodedDirectoryEntry): boolean {
    if (e.node === this.localName) return this.applyOwn(e);
    const old = this.entries.get(e.node);
    if (old !== undefined && e.version <= old.value.version) {
      this.stale++;
      return false;
    }
    const { maxEntries, maxTotalBytes } = this.options;
    const freed = old?.bodyBytes ?? 0;
    if (
      (old === undefined && this.entries.size >= maxEntries) ||
      this.totalBytes - freed + e.bodyBytes > maxTotalBytes
    ) {
      this.drop('directory-full');
      return false;
    }
    if (old !== undefined) this.remove(old);
    this.insert(
      {
        node: e.node,
        version: e.version,
        subscriptions: Object.freeze(e.subscriptions as string[]),
        responders: Object.freeze(e.responders as string[]),
        groups: Object.freeze(e.groups as GroupMembership[]),
      },
      e.bodyBytes,
    );
    this.applied++;
    this.changed(e.node);
    return true;
  }

  /**
   * Our own entry from the network. Higher, or equal with another set, means a previous life
   * (or a forger) got there first: jump above it so every peer replaces it with ours.
   */
  private applyOwn(e: DecodedDirectoryEntry): boolean {
    const newer =
      e.version > this.version ||
      (e.version === this.version &&
        (!sameList(e.subscriptions, this.localSorted) ||
          !sameList(e.responders, this.localResponders) ||
          !sameGroups(e.groups, this.localGroups)));
    if (!newer) {
      this.stale++;
      return false;
    }
    if (e.version + 1 > Number.MAX_SAFE_INTEGER) {
      this.drop('version-exhausted');
      return false;
    }
    this.version = e.version + 1;
    this.storeLocal();
    this.applied++;
    this.changed(this.localName);
    return true;
  }

  private insert(e: DirectoryEntry, bodyBytes: number): void {
    this.entries.set(e.node, { value: Object.freeze(e), bodyBytes });
    this.totalBytes += bodyBytes;
    for (const s of e.subscriptions) this.subscribers.add(s, e.node);
    for (const s of e.responders) this.responders.add(s, e.node);
    this.groupIndex.add(e.node, e.groups);
  }

  private remove(stored: StoredEntry): void {
    const e = stored.value;
    this.entries.delete(e.node);
    this.totalBytes -= stored.bodyBytes;
    for (const s of e.subscriptions) this.subscribers.remove(s, e.node);
    for (const s of e.responders) this.responders.remove(s, e.node);
    this.groupIndex.remove(e.node, e.groups);
  }

  private changed(node: string): void {
    this.stateCache = undefined;
    this.listeners.notify(node);
  }

  private drop(reason: DirectoryDropReason): void {
    this.drops[reason] = (this.drops[reason] ?? 0) + 1;
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
