/**
 * Builds `dist/` the way `npm run build` does (tsc, then tsc-alias), for the suites that spawn
 * `dist/` processes. A failure of either step fails the caller: a suite must never run against a
 * `dist/` left over from an earlier build. The e2e project's globalSetup builds once per jest run
 * and says so in `PLUMTREE_E2E_DIST_BUILT` (inherited by the workers); several suites run in
 * parallel, and one rebuilding `dist/` while another starts processes from it breaks the second.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Repository root (this file is test/support/). */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Set by {@link buildDist} once `dist/` is built for this run. */
const BUILT_ENV = 'PLUMTREE_E2E_DIST_BUILT';

/** Runs `npx <args>` at the root; throws with the tool's output when it fails. */
function npx(args: readonly string[], timeoutMs: number): void {
  try {
    execFileSync('npx', args, {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
      timeout: timeoutMs,
    });
  } catch (e) {
    const err = e as {
      status?: number | null;
      signal?: string | null;
      stdout?: string;
      stderr?: string;
    };
    throw new Error(
      `building dist/: \`npx ${args.join(' ')}\` failed (${String(err.status ?? err.signal)}):\n` +
        `${err.stdout ?? ''}${err.stderr ?? ''}`,
      { cause: e },
    );
  }
}

/** Builds `dist/` unless this run built it already; throws when the build fails. */
export function buildDist(): void {
  if (process.env[BUILT_ENV] === '1') return;
  npx(['tsc', '-p', 'tsconfig.build.json'], 600_000);
  npx(['tsc-alias', '-p', 'tsconfig.build.json'], 120_000);
  process.env[BUILT_ENV] = '1';
}

/**
 * The e2e project's jest globalSetup (`jest.config.js`): builds `dist/` once before any suite
 * starts. It imports nothing but Node built-ins: jest loads it without the test module mapper.
 */
export default function globalSetup(): void {
  buildDist();
}
