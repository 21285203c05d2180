/**
 * What a node keeps across restarts, bound to its SWIM node: known peers, its own incarnation and
 * its subscriptions in the node's LevelDB store (libs/store), and the durable topics' logs.
 *
 * - Peers are saved once the join is done (before `start` resolves), then when membership
 *   changes, debounced ({@link PEER_SAVE_DEBOUNCE_MS}), and once more on close. Only alive members are written (with the time they were seen alive), so a
 *   peer keeps the last time it was known good; peers unseen for {@link PEER_FORGET_MS} are
 *   dropped at start.
 * - The incarnation is saved whenever it changes (a refutation or a meta update raises it), with
 *   the same debounce and on close; at start the node continues above the stored value, so a
 *   stale `dead` or `suspect` about its previous life is refuted at once.
 * - At start the node joins its explicit seeds, its static seeds, and the stored peers, most
 *   recently seen first ({@link MAX_STORED_JOIN_PEERS} of them).
 *
 * With `persistence: false` there is no store: nothing is saved and durable logs are in memory.
 */
import type { Subscription } from 'rxjs';
import { NodeStore, type StoredPeer } from '@plumtree/store';
import type { SwimNode } from '@plumtree/swim';
import { MemoryDurableLog, type DurableLog } from '../durable/index.js';
import { canonicalAddress } from '../lazarus/seed-address.js';

/** Membership changes within this window are saved together. */
export const PEER_SAVE_DEBOUNCE_MS = 1_000;
/** Stored peers not seen alive for this long are forgotten at start (7 days). */
export const PEER_FORGET_MS = 7 * 24 * 60 * 60 * 1000;
/** Stored peers tried at start, most recently seen first. */
export const MAX_STORED_JOIN_PEERS = 16;

/** Counters of the persistence layer. */
export interface PersistenceStats {
  /** The store directory, or null without persistence. */
  readonly dataDir: string | null;
  /** Incarnation read from the store at start (0: none). */
  readonly storedIncarnation: number;
  /** Peers read from the store at start. */
  readonly storedPeers: number;
  /** Peer saves written. */
  readonly peerSaves: number;
  /** Writes that failed (the node keeps running; see the logs of the error). */
  readonly saveErrors: number;
  /** The last save error's message. */
  readonly lastSaveError: string | undefined;
}

