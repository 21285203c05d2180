/**
 * Issue 17 acceptance, as a new user would do it: `npm pack` every package, install the tarballs
 * into a fresh app in a temporary folder outside the repository (Nest and its peers from the npm
 * registry), typecheck it with `strict`, and run it: two Nest microservices on loopback with
 * `PlumtreeModule`, `@PlumtreeSubscribe` and `PlumtreeClient`, a message each way, a
 * request/reply, one copy of Nest (and of each peer) per process, then a graceful shutdown, all
 * without `@nestjs/terminus` installed (an optional peer); then, with terminus installed, the
 * health indicator from the subpath `@plumtree/nestjs/health` (test/consumer/app/health). The
 * app is test/consumer/app; the commands are the README's Install section. Needs the registry:
 * `npm run test:consumer` (.ci/run), not `npm test`.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { buildDist, repoRoot } from '../support/build-dist.js';
import { waitFor } from '../support/wait-for.js';
import { PEERS } from './app/src/nest-copies.js';

jest.setTimeout(120_000);

interface PackResult {
  readonly name: string;
  readonly filename: string;
  readonly files: ReadonlyArray<{ readonly path: string }>;
}

/** The environment of a user's shell: none of the `npm_*` variables of the `npm test` around us. */
function userEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
}

/** Runs a command; throws with its output when it fails. */
function sh(cwd: string, command: string, args: readonly string[], timeoutMs = 300_000): string {
  try {
    return execFileSync(command, args, {
      cwd,
      env: userEnv(),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
    });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    throw new Error(
      `${command} ${args.join(' ')} failed:\n${err.stdout ?? ''}${err.stderr ?? ''}`,
      {
        cause: e,
      },
    );
  }
}

/** Every installed copy of `pkg` under `dir` (nested node_modules included). */
function installedCopies(dir: string, pkg: string): string[] {
  const found: string[] = [];
  const walk = (modules: string): void => {
    if (!existsSync(modules)) return;
    if (existsSync(join(modules, pkg, 'package.json'))) found.push(join(modules, pkg));
    for (const entry of readdirSync(modules)) {
      const scoped = entry.startsWith('@') ? readdirSync(join(modules, entry)) : [''];
      for (const name of scoped) walk(join(modules, entry, name, 'node_modules'));
    }
  };
  walk(join(dir, 'node_modules'));
  return found;
}

interface App {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly lines: Array<Record<string, unknown>>;
  readonly exit: Promise<unknown>;
}

