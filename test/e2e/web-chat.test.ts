/**
 * Issue 18 acceptance, in a browser: `npm start`'s app (dist/apps/web-chat, 5 node processes)
 * driven through its page by playwright-core on Debian's chromium (never a downloaded browser).
 * Open the page and see 5 alive nodes and a tree spanning them; send a chat line from node-1
 * and see it on every member of the room; kill a node (SIGKILL) and see it turn dead and the tree
 * span the rest; restart it and see it rejoin and catch up the durable room; then SIGTERM the
 * app and see every node process gone. A screenshot of each step goes to
 * test-artifacts/web-chat/.
 *
 * Every wait is on page state (playwright's bounded waits), never a fixed sleep.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { AppProcess, isRunning, ROOT } from './support/app-process.js';

jest.setTimeout(300_000);

const ARTIFACTS = join(ROOT, 'test-artifacts', 'web-chat');
const CHROMIUM = '/usr/bin/chromium';
/** Start of the app and its 5 nodes on a loaded 2-core machine. */
const START_MS = 120_000;
/** A SWIM state change seen by the page (failure detection, rejoin, tree repair). */
const STATE_MS = 60_000;

const NODES = ['node-1', 'node-2', 'node-3', 'node-4', 'node-5'];

describe('web chat (npm start) in chromium', () => {
  let app: AppProcess;
  let browser: Browser;
  let page: Page;
  let url: string;
  let step = 0;
  const nodePids: number[] = [];

  const shot = async (name: string): Promise<void> => {
    step++;
    await page.screenshot({
      path: join(ARTIFACTS, `${String(step).padStart(2, '0')}-${name}.png`),
    });
  };
  const row = (node: string, attrs: string): string => `#nodes tr[data-node="${node}"]${attrs}`;
  /** Sends `text` from `node` in the current room through the composer. */
  const say = async (node: string, text: string): Promise<void> => {
    await page.selectOption('#speaker', node);
    await page.fill('#text', text);
    await page.click('#btn-send');
  };
  const message = (text: string) => page.locator('.msg', { hasText: text });

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    app = AppProcess.start(join(ROOT, 'dist/apps/web-chat/src/main.js'), ['--port', '0']);
    const m = await app.waitForLine(/web chat: (http:\/\/127\.0\.0\.1:\d+)/, START_MS);
    url = m[1]!;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.setDefaultTimeout(STATE_MS);
  });

  afterAll(async () => {
    await browser?.close();
    if (app !== undefined) await app.stop('SIGKILL', 5_000);
  });

  it('shows 5 alive nodes and a tree that spans them', async () => {
    await page.goto(url);
    await page.locator('#pill-stream[data-connected="true"]').waitFor({ timeout: START_MS });
    for (const n of NODES) {
      await page.locator(row(n, '[data-swim="alive"][data-process="running"]')).waitFor({
        timeout: START_MS,
      });
    }
    await page
      .locator('#tree-status[data-spanning="true"][data-live="5"][data-members="5"]')
      .waitFor();
    await expect(page.locator('#pill-alive').getAttribute('data-alive')).resolves.toBe('5');
    const view = (await (await fetch(`${url}/api/view`)).json()) as {
      nodes: { pid: number | null }[];
    };
    nodePids.push(...view.nodes.map((n) => n.pid!));
    expect(nodePids.every((p) => typeof p === 'number' && isRunning(p))).toBe(true);
    await shot('cluster');
  });

  it('delivers a line sent from node-1 to every member of the room', async () => {
    const text = `hello from node-1 ${Date.now().toString(36)}`;
    await say('node-1', text);
    for (const n of NODES) {
      await message(text).locator(`.arrival[data-node="${n}"]`).waitFor();
    }
    await expect(message(text).locator('.arrival').count()).resolves.toBe(5);
    // node-1 sent it (0 hops); everyone else got it over the tree (1 hop or more).
    await expect(
      message(text).locator('.arrival[data-node="node-1"]').getAttribute('data-hops'),
    ).resolves.toBe('0');
    for (const n of NODES.slice(1)) {
      const hops = Number(
        await message(text).locator(`.arrival[data-node="${n}"]`).getAttribute('data-hops'),
      );
      expect(hops).toBeGreaterThanOrEqual(1);
    }
    // Two more speakers: the tree serves every publisher of the room.
    for (const [from, line] of [
      ['node-4', 'node-4 here: deploy is green'],
      ['node-2', 'node-2: thanks, merging'],
    ] as const) {
      await say(from, line);
      for (const n of NODES) await message(line).locator(`.arrival[data-node="${n}"]`).waitFor();
    }
    await page.locator('#tree-status[data-spanning="true"][data-live="5"]').waitFor();
    await shot('chat');
  });

  it('shows a killed node dead and the tree spanning the rest', async () => {
    await page.locator(row('node-3', ' button[data-action="kill"]')).click();
    await page.locator(row('node-3', '[data-process="killed"]')).waitFor();
    await page.locator(row('node-3', '[data-swim="dead"]')).waitFor();
    // A message while node-3 is down: it reaches the 4 others, and a tree cut by the failure
    // is repaired on the way (IHAVE, then GRAFT).
    const text = `while node-3 is down ${Date.now().toString(36)}`;
    await say('node-1', text);
    for (const n of NODES.filter((x) => x !== 'node-3')) {
      await message(text).locator(`.arrival[data-node="${n}"]`).waitFor();
    }
    await page
      .locator('#tree-status[data-spanning="true"][data-live="4"][data-members="4"]')
      .waitFor();
    await shot('killed');
  });

  it('restarts the node: it rejoins and catches up the durable room', async () => {
    await page.locator(row('node-3', ' button[data-action="restart"]')).click();
    await page.locator(row('node-3', '[data-swim="alive"][data-process="running"]')).waitFor();
    await page
      .locator('#tree-status[data-spanning="true"][data-live="5"][data-members="5"]')
      .waitFor();
    // chat.general is durable: node-3 pulls what it missed from a peer's log (hops -1).
    const missed = message('while node-3 is down');
    await missed.locator('.arrival[data-node="node-3"][data-hops="-1"]').waitFor();
    await shot('restarted');
  });

  it('stops every node process on SIGTERM', async () => {
    const view = (await (await fetch(`${url}/api/view`)).json()) as {
      nodes: { pid: number | null }[];
    };
    nodePids.push(...view.nodes.map((n) => n.pid!));
    const { code } = await app.stop('SIGTERM', 30_000);
    expect(code).toBe(0);
    expect(nodePids.filter((p) => isRunning(p))).toEqual([]);
  });
});
