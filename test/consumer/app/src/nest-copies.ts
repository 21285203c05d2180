// Where this process loads Nest and its peers from, as the app finds them and as each @plumtree
// package does (Node looks for `node_modules/<name>` from the importing file upwards): one
// directory per package means one copy in the process.
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Nest and the peers an app installs beside @plumtree/nestjs (the README's Install line). */
export const PEERS = [
  '@nestjs/common',
  '@nestjs/core',
  '@nestjs/microservices',
  'rxjs',
  'reflect-metadata',
  'class-validator',
  'class-transformer',
];
const PLUMTREE = ['@plumtree/nestjs', '@plumtree/cluster', '@plumtree/swim', '@plumtree/common'];

/** The package directory `name` resolves to from `file`, or undefined. */
function packageDir(file: string, name: string): string | undefined {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    if (dirname(dir) === dir) return undefined;
  }
}

/** For each peer, the distinct directories it resolves to from the app and each package. */
export function nestCopies(): Record<string, string[]> {
  const from = [import.meta.url, ...PLUMTREE.map((p) => import.meta.resolve(p))].map((url) =>
    realpathSync(fileURLToPath(url)),
  );
  const copies: Record<string, string[]> = {};
  for (const peer of PEERS) {
    const found = new Set(from.map((file) => packageDir(file, peer)));
    found.delete(undefined);
    copies[peer] = [...found] as string[];
  }
  return copies;
}
