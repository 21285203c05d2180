/**
 * `plumtree chat`: the terminal chat over a real local cluster. It starts N node processes on
 * 127.0.0.1 (each a Nest app with `PlumtreeModule`, see @plumtree/local-cluster), everyone in
 * the durable room `chat.general`, and draws the chat with ink. On Q, Ctrl-C or SIGTERM it
 * stops every node (graceful leave, then SIGKILL) and exits 0.
 */
import { render } from 'ink';
import { createElement } from 'react';
import { LocalCluster } from '@plumtree/local-cluster';
import type { ChatArgs } from './chat-args.js';
import { ChatApp } from './chat-app.js';

/** The room of the terminal chat. */
export const CHAT_ROOM = 'chat.general';

/** Runs the chat; resolves with the exit code once every node has stopped. */
export async function runChat(args: ChatArgs): Promise<number> {
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    process.stderr.write('plumtree chat: needs a terminal (stdin and stdout a TTY)\n');
    return 2;
  }
  const cluster = new LocalCluster({
    nodes: args.nodes,
    rooms: [{ name: CHAT_ROOM, durable: true }],
    ...(args.dataDir !== undefined ? { dataDir: args.dataDir } : {}),
  });
  // No node outlives this process, whatever ends it (they also watch their IPC channel).
  process.on('exit', () => cluster.killNow());
  const ink = render(createElement(ChatApp, { cluster, room: CHAT_ROOM }), { exitOnCtrlC: false });
  const onSignal = (): void => ink.unmount();
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  cluster.launch().catch(() => undefined);
  await ink.waitUntilExit();
  process.stdout.write(`\nstopping ${args.nodes.toString()} nodes...\n`);
  await cluster.stop();
  process.stdout.write('stopped\n');
  return 0;
}
