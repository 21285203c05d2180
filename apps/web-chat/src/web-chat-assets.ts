/**
 * Where the page's files are: `apps/web-chat/public` (plain HTML, CSS and ES modules, no build
 * step) and the graph library, cytoscape's ES module build, served from node_modules.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The `public` directory, found upwards from this file: the same from the sources
 * (apps/web-chat/src) and from the build (dist/apps/web-chat/src).
 */
export function publicDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'apps', 'web-chat', 'public');
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    const up = resolve(dir, '..');
    if (up === dir)
      throw new Error('apps/web-chat/public not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

/** The directory of cytoscape's builds (`cytoscape.esm.min.mjs` is the one the page imports). */
export function cytoscapeDir(): string {
  return dirname(createRequire(import.meta.url).resolve('cytoscape'));
}
