/**
 * Flag parsing of the `plumtree` CLI on `node:util` parseArgs (strict: unknown flags are errors).
 * Every problem becomes a {@link UsageError}, which `main` prints with the usage and exits 2.
 */
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { validatePattern, validateSeedAddresses } from '@plumtree/cluster';
import { parseIp, splitHostPort } from '@plumtree/swim';
import { isLoopbackHost } from './http-api.js';

/** A command line the CLI refuses; exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The usage text. */
export const USAGE = `usage: plumtree <command> [flags]

commands:
  agent    --name N --bind HOST:PORT [--join HOST:PORT,...] [--join-timeout-ms MS]
           [--key BASE64]... [--label L] [--profile lan|wan|local] [--topics T,P,...]
           [--http HOST:PORT] [--http-token T | --http-token-file F] [--fault-control]
           [--json]
           [--data-dir DIR] [--static-seeds HOST:PORT,...] [--lazarus-interval-ms MS]
           [--durable T,P,...] [--retention-ms MS] [--max-messages N]
           Runs a node (SWIM membership + one Plumtree tree per topic). It prints "ready" once
           it has joined --join, retrying with backoff while no seed answers, for at most
           --join-timeout-ms (default 60000; then it exits 1). --topics subscribes to
           topics and patterns (orders.* one segment, orders.# the rest); each delivery prints
           a "message" line. stdin lines: "publish TOPIC TEXT", "broadcast TEXT" (SWIM user
           broadcast), "user NODE TEXT". HTTP: GET /members /health /stats /metrics, POST
           /publish {"topic","data","headers"?}. SIGINT/SIGTERM leave gracefully and exit 0.
           The HTTP API wants "Authorization: Bearer T" on every route but GET /health; the
           token comes from --http-token, --http-token-file (first line) or the environment
           variable PLUMTREE_HTTP_TOKEN (16+ characters of A-Z a-z 0-9 - . _ ~ + / =). Without
           one the agent refuses a non-loopback --http, and on loopback it serves local
           non-browser clients only. --fault-control (tests: POST /fault {"block","unblock",
           "clear"} cuts this node off from peers) needs the token. Without --key the cluster
           is open to anyone who reaches --bind: see docs/security.md.
           --data-dir keeps peers, incarnation and durable logs (LevelDB; default none: in
           memory); --durable topics are logged and caught up after restarts and partitions;
           --static-seeds are re-joined by Lazarus while not alive.
  chat     [--nodes N] [--data-dir DIR]
           The terminal chat over a real local cluster: N node processes on 127.0.0.1 (2-10,
           default 10) in the durable room chat.general. Keys: Enter type, Tab/1-9,0 user,
           F node offline/online, L 20% loss, E all eager, R reset metrics, M metrics, Q quit.
  members  --http HOST:PORT [--http-token T | --http-token-file F]
           Prints the member table of an agent's HTTP API (token as for agent, or
           PLUMTREE_HTTP_TOKEN).
  store    inspect|repair|reset DIR
           A stopped node's store: print its peers, incarnation and subscriptions; run
           LevelDB's repair; or delete it (docs/persistence.md, recovery procedures).`;

/** Flags of `agent`. */
export interface AgentArgs {
  readonly name: string;
  readonly bindHost: string;
  readonly bindPort: number;
  readonly join: string[];
  /** How long to keep trying to join `join`; undefined: the node's default (60 s). */
  readonly joinTimeoutMs: number | undefined;
  readonly keys: string[];
  readonly label: string;
  readonly profile: 'lan' | 'wan' | 'local';
  readonly http: { host: string; port: number } | null;
  /**
   * Bearer token of the HTTP API (`--http-token`, `--http-token-file` or `PLUMTREE_HTTP_TOKEN`);
   * null: none, allowed only with a loopback `--http` and without `--fault-control`.
   */
  readonly httpToken: string | null;
  readonly json: boolean;
  /** Topics and patterns subscribed for the agent's life. */
  readonly topics: string[];
  /**
   * Hidden (tests): busy-wait this long in each delivery, blocking the event loop like a slow
   * synchronous handler. 0: off.
   */
  readonly handlerDelayMs: number;
  /** Hidden (tests, benchmarks): cap of each peer's frame queue in bytes; undefined: the node's default. */
  readonly maxQueueBytes: number | undefined;
  /** Hidden (tests): deliveries waiting for the handler above which reading pauses; undefined: the node's default. */
  readonly maxPendingDeliveries: number | undefined;
  /**
   * Hidden (the soak): how long the message cache keeps a message; undefined: the node's default
   * (`messageCacheTtlMs`, 120 s). A short soak shortens it so its caches are full, and its heap at
   * its steady level, within the run (docs/faults.md).
   */
  readonly messageCacheTtlMs: number | undefined;
  /** The node's store directory; null: no persistence (the agent's default). */
  readonly dataDir: string | null;
  /** Static seeds, re-joined by Lazarus while not alive. */
  readonly staticSeeds: string[];
  /** Lazarus period; undefined: the node's default (30 s). */
  readonly lazarusIntervalMs: number | undefined;
  /** Durable topics and patterns. */
  readonly durable: string[];
  /** Durable retention by age and by count; undefined: the node's defaults. */
  readonly retentionMs: number | undefined;
  readonly maxMessages: number | undefined;
  /** Tests: `POST /fault` blocks and unblocks peer addresses (partitions); needs a token. */
  readonly faultControl: boolean;
}

