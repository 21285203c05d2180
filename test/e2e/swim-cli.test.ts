/**
 * The `plumtree agent` CLI as three child processes on 127.0.0.1 (ephemeral ports): JSON join
 * lines, `/members` and `/health`, `plumtree members`, a graceful leave on SIGTERM seen as `leave`
 * by the others, exit code 0, and exit code 2 for invalid flags. Runs dist/ (built by the e2e
 * project's globalSetup, test/support/build-dist.ts).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { buildDist, repoRoot } from '../support/build-dist.js';
import { waitFor } from '../support/wait-for.js';

const MAIN = join(repoRoot, 'dist/apps/cli/src/main.js');

jest.setTimeout(120_000);

interface Agent {
  readonly proc: ChildProcess;
  readonly lines: Array<Record<string, unknown>>;
  readonly exit: Promise<number | null>;
}

function spawnAgent(args: string[]): Agent {
  const proc = spawn(process.execPath, [MAIN, 'agent', ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  createInterface({ input: proc.stdout! }).on('line', (l) => {
    lines.push(JSON.parse(l) as Record<string, unknown>);
  });
  proc.stderr!.on('data', (d: Buffer) => process.stderr.write(d));
  const exit = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return { proc, lines, exit };
}

function has(a: Agent, event: string, node: string): boolean {
  return a.lines.some((l) => l['event'] === event && l['node'] === node);
}

describe('plumtree agent', () => {
  const agents: Agent[] = [];

  beforeAll(() => buildDist(), 600_000);

  afterAll(async () => {
    for (const a of agents) if (a.proc.exitCode === null) a.proc.kill('SIGKILL');
  });

  it('forms a cluster, serves /members and leaves gracefully on SIGTERM', async () => {
    const common = [
      '--profile',
      'local',
      '--json',
      '--key',
      Buffer.alloc(16, 3).toString('base64'),
    ];
    const a0 = spawnAgent([
      '--name',
      'c0',
      '--bind',
      '127.0.0.1:0',
      '--http',
      '127.0.0.1:0',
      ...common,
    ]);
    agents.push(a0);
    await waitFor('c0 ready', () => has(a0, 'ready', 'c0'), { timeoutMs: 15_000 });
    const ready = a0.lines.find((l) => l['event'] === 'ready')!;
    const seed = ready['addr'] as string;
    expect(seed).toMatch(/^127\.0\.0\.1:\d+$/);
    for (const name of ['c1', 'c2']) {
      agents.push(spawnAgent(['--name', name, '--bind', '127.0.0.1:0', '--join', seed, ...common]));
    }
    const [, a1, a2] = agents as [Agent, Agent, Agent];
    await waitFor(
      'every agent prints the joins of the other two',
      () =>
        has(a0, 'join', 'c1') &&
        has(a0, 'join', 'c2') &&
        has(a1, 'join', 'c0') &&
        has(a1, 'join', 'c2') &&
        has(a2, 'join', 'c0') &&
        has(a2, 'join', 'c1'),
      {
        // Usually well under a second; but when every retransmission of a join's alive message
        // happens to go to the joiner itself (3 nodes, retransmit limit 2), the third node learns
        // of it only at the next push-pull (15 s in the local profile) — memberlist does the same.
        timeoutMs: 25_000,
      },
    );
    const joinLine = a0.lines.find((l) => l['event'] === 'join' && l['node'] === 'c1')!;
    expect(joinLine['addr']).toMatch(/^127\.0\.0\.1:\d+$/);

    const http = ready['http'] as string;
    const members = (await (await fetch(`http://${http}/members`)).json()) as Array<
      Record<string, unknown>
    >;
    expect(members.map((m) => m['name']).sort()).toEqual(['c0', 'c1', 'c2']);
    for (const m of members) {
      expect(m).toEqual({
        name: expect.any(String),
        addr: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
        state: 'alive',
        incarnation: expect.any(Number),
        meta: expect.any(String), // the agent's topic-directory digest
      });
    }
    const health = await fetch(`http://${http}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', members: 3 });
    const table = execFileSync(process.execPath, [MAIN, 'members', '--http', http], {
      encoding: 'utf8',
    });
    expect(table.split('\n')[0]).toMatch(/^NAME\s+ADDRESS\s+STATE\s+INCARNATION\s+META$/);
    expect(table).toMatch(/c2\s+127\.0\.0\.1:\d+\s+alive/);

    // stdin commands make user messages cross.
    a1.proc.stdin!.write('user c2 hello from c1\n');
    await waitFor(
      'c2 prints the user message',
      () =>
        a2.lines.some(
          (l) => l['event'] === 'user' && l['data'] === 'hello from c1' && l['from'] === 'c1',
        ),
      { timeoutMs: 15_000 },
    );

    a2.proc.kill('SIGTERM');
    expect(await a2.exit).toBe(0);
    await waitFor(
      'the others print the leave',
      () => has(a0, 'leave', 'c2') && has(a1, 'leave', 'c2'),
      { timeoutMs: 15_000 },
    );
    expect(has(a0, 'fail', 'c2')).toBe(false);
  });

  it('exits 2 with a clear message on invalid flags', () => {
    let status: number | null = null;
    let stderr = '';
    try {
      execFileSync(process.execPath, [MAIN, 'agent', '--name', 'x', '--bind', 'nope', '--bogus'], {
        encoding: 'utf8',
        stdio: 'pipe',
      });
    } catch (e) {
      status = (e as { status: number }).status;
      stderr = (e as { stderr: string }).stderr;
    }
    expect(status).toBe(2);
    expect(stderr).toMatch(/bogus/);
    const r = (() => {
      try {
        execFileSync(process.execPath, [MAIN, 'agent', '--name', 'x', '--bind', 'nope'], {
          stdio: 'pipe',
        });
        return { status: 0, stderr: '' };
      } catch (e) {
        return e as { status: number; stderr: Buffer };
      }
    })();
    expect(r.status).toBe(2);
    expect(String(r.stderr)).toMatch(/--bind: expected HOST:PORT/);
  });
});
