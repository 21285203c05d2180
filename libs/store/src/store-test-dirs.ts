/**
 * Temporary store directories for the specs: one per test under os.tmpdir(), removed afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Creates temp dirs on demand and removes every one of them in {@link TempDirs.cleanup}. */
export class TempDirs {
  private readonly dirs: string[] = [];
  /** A fresh empty directory; `sub` names a not-yet-existing child inside it. */
  make(sub?: string): string {
    const d = mkdtempSync(join(tmpdir(), 'plumtree-store-'));
    this.dirs.push(d);
    return sub === undefined ? d : join(d, sub);
  }
  /** Removes every directory made so far. */
  cleanup(): void {
    for (const d of this.dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  }
}
