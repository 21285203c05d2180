/**
 * Flags of `plumtree chat`, on `node:util` parseArgs (strict). Problems become the CLI's
 * `UsageError` (exit 2 with the usage).
 */
import { parseArgs } from 'node:util';
import { UsageError } from '../cli-args.js';

/** Largest cluster of the terminal chat: users are switched with 1-9 and 0. */
export const CHAT_MAX_NODES = 10;

/** Flags of `chat`. */
export interface ChatArgs {
  /** Node processes, 2 to {@link CHAT_MAX_NODES}. */
  readonly nodes: number;
  /** The nodes' stores; undefined: a temporary directory removed at exit. */
  readonly dataDir: string | undefined;
}

/** Parses the flags of `chat`. */
export function parseChatArgs(argv: string[]): ChatArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      options: { nodes: { type: 'string' }, 'data-dir': { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const problems: string[] = [];
  const text = values['nodes'] as string | undefined;
  let nodes = CHAT_MAX_NODES;
  if (text !== undefined) {
    nodes = Number(text);
    if (!/^\d+$/.test(text) || nodes < 2 || nodes > CHAT_MAX_NODES) {
      problems.push(
        `--nodes: expected an integer from 2 to ${CHAT_MAX_NODES.toString()}, got ${JSON.stringify(text)}`,
      );
    }
  }
  const dataDir = values['data-dir'] as string | undefined;
  if (dataDir === '') problems.push('--data-dir: must not be empty');
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  return { nodes, dataDir };
}
