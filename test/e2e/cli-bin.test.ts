/**
 * Issue 17 acceptance of the `plumtree` bin (@plumtree/cli's `bin`, what `npx plumtree` runs):
 * the node runs in the very process the bin starts, so a signal sent to that pid reaches it.
 * SIGTERM and SIGINT each make the agent leave gracefully (the others print `leave`, never
 * `fail`) and exit 0; a second signal while leaving exits at once with 128 + its number. A
 * SIGTERM to `npx plumtree agent`'s npm process makes the agent leave too. Runs
 * the build (the e2e project's globalSetup, test/support/build-dist.ts, which also links
 * node_modules/.bin/plumtree).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { buildDist, repoRoot } from '../support/build-dist.js';
import { waitFor } from '../support/wait-for.js';

jest.setTimeout(120_000);

/** What `npx plumtree` runs in this repository: the link npm makes to the package's bin. */
const BIN = join(repoRoot, 'node_modules/.bin/plumtree');

interface Agent {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly lines: Array<Record<string, unknown>>;
  stderr: string;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `plumtree agent` by executing the bin itself (its `#!/usr/bin/env node` line), or by
 * `command` (e.g. `npx plumtree`).
 */
function spawnAgent(name: string, args: string[], command: readonly string[] = [BIN]): Agent {
  const agentArgs = ['--name', name, '--bind', '127.0.0.1:0', '--profile', 'local', '--json'];
  const proc = spawn(command[0]!, [...command.slice(1), 'agent', ...agentArgs, ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const agent: Agent = {
    name,
    proc,
    lines: [],
    stderr: '',
    exit: new Promise((r) => proc.once('exit', (code, signal) => r({ code, signal }))),
  };
  createInterface({ input: proc.stdout! }).on('line', (l) => {
    agent.lines.push(JSON.parse(l) as Record<string, unknown>);
  });
  proc.stderr!.on('data', (d: Buffer) => (agent.stderr += d.toString('utf8')));
  return agent;
}

function has(a: Agent, event: string, node: string): boolean {
  return a.lines.some((l) => l['event'] === event && l['node'] === node);
}

describe('the plumtree bin', () => {
  const agents: Agent[] = [];
  let seed: Agent;
  let seedAddr: string;

  beforeAll(async () => {
    buildDist();
    seed = spawnAgent('s0', []);
    agents.push(seed);
    await waitFor('s0 ready', () => has(seed, 'ready', 's0'), { timeoutMs: 15_000 });
    seedAddr = seed.lines.find((l) => l['event'] === 'ready')!['addr'] as string;
  }, 600_000);

  afterAll(async () => {
    for (const a of agents) if (a.proc.exitCode === null) a.proc.kill('SIGKILL');
    await Promise.all(agents.map((a) => a.exit));
  });

  /**
   * Starts an agent that joins the seed and waits until the seed has seen it join and the agent
   * is ready: it joins inside `PlumtreeNode.start`, before its signal handlers are installed, so
   * the seed can see the join before a signal would be a graceful leave; `ready` comes after.
   */
  async function joined(name: string, command?: readonly string[]): Promise<Agent> {
    const a = spawnAgent(name, ['--join', seedAddr], command);
    agents.push(a);
    await waitFor(`s0 sees ${name} join`, () => has(seed, 'join', name), { timeoutMs: 25_000 });
    await waitFor(`${name} ready`, () => has(a, 'ready', name), { timeoutMs: 25_000 });
    return a;
  }

  it('is the package bin, and the node runs in the process it starts', async () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'apps/cli/package.json'), 'utf8')) as {
      bin: Record<string, string>;
    };
    expect(realpathSync(BIN)).toBe(realpathSync(join(repoRoot, 'apps/cli', pkg.bin['plumtree']!)));
    // No wrapper between the pid we signal and the node: the process is node itself.
    expect(readFileSync(`/proc/${seed.proc.pid}/comm`, 'utf8').trim()).toBe('node');
  });

  it.each(['SIGTERM', 'SIGINT'] as const)(
    '%s: the agent leaves gracefully, the others see `leave`, exit code 0',
    async (signal) => {
      const a = await joined(`b-${signal.toLowerCase()}`);
      a.proc.kill(signal);
      expect(await a.exit).toEqual({ code: 0, signal: null });
      await waitFor(`s0 prints the leave of ${a.name}`, () => has(seed, 'leave', a.name), {
        timeoutMs: 15_000,
      });
      expect(has(seed, 'fail', a.name)).toBe(false);
      expect(a.stderr).toContain(`plumtree: ${signal}, leaving the cluster`);
    },
  );

  it('SIGTERM to the npm process of `npx plumtree agent`: the agent leaves gracefully', async () => {
    // npm runs the bin through `sh -c`, which dies of the SIGTERM npm passes on; the agent sees
    // its parent go and leaves as on a signal.
    const a = await joined('b-npx', ['npx', 'plumtree']);
    const outputClosed = new Promise((r) => a.proc.stdout!.once('close', r));
    a.proc.kill('SIGTERM');
    await waitFor('s0 prints the leave of b-npx', () => has(seed, 'leave', 'b-npx'), {
      timeoutMs: 15_000,
    });
    expect(has(seed, 'fail', 'b-npx')).toBe(false);
    // Every writer of the output pipe (npm, its shell, the agent) has exited.
    await outputClosed;
    expect(a.stderr).toContain('plumtree: the parent process (npm) is gone, leaving the cluster');
  });

  it('a second signal while leaving exits at once with 128 + its number', async () => {
    const a = await joined('b-twice');
    // Two different signals sent to a stopped process are both pending when it resumes (two of
    // the same kind would merge into one), so the second is handled while the first's leave,
    // which needs at least a gossip round, is still under way.
    a.proc.kill('SIGSTOP');
    a.proc.kill('SIGINT');
    a.proc.kill('SIGTERM');
    a.proc.kill('SIGCONT');
    const { code, signal } = await a.exit;
    expect(signal).toBeNull();
    expect([130, 143]).toContain(code);
    expect(a.stderr).toMatch(/plumtree: SIG(INT|TERM) while leaving, exiting now/);
  });
});
