/* global URL */
// Jest globalSetup of the e2e project: builds dist/ (tsc + tsc-alias, like `npm run build`) once,
// before any suite starts, and tells the suites so (PLUMTREE_E2E_DIST_BUILT, inherited by the
// workers). Suites that spawn `dist/` processes then skip their own build: several suites run in
// parallel, and one rebuilding dist/ while another starts processes from it breaks the second.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

export default function globalSetup() {
  try {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
      timeout: 600_000,
    });
  } catch {
    // tsc still emits when another part of the workspace has type errors; typecheck reports them.
  }
  execFileSync('npx', ['tsc-alias', '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
    timeout: 120_000,
  });
  process.env.PLUMTREE_E2E_DIST_BUILT = '1';
}