/** See the file header. */
export class NodePersistence {
  private swim: SwimNode | undefined;
  private membersSub: Subscription | undefined;
  private saveTimer: NodeJS.Timeout | undefined;
  private savedIncarnation: number;
  private peerSaves = 0;
  private saveErrors = 0;
  private lastSaveError: string | undefined;
  private saving: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly store: NodeStore | null,
    /** The incarnation of the node's previous life (0 when none). */
    readonly storedIncarnation: number,
    /** Known peers from the store, most recently seen alive first. */
    readonly storedPeers: readonly StoredPeer[],
    private readonly durableDefaults: { retentionMs: number; maxMessages: number },
  ) {
    this.savedIncarnation = storedIncarnation;
  }

  /**
   * Opens the store in `dataDir` (null: no persistence) and reads what the previous life left.
   * Rejects with the store's `StoreLockedError`, `StoreCorruptError` or `StoreError`.
   */
  static async open(
    dataDir: string | null,
    durableDefaults: { retentionMs: number; maxMessages: number },
  ): Promise<NodePersistence> {
    if (dataDir === null) return new NodePersistence(null, 0, [], durableDefaults);
    const store = await NodeStore.open(dataDir);
    try {
      await store.forgetPeersOlderThan(PEER_FORGET_MS);
      const incarnation = await store.loadIncarnation();
      const peers = await store.loadPeers();
      return new NodePersistence(store, incarnation, peers, durableDefaults);
    } catch (e) {
      await store.close();
      throw e;
    }
  }

  /** The store directory, or null. */
  get dataDir(): string | null {
    return this.store?.dir ?? null;
  }

  /**
   * The addresses to join at start: `seeds`, then `staticSeeds`, then stored peers (most recently
   * seen first, at most {@link MAX_STORED_JOIN_PEERS}), without duplicates and without
   * `selfAddress`.
   */
  joinCandidates(
    seeds: readonly string[],
    staticSeeds: readonly string[],
    selfAddress: string,
  ): string[] {
    const self = canonicalAddress(selfAddress);
    const out: string[] = [];
    const seen = new Set<string>([self]);
    const add = (a: string): void => {
      const key = canonicalAddress(a);
      if (seen.has(key)) return;
      seen.add(key);
      out.push(a);
    };
    for (const s of seeds) add(s);
    for (const s of staticSeeds) add(s);
    for (const p of this.storedPeers.slice(0, MAX_STORED_JOIN_PEERS)) add(p.address);
    return out;
  }

  /**
   * Starts saving membership and incarnation changes of `swim`; resolves once the members known
   * now (those of the join) and the incarnation are written, so a node killed right after its
   * `start` resolved restarts into its cluster (its peers are stored), not alone.
   */
  attach(swim: SwimNode): Promise<void> {
    this.swim = swim;
    if (this.store === null) return Promise.resolve();
    // The new incarnation at once: a crash right after start must not reuse it in the next life.
    this.enqueue(() => this.savePeersNow());
    this.membersSub = swim.members$.subscribe({ next: () => this.scheduleSave() });
    return this.saving;
  }

  /**
   * Saves the alive members and the incarnation now (after a join made later than `attach`);
   * resolves once written, so a node killed right after restarts into its cluster.
   */
  savePeers(): Promise<void> {
    this.enqueue(() => this.savePeersNow());
    return this.saving;
  }

  /** Saves the subscription set (topics and patterns). */
  saveSubscriptions(topicsOrPatterns: readonly string[]): void {
    const store = this.store;
    if (store === null || this.closed) return;
    this.enqueue(() => store.saveSubscriptions(topicsOrPatterns));
  }

  /** The log of a durable topic: the store's, or an in-memory one without persistence. */
  async openLog(
    topic: string,
    options: { retentionMs?: number; maxMessages?: number } = {},
  ): Promise<DurableLog> {
    const retentionMs = options.retentionMs ?? this.durableDefaults.retentionMs;
    const maxMessages = options.maxMessages ?? this.durableDefaults.maxMessages;
    if (this.store === null) return new MemoryDurableLog(topic, { maxMessages });
    return this.store.openTopicLog(topic, { retentionMs, maxMessages });
  }

  /** The counters. */
  stats(): PersistenceStats {
    return {
      dataDir: this.dataDir,
      storedIncarnation: this.storedIncarnation,
      storedPeers: this.storedPeers.length,
      peerSaves: this.peerSaves,
      saveErrors: this.saveErrors,
      lastSaveError: this.lastSaveError,
    };
  }

  /** Writes what changed one last time and closes the store. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.membersSub?.unsubscribe();
    if (this.saveTimer !== undefined) clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    if (this.store !== null && this.swim !== undefined) this.enqueue(() => this.savePeersNow());
    this.closed = true;
    await this.saving;
    await this.store?.close();
  }

  private scheduleSave(): void {
    if (this.saveTimer !== undefined || this.closed) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      this.enqueue(() => this.savePeersNow());
    }, PEER_SAVE_DEBOUNCE_MS);
    this.saveTimer.unref();
  }

  private async savePeersNow(): Promise<void> {
    const swim = this.swim;
    const store = this.store;
    if (swim === undefined || store === null) return;
    const now = Date.now();
    const self = swim.localMember;
    const peers: StoredPeer[] = [];
    for (const m of swim.members()) {
      if (m.name === self.name || m.state !== 'alive') continue;
      peers.push({ name: m.name, address: m.address, lastSeenAliveMs: now });
    }
    if (peers.length > 0) {
      await store.savePeers(peers);
      this.peerSaves++;
    }
    if (self.incarnation > this.savedIncarnation) {
      await store.saveIncarnation(self.incarnation);
      this.savedIncarnation = self.incarnation;
    }
  }

  /** Runs writes one after another; a failure is counted, never thrown at the node. */
  private enqueue(write: () => Promise<void>): void {
    if (this.closed) return;
    this.saving = this.saving.then(write).catch((e: unknown) => {
      this.saveErrors++;
      this.lastSaveError = (e as Error).message;
    });
  }
}