describe('a Nest app outside the repository, installed from the packed packages', () => {
  const work = mkdtempSync(join(tmpdir(), 'plumtree-consumer-'));
  const tarballs = join(work, 'tarballs');
  const appDir = join(work, 'app');
  const apps: App[] = [];
  let packed: PackResult[] = [];

  beforeAll(() => {
    buildDist();
    mkdirSync(tarballs);
    packed = JSON.parse(
      sh(repoRoot, 'npm', ['pack', '--workspaces', '--json', '--pack-destination', tarballs]),
    ) as PackResult[];
  }, 600_000);

  afterAll(async () => {
    for (const a of apps) if (a.proc.exitCode === null) a.proc.kill('SIGKILL');
    await Promise.all(apps.map((a) => a.exit));
    rmSync(work, { recursive: true, force: true });
  });

  it('packs every package with only dist/, package.json, README.md and LICENSE', () => {
    expect(packed.map((p) => p.name).sort()).toEqual([
      '@plumtree/cli',
      '@plumtree/cluster',
      '@plumtree/common',
      '@plumtree/local-cluster',
      '@plumtree/nestjs',
      '@plumtree/plumtree',
      '@plumtree/sim',
      '@plumtree/store',
      '@plumtree/swim',
      '@plumtree/testing',
    ]);
    for (const p of packed) {
      const paths = p.files.map((f) => f.path);
      const stray = paths.filter(
        (f) =>
          !/^(dist\/.+\.(js|d\.ts|js\.map|d\.ts\.map)|package\.json|README\.md|LICENSE)$/.test(f),
      );
      expect({ name: p.name, stray }).toEqual({ name: p.name, stray: [] });
      expect(paths).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE']));
      const entry = p.name === '@plumtree/cli' ? 'dist/main.js' : 'dist/index.js';
      expect(paths).toContain(entry);
    }
  });

  it('installs with Nest from the registry and typechecks with strict', () => {
    cpSync(join(repoRoot, 'test/consumer/app'), appDir, {
      recursive: true,
      filter: (src) => !/[/\\](dist|node_modules)$/.test(src),
    });
    // The README's Install section, command for command.
    sh(appDir, 'npm', ['init', '-y']);
    sh(appDir, 'npm', ['pkg', 'set', 'type=module']);
    const tgz = packed.map((p) => join(tarballs, p.filename));
    sh(appDir, 'npm', ['install', '--no-audit', '--no-fund', ...tgz, ...PEERS]);
    sh(appDir, 'npm', [
      'install',
      '--no-audit',
      '--no-fund',
      '-D',
      'typescript@~6.0.3',
      '@types/node@20',
    ]);
    sh(appDir, 'npx', ['tsc', '-p', '.']);
    // One installed copy of Nest and of each peer: @plumtree/* take them as peers.
    for (const peer of PEERS) {
      expect({ peer, copies: installedCopies(appDir, peer).length }).toEqual({ peer, copies: 1 });
    }
    // Terminus is an optional peer (the health indicator is `@plumtree/nestjs/health`): no
    // package pulls it in, and the app below imports `@plumtree/nestjs` and runs without it.
    expect(installedCopies(appDir, '@nestjs/terminus')).toEqual([]);
  }, 600_000);

  /** Starts the app as `node dist/main.js ...args`. */
  function start(name: string, args: string[]): App {
    const proc = spawn(process.execPath, ['dist/main.js', name, '0', ...args], {
      cwd: appDir,
      env: userEnv(),
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const app: App = {
      name,
      proc,
      lines: [],
      exit: new Promise((r) => proc.once('exit', r)),
    };
    createInterface({ input: proc.stdout! }).on('line', (l) => {
      app.lines.push(JSON.parse(l) as Record<string, unknown>);
    });
    apps.push(app);
    return app;
  }

  const line = (app: App, event: string, key?: string, value?: unknown) =>
    app.lines.find((l) => l['event'] === event && (key === undefined || l[key] === value));

  it('runs two microservices: a message each way, a request/reply, one Nest, a graceful leave', async () => {
    const a = start('a', []);
    await waitFor('a ready', () => line(a, 'ready') !== undefined, { timeoutMs: 30_000 });
    const b = start('b', [String(line(a, 'ready')!['addr']), '--answers']);
    await waitFor('b ready', () => line(b, 'ready') !== undefined, { timeoutMs: 30_000 });

    // One copy per process: the app and every @plumtree package resolve each peer to one file.
    for (const app of [a, b]) {
      const copies = line(app, 'ready')!['copies'] as Record<string, string[]>;
      for (const peer of PEERS) expect({ peer, n: copies[peer]!.length }).toEqual({ peer, n: 1 });
    }

    a.proc.stdin!.write('greet hello from a\n');
    b.proc.stdin!.write('greet hello from b\n');
    await waitFor(
      'each app receives the other one greeting',
      () =>
        line(b, 'greeting', 'origin', 'a') !== undefined &&
        line(a, 'greeting', 'origin', 'b') !== undefined,
      { timeoutMs: 15_000 },
    );
    expect(line(b, 'greeting', 'origin', 'a')!['text']).toBe('hello from a');
    expect(line(a, 'greeting', 'origin', 'b')!['text']).toBe('hello from b');

    // Only b answers math.sum: the request crosses to b and the reply comes back.
    a.proc.stdin!.write('sum 1 2 3\n');
    await waitFor('a gets the reply', () => (line(a, 'reply') ?? line(a, 'error')) !== undefined, {
      timeoutMs: 15_000,
    });
    expect(line(a, 'error')).toBeUndefined();
    expect(line(a, 'reply')).toEqual({ event: 'reply', sum: 6, topic: 'math.sum' });

    a.proc.kill('SIGTERM');
    await waitFor('b sees a leave', () => line(b, 'left', 'node', 'a') !== undefined, {
      timeoutMs: 15_000,
    });
    await a.exit;
    expect(line(b, 'failed', 'node', 'a')).toBeUndefined();
    b.proc.kill('SIGTERM');
    await b.exit;
  });

  it('serves the health indicator from @plumtree/nestjs/health once the app installs terminus', () => {
    sh(appDir, 'npm', ['install', '--no-audit', '--no-fund', '@nestjs/terminus@12']);
    const health = join(appDir, 'health');
    sh(health, 'npx', ['tsc', '-p', '.']);
    const result = JSON.parse(sh(health, process.execPath, ['dist/main.js'], 60_000)) as Record<
      string,
      Record<string, unknown>
    >;
    expect(result['plumtree']).toMatchObject({ status: 'up', node: 'health', members: 1 });
    for (const peer of PEERS) {
      expect({ peer, copies: installedCopies(appDir, peer).length }).toEqual({ peer, copies: 1 });
    }
  }, 300_000);
});
