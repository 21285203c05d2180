#!/usr/bin/env node
/**
 * The `plumtree` command line (serf-like): `agent` runs a node (membership, topics, publish),
 * `members` reads an agent's member table, `store` inspects, repairs or resets a stopped node's
 * store, `chat` runs the terminal chat over a local cluster of node processes. Invalid flags
 * print a clear message and exit 2. It is the `plumtree` bin of @plumtree/cli: `npx plumtree
 * <command>` (in this repository after `npm run build`).
 */
import { PlumtreeNodeOptionsError } from '@plumtree/cluster';
import { SwimNodeOptionsError } from '@plumtree/swim';
import { runAgent } from './agent.command.js';
import { parseAgentArgs, parseMembersArgs, USAGE, UsageError } from './cli-args.js';
import { runMembers } from './members.command.js';
import { parseStoreArgs, runStore } from './store.command.js';

/** Runs one command; resolves with the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'agent':
        return await runAgent(parseAgentArgs(rest));
      case 'members': {
        const { http, token } = parseMembersArgs(rest);
        return await runMembers(http, token);
      }
      case 'chat': {
        // Loaded on demand: the terminal UI (ink, React) is for this command only. ink draws
        // nothing but the last frame when CI or CONTINUOUS_INTEGRATION is set (it reads them
        // once, when it is loaded); the chat runs only on a terminal, so it draws live there.
        if (process.stdout.isTTY) {
          delete process.env['CI'];
          delete process.env['CONTINUOUS_INTEGRATION'];
        }
        const { parseChatArgs } = await import('./chat/chat-args.js');
        const { runChat } = await import('./chat/chat.command.js');
        return await runChat(parseChatArgs(rest));
      }
      case 'store': {
        const { action, dir } = parseStoreArgs(rest);
        return await runStore(action, dir);
      }
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(`${USAGE}\n`);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (e) {
    if (
      e instanceof UsageError ||
      e instanceof SwimNodeOptionsError ||
      e instanceof PlumtreeNodeOptionsError
    ) {
      process.stderr.write(`plumtree: ${e.message}\n\n${USAGE}\n`);
      return 2;
    }
    process.stderr.write(`plumtree: ${(e as Error).message}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`plumtree: ${String(e)}\n`);
    process.exit(1);
  },
);
