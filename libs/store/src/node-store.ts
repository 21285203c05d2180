/**
 * The per-node store: one LevelDB (classic-level) directory holding the node's known peers, its
 * own incarnation, its subscriptions and its durable topic logs. Key layout: store-keys.ts;
 * value layout: value-codec.ts; topic logs: topic-log.ts. One store per node: LevelDB's LOCK file
 * refuses a second process, and a registry of open directories refuses a second `NodeStore` of
 * the same directory in this process. Operator procedures: docs/persistence.md.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { StoreCorruptError, StoreError, StoreLockedError } from './store-errors.js';
import {
  INCARNATION_KEY,
  PEER_RANGE,
  SUBSCRIPTIONS_KEY,
  parsePeerKey,
  peerKey,
} from './store-keys.js';
import {
  TopicLog,
  validateTopicLogOptions,
  type StoreDb,
  type TopicLogOptions,
} from './topic-log.js';
import {
  decodeIncarnation,
  decodePeerValue,
  decodeSubscriptions,
  encodeIncarnation,
  encodePeerValue,
  encodeSubscriptions,
} from './value-codec.js';

/** A known peer as persisted. */
export interface StoredPeer {
  readonly name: string;
  /** `host:port`. */
  readonly address: string;
  readonly lastSeenAliveMs: number;
}

/** Options of {@link NodeStore.open}. */
export interface NodeStoreOptions {
  /** Local clock for retention (append times) and peer age; `Date.now` by default. Tests inject one. */
  readonly clock?: () => number;
}

/** Directories open in this process (resolved paths): LevelDB's lock is per process. */
const openDirs = new Set<string>();