/** `host:port` checked; `what` names the flag in errors. */
export function parseHostPort(text: string, what: string): { host: string; port: number } {
  const hp = splitHostPort(text);
  if (!hp) throw new UsageError(`${what}: expected HOST:PORT, got ${JSON.stringify(text)}`);
  if (!Number.isInteger(hp.port) || hp.port > 65535) {
    throw new UsageError(`${what}: bad port in ${JSON.stringify(text)}`);
  }
  return hp;
}

function parse(
  argv: string[],
  options: NonNullable<ParseArgsConfig['options']>,
): { values: Record<string, string | boolean | Array<string | boolean> | undefined> } {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** The environment variable a token is read from when no flag gives one. */
export const HTTP_TOKEN_ENV = 'PLUMTREE_HTTP_TOKEN';

/** Shortest token accepted: 16 characters of base64 carry 96 bits. */
const MIN_TOKEN_CHARS = 16;

/** The token flags, shared by `agent` and `members`. */
const TOKEN_OPTIONS = {
  'http-token': { type: 'string' },
  'http-token-file': { type: 'string' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

/**
 * The HTTP API's bearer token: `--http-token`, else the first line of `--http-token-file`, else
 * `env.PLUMTREE_HTTP_TOKEN`, else null. A token is RFC 6750's `b64token` (A-Z a-z 0-9 - . _ ~ + /
 * then `=`s) of at least 16 characters; problems are collected.
 */
export function resolveHttpToken(
  values: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  problems: string[],
): string | null {
  const flag = values['http-token'] as string | undefined;
  const file = values['http-token-file'] as string | undefined;
  if (flag !== undefined && file !== undefined) {
    problems.push('--http-token and --http-token-file: give one');
    return null;
  }
  let token: string | undefined = flag;
  let what = '--http-token';
  if (file !== undefined) {
    what = '--http-token-file';
    try {
      token = readFileSync(file, 'utf8').split(/\r?\n/)[0] ?? '';
    } catch (e) {
      problems.push(`--http-token-file: ${(e as Error).message}`);
      return null;
    }
  } else if (token === undefined && env[HTTP_TOKEN_ENV] !== undefined) {
    token = env[HTTP_TOKEN_ENV];
    what = HTTP_TOKEN_ENV;
  }
  if (token === undefined) return null;
  if (!/^[A-Za-z0-9\-._~+/]+=*$/.test(token) || token.length < MIN_TOKEN_CHARS) {
    problems.push(
      `${what}: a token is ${MIN_TOKEN_CHARS.toString()}+ characters of A-Z a-z 0-9 - . _ ~ + / = (e.g. openssl rand -base64 24)`,
    );
    return null;
  }
  return token;
}

/**
 * Parses the flags of `agent`; `env` gives `PLUMTREE_HTTP_TOKEN`. Refuses (docs/security.md) a
 * non-loopback `--http` or a `--fault-control` without a token.
 */
export function parseAgentArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): AgentArgs {
  const { values } = parse(argv, {
    ...TOKEN_OPTIONS,
    name: { type: 'string' },
    bind: { type: 'string' },
    join: { type: 'string', multiple: true },
    'join-timeout-ms': { type: 'string' },
    key: { type: 'string', multiple: true },
    label: { type: 'string' },
    profile: { type: 'string' },
    http: { type: 'string' },
    json: { type: 'boolean' },
    topics: { type: 'string', multiple: true },
    'handler-delay-ms': { type: 'string' },
    'max-queue-bytes': { type: 'string' },
    'max-pending-deliveries': { type: 'string' },
    'message-cache-ttl-ms': { type: 'string' },
    'data-dir': { type: 'string' },
    'static-seeds': { type: 'string', multiple: true },
    'lazarus-interval-ms': { type: 'string' },
    durable: { type: 'string', multiple: true },
    'retention-ms': { type: 'string' },
    'max-messages': { type: 'string' },
    'fault-control': { type: 'boolean' },
  });
  const problems: string[] = [];
  const name = values['name'] as string | undefined;
  if (!name) problems.push('--name is required');
  const bindText = values['bind'] as string | undefined;
  let bind = { host: '0.0.0.0', port: 7946 };
  if (bindText === undefined) problems.push('--bind is required');
  else {
    try {
      bind = parseHostPort(bindText, '--bind');
      if (!parseIp(bind.host))
        problems.push(`--bind: host must be an IP address, got ${bind.host}`);
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  const join: string[] = [];
  for (const j of (values['join'] as string[] | undefined) ?? []) {
    for (const part of j.split(',').filter((s) => s !== '')) {
      try {
        parseHostPort(part, '--join');
        join.push(part);
      } catch (e) {
        problems.push((e as Error).message);
      }
    }
  }
  const joinTimeoutMs = intFlag(values['join-timeout-ms'], '--join-timeout-ms', 0, problems);
  const keys = (values['key'] as string[] | undefined) ?? [];
  for (const k of keys) {
    const len = /^[A-Za-z0-9+/]+={0,2}$/.test(k) ? Buffer.from(k, 'base64').length : -1;
    if (len !== 16 && len !== 24 && len !== 32) {
      problems.push('--key: must be base64 of 16, 24 or 32 bytes');
    }
  }
  const profile = (values['profile'] as string | undefined) ?? 'lan';
  if (profile !== 'lan' && profile !== 'wan' && profile !== 'local') {
    problems.push(`--profile: expected lan, wan or local, got ${JSON.stringify(profile)}`);
  }
  let http: { host: string; port: number } | null = null;
  const httpText = values['http'] as string | undefined;
  if (httpText !== undefined) {
    try {
      http = parseHostPort(httpText, '--http');
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  const httpToken = resolveHttpToken(values, env, problems);
  const faultControl = values['fault-control'] === true;
  if (http !== null && httpToken === null && !isLoopbackHost(http.host)) {
    problems.push(
      `--http ${http.host}: a non-loopback HTTP API needs a token (--http-token, --http-token-file or ${HTTP_TOKEN_ENV}; docs/security.md)`,
    );
  }
  if (faultControl && (http === null || httpToken === null)) {
    problems.push(
      `--fault-control needs --http and a token (--http-token, --http-token-file or ${HTTP_TOKEN_ENV})`,
    );
  }
  const topics = patternList(values['topics'], '--topics', problems);
  const handlerDelayMs = intFlag(values['handler-delay-ms'], '--handler-delay-ms', 0, problems);
  const maxQueueBytes = intFlag(values['max-queue-bytes'], '--max-queue-bytes', 1024, problems);
  const maxPendingDeliveries = intFlag(
    values['max-pending-deliveries'],
    '--max-pending-deliveries',
    1,
    problems,
  );
  const messageCacheTtlMs = intFlag(
    values['message-cache-ttl-ms'],
    '--message-cache-ttl-ms',
    1000,
    problems,
  );
  const staticSeeds: string[] = [];
  for (const j of (values['static-seeds'] as string[] | undefined) ?? []) {
    for (const part of j.split(',').filter((x) => x !== '')) staticSeeds.push(part);
  }
  for (const p of validateSeedAddresses(staticSeeds)) problems.push(`--static-seeds: ${p}`);
  const durable = patternList(values['durable'], '--durable', problems);
  const dataDir = (values['data-dir'] as string | undefined) ?? null;
  if (dataDir === '') problems.push('--data-dir: must not be empty');
  const lazarusIntervalMs = intFlag(
    values['lazarus-interval-ms'],
    '--lazarus-interval-ms',
    10,
    problems,
  );
  const retentionMs = intFlag(values['retention-ms'], '--retention-ms', 1000, problems);
  const maxMessages = intFlag(values['max-messages'], '--max-messages', 1, problems);
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  return {
    name: name!,
    bindHost: bind.host,
    bindPort: bind.port,
    join,
    joinTimeoutMs,
    keys,
    label: (values['label'] as string | undefined) ?? '',
    profile: profile as 'lan' | 'wan' | 'local',
    http,
    httpToken,
    json: values['json'] === true,
    topics,
    handlerDelayMs: handlerDelayMs ?? 0,
    maxQueueBytes,
    maxPendingDeliveries,
    messageCacheTtlMs,
    dataDir,
    staticSeeds,
    lazarusIntervalMs,
    durable,
    retentionMs,
    maxMessages,
    faultControl,
  };
}

/** A non-negative integer flag at least `min`, or undefined when absent; problems collected. */
function intFlag(
  value: unknown,
  what: string,
  min: number,
  problems: string[],
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== 'string' || !/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min) {
    problems.push(
      `${what}: expected an integer >= ${min.toString()}, got ${JSON.stringify(value)}`,
    );
    return undefined;
  }
  return n;
}

/**
 * The topics or patterns of a repeatable, comma-separated flag, in order and without repeats; an
 * invalid one is recorded in `problems` (`<what>: "<pattern>": <reason>`) and left out.
 */
function patternList(value: unknown, what: string, problems: string[]): string[] {
  const out: string[] = [];
  for (const t of (value as string[] | undefined) ?? []) {
    for (const part of t.split(',').filter((x) => x !== '')) {
      const reason = validatePattern(part);
      if (reason !== null) problems.push(`${what}: ${JSON.stringify(part)}: ${reason}`);
      else if (!out.includes(part)) out.push(part);
    }
  }
  return out;
}

/** Parses the flags of `members`; `env` gives `PLUMTREE_HTTP_TOKEN`. */
export function parseMembersArgs(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): { http: { host: string; port: number }; token: string | null } {
  const { values } = parse(argv, { http: { type: 'string' }, ...TOKEN_OPTIONS });
  const text = values['http'] as string | undefined;
  if (text === undefined) throw new UsageError('--http is required');
  const problems: string[] = [];
  const token = resolveHttpToken(values, env, problems);
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  return { http: parseHostPort(text, '--http'), token };
}
