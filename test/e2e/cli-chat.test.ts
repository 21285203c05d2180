/**
 * Issue 18 acceptance of `plumtree chat` (apps/cli/dist) in a real terminal: tmux, on its own
 * server socket. Type a message and read it back from the screen (`capture-pane`), press F (the
 * node goes offline, then online again) and L (20 % loss) and see the status change, quit with Q
 * and see every node process gone.
 *
 * Every wait is bounded polling of the screen; nothing sleeps a fixed time.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { waitUntil } from '../../libs/testing/src/wait-until.js';
import { isRunning, ROOT } from './support/app-process.js';

jest.setTimeout(300_000);

/** Start of 4 node processes on a loaded 2-core machine. */
const START_MS = 120_000;
/** A state change on screen (failure detection, restart, a message through the tree). */
const STATE_MS = 60_000;

const SOCKET = `plumtree-e2e-${process.pid.toString()}`;
const SESSION = 'chat';

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', SOCKET, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function screen(): string {
  return tmux('capture-pane', '-p', '-t', SESSION);
}

function sessionAlive(): boolean {
  try {
    tmux('has-session', '-t', SESSION);
    return true;
  } catch {
    return false;
  }
}

/** Waits until the screen matches every pattern; the error shows the last screen. */
async function waitForScreen(
  what: string,
  patterns: RegExp | readonly RegExp[],
  timeoutMs = STATE_MS,
): Promise<string> {
  const all = Array.isArray(patterns) ? patterns : [patterns as RegExp];
  let last = '';
  await waitUntil(
    what,
    () => {
      last = sessionAlive() ? screen() : '(the tmux session has ended)';
      return all.every((re) => re.test(last)) ? [] : [`screen:\n${last}`];
    },
    timeoutMs,
  );
  return last;
}

/** Every process below `pid` (children, their children, ...). */
function descendants(pid: number): number[] {
  const rows = execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number) as [number, number]);
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const [child, parent] of rows) {
      if (parent === p) {
        out.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return out;
}

describe('plumtree chat in tmux', () => {
  let panePid = 0;

  beforeAll(() => {
    const cli = join(ROOT, 'apps/cli/dist/main.js');
    tmux(
      'new-session',
      '-d',
      '-s',
      SESSION,
      '-x',
      '140',
      '-y',
      '40',
      `${process.execPath} ${cli} chat --nodes 4`,
    );
    panePid = Number(tmux('display', '-p', '-t', SESSION, '#{pane_pid}').trim());
  });

  afterAll(() => {
    if (sessionAlive()) tmux('kill-server');
  });

  it('starts 4 nodes, all online, in one tree', async () => {
    await waitForScreen('4 nodes online', /(node-\d\s+online[^\n]*\n){4}/, START_MS);
    await waitForScreen('the status of node-1', /you are node-1 · ONLINE .*tree spans 4 live/);
  });

  it('sends a typed message and shows where it arrived', async () => {
    const text = `hello from tmux ${Date.now().toString(36)}`;
    tmux('send-keys', '-t', SESSION, 'Enter');
    await waitForScreen('typing mode', /^node-1>/m);
    tmux('send-keys', '-t', SESSION, '-l', text);
    tmux('send-keys', '-t', SESSION, 'Enter');
    const s = await waitForScreen(
      'the message on screen',
      new RegExp(`node-1: ${text}\\s*│[^\\n]*\\n[^\\n]*reached 4`),
    );
    expect(s).toContain('sent here');
    // Seen from node-2 (key 2): it came over the tree.
    tmux('send-keys', '-t', SESSION, '2');
    await waitForScreen('node-2 received it over the tree', [
      /you are node-2/,
      new RegExp(`${text}[^\\n]*\\n[^\\n]*via node-\\d · \\d+ hops? · \\d+ ms · reached 4`),
    ]);
    tmux('send-keys', '-t', SESSION, '1');
    await waitForScreen('back to node-1', /you are node-1/);
  });

  it('F takes the node offline and back online', async () => {
    tmux('send-keys', '-t', SESSION, 'F');
    await waitForScreen('node-1 offline', /you are node-1 · OFFLINE/);
    await waitForScreen('the others see it fail', /FAILED\s+node-1/);
    tmux('send-keys', '-t', SESSION, 'F');
    await waitForScreen('node-1 online again', /you are node-1 · ONLINE .*tree spans 4 live/);
  });

  it('L sets 20 % loss on the node', async () => {
    tmux('send-keys', '-t', SESSION, 'L');
    await waitForScreen('loss on', /you are node-1 · ONLINE · loss 20%/);
    tmux('send-keys', '-t', SESSION, 'L');
    await waitForScreen('loss off', /you are node-1 · \w+ · loss 0%/);
  });

  it('Q stops every node process and exits', async () => {
    // The chat itself (or the shell tmux ran it in) and everything below it: 4 node processes.
    const procs = [panePid, ...descendants(panePid)];
    expect(procs.length).toBeGreaterThanOrEqual(5);
    tmux('send-keys', '-t', SESSION, 'q');
    await waitUntil('the chat exited', () => (sessionAlive() ? ['still running'] : []), STATE_MS);
    await waitUntil(
      'every node process gone',
      () => procs.filter((p) => isRunning(p)).map((p) => `pid ${p.toString()} runs`),
      10_000,
    );
  });
});