/** The LevelDB error code behind an open failure (classic-level wraps it in `cause`). */
function levelCode(e: unknown): string | undefined {
  const cause = (e as { cause?: { code?: unknown } } | null)?.cause;
  const code = cause?.code ?? (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The most specific message of an error (duck-typed: LevelDB's native errors come from another realm under jest). */
function levelMessage(e: unknown): string {
  const m = (x: unknown): string | undefined => {
    const v = (x as { message?: unknown } | null)?.message;
    return typeof v === 'string' ? v : undefined;
  };
  return m((e as { cause?: unknown } | null)?.cause) ?? m(e) ?? String(e);
}

/**
 * Maps an open failure to a typed error. LevelDB reports a damaged CURRENT or a missing MANIFEST
 * of an existing store as an IO error ("No such file or directory"), not as corruption, so an IO
 * error about a missing file in a directory that holds a CURRENT file counts as corrupt too.
 */
function openError(dir: string, e: unknown): StoreError {
  const code = levelCode(e);
  const msg = levelMessage(e);
  if (code === 'LEVEL_LOCKED') return new StoreLockedError(dir, { cause: e });
  if (code === 'LEVEL_CORRUPTION') return new StoreCorruptError(dir, msg, { cause: e });
  if (
    code === 'LEVEL_IO_ERROR' &&
    existsSync(resolve(dir, 'CURRENT')) &&
    /no such file|corrupt/i.test(msg)
  ) {
    return new StoreCorruptError(dir, msg, { cause: e });
  }
  return new StoreError(dir, `store ${dir} could not be opened: ${msg}`, { cause: e });
}

/** The per-node store (see the file header). */
export class NodeStore {
  /** The store directory as given to {@link NodeStore.open}. */
  readonly dir: string;
  private readonly logs = new Map<string, Promise<TopicLog>>();
  private closing: Promise<void> | undefined;

  private constructor(
    dir: string,
    private readonly resolvedDir: string,
    private readonly db: StoreDb,
    private readonly clock: () => number,
  ) {
    this.dir = dir;
  }

  /**
   * Opens (creating it and its parents if needed) the store in `dir`. Rejects with
   * {@link StoreLockedError} when another process or another NodeStore of this process holds it,
   * {@link StoreCorruptError} when LevelDB finds it damaged, {@link StoreError} otherwise.
   */
  static async open(dir: string, options: NodeStoreOptions = {}): Promise<NodeStore> {
    const resolvedDir = resolve(dir);
    if (openDirs.has(resolvedDir)) throw new StoreLockedError(dir);
    openDirs.add(resolvedDir);
    try {
      try {
        await mkdir(resolvedDir, { recursive: true });
      } catch (e) {
        throw new StoreError(dir, `store ${dir} could not be created: ${levelMessage(e)}`, {
          cause: e,
        });
      }
      const db: StoreDb = new ClassicLevel<string, Uint8Array>(resolvedDir, {
        keyEncoding: 'utf8',
        valueEncoding: 'view',
      });
      try {
        await db.open();
      } catch (e) {
        throw openError(dir, e);
      }
      return new NodeStore(dir, resolvedDir, db, options.clock ?? Date.now);
    } catch (e) {
      openDirs.delete(resolvedDir);
      throw e;
    }
  }

  /** LevelDB repair of a store that is not open (keeps what it can read). */
  static async repair(dir: string): Promise<void> {
    if (openDirs.has(resolve(dir))) throw new StoreLockedError(dir);
    try {
      await ClassicLevel.repair(resolve(dir));
    } catch (e) {
      if (levelCode(e) === 'LEVEL_LOCKED') throw new StoreLockedError(dir, { cause: e });
      throw new StoreError(dir, `repair of store ${dir} failed: ${levelMessage(e)}`, { cause: e });
    }
  }

  /** Deletes a store directory and everything in it; refuses a store that is open anywhere. */
  static async destroy(dir: string): Promise<void> {
    const resolvedDir = resolve(dir);
    if (openDirs.has(resolvedDir)) throw new StoreLockedError(dir);
    if (existsSync(resolve(resolvedDir, 'LOCK'))) {
      // Probe LevelDB's lock: only a lock failure stops us; a damaged store is deleted anyway.
      const probe = new ClassicLevel(resolvedDir, { createIfMissing: false });
      try {
        await probe.open();
        await probe.close();
      } catch (e) {
        if (levelCode(e) === 'LEVEL_LOCKED') throw new StoreLockedError(dir, { cause: e });
      }
    }
    await rm(resolvedDir, { recursive: true, force: true });
  }

  /** Known peers, most recently seen alive first (ties by name). Undecodable entries are skipped. */
  async loadPeers(): Promise<StoredPeer[]> {
    this.assertOpen();
    const out: StoredPeer[] = [];
    for await (const [key, value] of this.db.iterator(PEER_RANGE)) {
      const name = parsePeerKey(key);
      const v = decodePeerValue(value);
      if (name !== null && v !== null) out.push({ name, ...v });
    }
    return out.sort(
      (a, b) =>
        b.lastSeenAliveMs - a.lastSeenAliveMs || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    );
  }

  /**
   * Upserts peers in one batch. Per name the entry with the highest lastSeenAliveMs wins (stored
   * or given), so a stale snapshot never rolls a peer back.
   */
  async savePeers(peers: readonly StoredPeer[]): Promise<void> {
    this.assertOpen();
    const best = new Map<string, StoredPeer>();
    for (const p of peers) {
      const b = best.get(p.name);
      if (b === undefined || p.lastSeenAliveMs > b.lastSeenAliveMs) best.set(p.name, p);
    }
    if (best.size === 0) return;
    const names = [...best.keys()];
    const stored = await this.db.getMany(names.map(peerKey));
    const ops: { type: 'put'; key: string; value: Uint8Array }[] = [];
    names.forEach((name, i) => {
      const p = best.get(name)!;
      const raw = stored[i];
      const old = raw === undefined ? null : decodePeerValue(raw);
      if (old !== null && old.lastSeenAliveMs >= p.lastSeenAliveMs) return;
      ops.push({
        type: 'put',
        key: peerKey(name),
        value: encodePeerValue(p.address, p.lastSeenAliveMs),
      });
    });
    if (ops.length > 0) await this.write(ops);
  }

  /**
   * Deletes the peers not seen alive for more than `ms` (an age: last seen before
   * `clock() - ms`, e.g. `forgetPeersOlderThan(7 * 86_400_000)`), and undecodable peer entries;
   * resolves to how many.
   */
  async forgetPeersOlderThan(ms: number): Promise<number> {
    this.assertOpen();
    const cutoff = this.clock() - ms;
    const ops: { type: 'del'; key: string }[] = [];
    for await (const [key, value] of this.db.iterator(PEER_RANGE)) {
      const v = decodePeerValue(value);
      if (v === null || v.lastSeenAliveMs < cutoff) ops.push({ type: 'del', key });
    }
    if (ops.length > 0) await this.write(ops);
    return ops.length;
  }

  /** The stored incarnation; 0 when none (or undecodable). */
  async loadIncarnation(): Promise<number> {
    this.assertOpen();
    const raw = await this.db.get(INCARNATION_KEY);
    return raw === undefined ? 0 : (decodeIncarnation(raw) ?? 0);
  }

  /** Stores `n` unless the stored incarnation is higher (it never goes down). */
  async saveIncarnation(n: number): Promise<void> {
    this.assertOpen();
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new RangeError(`incarnation must be a safe integer >= 0, got ${String(n)}`);
    }
    if (n <= (await this.loadIncarnation())) return;
    await this.write([{ type: 'put', key: INCARNATION_KEY, value: encodeIncarnation(n) }]);
  }

  /** The stored topics and patterns; empty when none. */
  async loadSubscriptions(): Promise<string[]> {
    this.assertOpen();
    const raw = await this.db.get(SUBSCRIPTIONS_KEY);
    return raw === undefined ? [] : (decodeSubscriptions(raw) ?? []);
  }

  /** Replaces the stored topics and patterns. */
  async saveSubscriptions(topicsOrPatterns: readonly string[]): Promise<void> {
    this.assertOpen();
    await this.write([
      { type: 'put', key: SUBSCRIPTIONS_KEY, value: encodeSubscriptions(topicsOrPatterns) },
    ]);
  }

  /**
   * The durable log of `topic`, its index rebuilt from disk on first open. A second open of the
   * same topic returns the same object (with the options of the first open).
   */
  async openTopicLog(topic: string, options: TopicLogOptions): Promise<TopicLog> {
    this.assertOpen();
    validateTopicLogOptions(options);
    let log = this.logs.get(topic);
    if (log === undefined) {
      log = TopicLog.load(this.db, this.dir, topic, options, this.clock);
      this.logs.set(topic, log);
      log.catch(() => this.logs.delete(topic));
    }
    return await log;
  }

  /** Waits for pending log writes, closes the logs and LevelDB. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const p of this.logs.values()) {
        const log = await p.catch(() => undefined);
        await log?.closeLog();
      }
      try {
        await this.db.close();
      } finally {
        openDirs.delete(this.resolvedDir);
      }
    })();
    return this.closing;
  }

  private assertOpen(): void {
    if (this.closing !== undefined) throw new StoreError(this.dir, `store ${this.dir} is closed`);
  }

  private async write(
    ops: ({ type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string })[],
  ): Promise<void> {
    try {
      await this.db.batch(ops);
    } catch (e) {
      throw new StoreError(this.dir, `write to store ${this.dir} failed: ${levelMessage(e)}`, {
        cause: e,
      });
    }
  }
}
