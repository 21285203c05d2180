/**
 * Flags of the web chat (`npm start -- --nodes 7 --port 8080`), on `node:util` parseArgs (strict:
 * an unknown flag is an error). Every problem becomes one {@link WebChatUsageError}; `main`
 * prints it with the usage and exits 2.
 */
import { parseArgs } from 'node:util';
import { MAX_NODES } from '@plumtree/local-cluster';

/** A command line the web chat refuses. */
export class WebChatUsageError extends Error {
  override readonly name = 'WebChatUsageError';
}

/** The usage text. */
export const WEB_CHAT_USAGE = `usage: npm start -- [--nodes N] [--port PORT] [--host HOST] [--data-dir DIR]

  Starts N node processes on 127.0.0.1 (each a Nest app with PlumtreeModule) and serves the
  page that shows and breaks them at http://HOST:PORT. Ctrl-C stops every node.

  --nodes N        node processes, 1-${MAX_NODES.toString()} (default 5)
  --port PORT      HTTP port of the page (default 3000; 0 picks a free one)
  --host HOST      HTTP address (default 127.0.0.1)
  --data-dir DIR   keep the nodes' stores in DIR (default a temporary directory, removed at exit)`;

/** The parsed flags. */
export interface WebChatArgs {
  readonly nodes: number;
  readonly port: number;
  readonly host: string;
  readonly dataDir: string | undefined;
  readonly help: boolean;
}

/** Parses the flags; throws a {@link WebChatUsageError} naming every problem. */
export function parseWebChatArgs(argv: readonly string[]): WebChatArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        nodes: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        'data-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    throw new WebChatUsageError((e as Error).message);
  }
  const problems: string[] = [];
  const int = (flag: string, text: string | undefined, min: number, max: number, def: number) => {
    if (text === undefined) return def;
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < min || n > max) {
      problems.push(
        `--${flag}: expected an integer from ${min.toString()} to ${max.toString()}, got ${JSON.stringify(text)}`,
      );
      return def;
    }
    return n;
  };
  const nodes = int('nodes', values['nodes'] as string | undefined, 1, MAX_NODES, 5);
  const port = int('port', values['port'] as string | undefined, 0, 65535, 3000);
  const host = (values['host'] as string | undefined) ?? '127.0.0.1';
  if (host === '') problems.push('--host: must not be empty');
  const dataDir = values['data-dir'] as string | undefined;
  if (dataDir === '') problems.push('--data-dir: must not be empty');
  if (problems.length > 0) throw new WebChatUsageError(problems.join('\n'));
  return { nodes, port, host, dataDir, help: values['help'] === true };
}
