/**
 * Typed errors of the node store, one concern each. Every one names the store directory, so a
 * log line tells the operator which `dataDir` to look at (docs/persistence.md, "Recovery procedures").
 */

/** Any failure of the node store; `dir` is the store directory. */
export class StoreError extends Error {
  override readonly name: string = 'StoreError';
  /** The store directory. */
  readonly dir: string;
  constructor(dir: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.dir = dir;
  }
}

/** Another process, or another `NodeStore` of this process, holds the store directory. */
export class StoreLockedError extends StoreError {
  override readonly name: string = 'StoreLockedError';
  constructor(dir: string, options?: { cause?: unknown }) {
    super(
      dir,
      `store ${dir} is locked: another process (or another NodeStore in this process) has it ` +
        'open. There is one store per node: give each node its own dataDir, or stop the node ' +
        'that holds it.',
      options,
    );
  }
}

/** LevelDB found the store's files damaged or missing; the message says how to reset it. */
export class StoreCorruptError extends StoreError {
  override readonly name: string = 'StoreCorruptError';
  constructor(dir: string, detail: string, options?: { cause?: unknown }) {
    super(
      dir,
      `store ${dir} is corrupt (${detail}). To recover, stop the node and run ` +
        '`plumtree store repair DIR` or `NodeStore.repair(dir)` (LevelDB repair: keeps what it ' +
        'can read), or reset it by deleting the directory (`plumtree store reset DIR`, ' +
        '`NodeStore.destroy(dir)` or `rm -rf`): the node then rejoins through its seeds and ' +
        'catches durable topics up from peers. See docs/persistence.md.',
      options,
    );
  }
}
