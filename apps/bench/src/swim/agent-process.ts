import { randomInt } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { join as joinPath } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { WaitTimeoutError } from '../wait-until.js';

/**
 * Which implementation runs an agent: `go` is test/go/bin/peer (HashiCorp memberlist 0.2.2 from
 * Debian), `ours` is `node apps/cli/dist/main.js agent`. Both speak the same command line and
 * JSON-lines contract, so everything here drives either.
 */
export type AgentKind = 'go' | 'ours';

/** memberlist configuration preset, after `Default{LAN,WAN,Local}Config`. */
export type AgentProfile = 'lan' | 'wan' | 'local';

/** How to start one agent. */
export interface AgentOptions {
  readonly kind: AgentKind;
  readonly name: string;
  /** UDP and TCP port on 127.0.0.1. */
  readonly port: number;
  /** Port of the HTTP endpoint (`GET /members`, `/health`). */
  readonly httpPort: number;
  /** Seeds as `host:port`. */
  readonly join?: readonly string[];
  /** Base64 AES key (16, 24 or 32 bytes). */
  readonly key?: string;
  readonly profile?: AgentProfile;
  /** Extra flags appended to the command line. */
  readonly extraArgs?: readonly string[];
  /**
   * Bearer token of the HTTP API (ours): handed to the agent as `PLUMTREE_HTTP_TOKEN` (never on
   * the command line, where `ps` shows it) and sent with every request. Without it the agent
   * serves its loopback API without a token (docs/security.md); an inherited
   * `PLUMTREE_HTTP_TOKEN` is then removed from the agent's environment.
   */
  readonly httpToken?: string;
}

/** One JSON line an agent printed, with the monotonic time (ms) it was read. */
export interface AgentEvent {
  readonly event: string;
  readonly node?: string;
  readonly addr?: string;
  readonly from?: string;
  readonly data?: string;
  readonly error?: string;
  /** Deliveries and publishes: the topic, the message id and its origin. */
  readonly topic?: string;
  readonly id?: string;
  readonly origin?: string;
  /** `performance.now()` when this process read the line. */
  readonly atMs: number;
  /** Every field of the line (e.g. the `memory` line's `heapUsed`). */
  readonly fields: Readonly<Record<string, unknown>>;
}

/** One row of `GET /members`. */
export interface MemberRow {
  readonly name: string;
  readonly addr: string;
  readonly state: string;
  readonly incarnation: number;
  readonly meta: string;
}

/** The command line of an agent, without the program. Same flags for both kinds. */
export function agentArgs(opts: AgentOptions): string[] {
  const args = [
    '--name',
    opts.name,
    '--bind',
    `127.0.0.1:${opts.port.toString()}`,
    '--http',
    `127.0.0.1:${opts.httpPort.toString()}`,
    '--profile',
    opts.profile ?? 'local',
    '--json',
  ];
  if (opts.join !== undefined && opts.join.length > 0) args.push('--join', opts.join.join(','));
  if (opts.key !== undefined) args.push('--key', opts.key);
  return [...args, ...(opts.extraArgs ?? [])];
}

/** Program and arguments that start an agent of the given kind from the repository root. */
export function agentCommand(repoRoot: string, opts: AgentOptions): [string, string[]] {
  if (opts.kind === 'go') return [joinPath(repoRoot, 'test/go/bin/peer'), agentArgs(opts)];
  return [
    process.execPath,
    [joinPath(repoRoot, 'apps/cli/dist/main.js'), 'agent', ...agentArgs(opts)],
  ];
}

const STDERR_KEEP = 8_192;

/**
 * A running agent process: its parsed JSON lines, its HTTP view, its stdin commands. Every wait is
 * bounded and polls; nothing sleeps a fixed time.
 */
export class AgentProcess {
  /** Every JSON line printed so far, in order. */
  readonly events: AgentEvent[] = [];
  /** `host:port` of the SWIM endpoint. */
  readonly addr: string;
  /** Resolves with the exit code (or the signal name) once the process is gone. */
  readonly exited: Promise<number | string>;
  private stderr = '';
  private exit: number | string | undefined;
  private readonly waiters = new Set<() => void>();

  private constructor(
    readonly options: AgentOptions,
    private readonly child: ChildProcess,
  ) {
    this.addr = `127.0.0.1:${options.port.toString()}`;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = code ?? signal ?? 'unknown';
        this.wake();
        resolve(this.exit);
      });
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-STDERR_KEEP);
    });
    if (child.stdout !== null) {
      createInterface({ input: child.stdout }).on('line', (line) => this.onLine(line));
    }
    // A test that ends while an agent is still writing must not crash on EPIPE.
    child.stdin?.on('error', () => undefined);
  }

  /** Starts an agent. `repoRoot` locates test/go/bin/peer and apps/cli/dist. */
  static start(repoRoot: string, opts: AgentOptions): AgentProcess {
    const [cmd, args] = agentCommand(repoRoot, opts);
    const { PLUMTREE_HTTP_TOKEN: _inherited, ...env } = process.env;
    const child = spawn(cmd, args, {
      cwd: repoRoot,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: opts.httpToken !== undefined ? { ...env, PLUMTREE_HTTP_TOKEN: opts.httpToken } : env,
    });
    return new AgentProcess(opts, child);
  }

  /** `fetch` of `path` on the HTTP endpoint, with the bearer token when there is one. */
  httpFetch(path: string, init: RequestInit = {}): Promise<Response> {
    const token = this.options.httpToken;
    return fetch(`http://127.0.0.1:${this.options.httpPort.toString()}${path}`, {
      signal: AbortSignal.timeout(2_000),
      ...init,
      headers: {
        ...(init.headers as Record<string, string> | undefined),
        ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}),
      },
    });
  }

  /**
   * Starts an agent on two fresh ports ({@link freePort}: SWIM, HTTP) and resolves once it printed
   * `ready`; an agent that does not is killed before the error is thrown.
   */
  static async startReady(
    repoRoot: string,
    opts: Omit<AgentOptions, 'port' | 'httpPort'>,
    readyTimeoutMs?: number,
  ): Promise<AgentProcess> {
    const agent = AgentProcess.start(repoRoot, {
      ...opts,
      port: await freePort(),
      httpPort: await freePort(),
    });
    try {
      await agent.ready(readyTimeoutMs);
    } catch (e) {
      await agent.stop('SIGKILL');
      throw e;
    }
    return agent;
  }

  /** Node name. */
  get name(): string {
    return this.options.name;
  }

  /** Implementation behind this agent. */
  get kind(): AgentKind {
    return this.options.kind;
  }

  /** Exit code or signal, or undefined while running. */
  get exitStatus(): number | string | undefined {
    return this.exit;
  }

  /** Last few KiB of stderr, for failure messages. */
  get stderrTail(): string {
    return this.stderr;
  }

  /** Process id. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  private onLine(line: string): void {
    const atMs = performance.now();
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      return; // not one of the contract's lines (a log line on stdout): ignore it
    }
    if (typeof parsed !== 'object' || parsed === null) return;
    const rec = parsed as Record<string, unknown>;
    if (typeof rec['event'] !== 'string') return;
    const str = (k: string): string | undefined =>
      typeof rec[k] === 'string' ? (rec[k] as string) : undefined;
    this.events.push({
      event: rec['event'],
      node: str('node'),
      addr: str('addr'),
      from: str('from'),
      data: str('data'),
      error: str('error'),
      topic: str('topic'),
      id: str('id'),
      origin: str('origin'),
      atMs,
      fields: rec,
    });
    this.wake();
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /**
   * Resolves with the first event (already seen or future) matching `pred`; rejects after
   * `timeoutMs` or when the process exits first.
   */
  waitForEvent(
    pred: (e: AgentEvent) => boolean,
    timeoutMs: number,
    what = 'event',
  ): Promise<AgentEvent> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const hit = this.events.find(pred);
        if (hit !== undefined) {
          done();
          resolve(hit);
          return true;
        }
        if (this.exit !== undefined) {
          done();
          reject(
            new WaitTimeoutError(
              `${this.name} (${this.kind}) exited (${String(this.exit)}) before ${what}; stderr: ${this.stderr.slice(-600)}`,
            ),
          );
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new WaitTimeoutError(
            `${this.name} (${this.kind}): no ${what} within ${timeoutMs.toString()} ms; events: ${this.events
              .slice(-12)
              .map((e) => `${e.event}:${e.node ?? e.data ?? ''}`)
              .join(', ')}; stderr: ${this.stderr.slice(-600)}`,
          ),
        );
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      const waiter = (): void => {
        check();
      };
      if (!check()) this.waiters.add(waiter);
    });
  }

  /** Waits for the `ready` line (bound and listening). */
  ready(timeoutMs = 15_000): Promise<AgentEvent> {
    return this.waitForEvent((e) => e.event === 'ready', timeoutMs, 'ready line');
  }

  /** `GET /members`, or undefined when the endpoint does not answer (yet). */
  async members(): Promise<MemberRow[] | undefined> {
    try {
      const res = await this.httpFetch('/members');
      if (!res.ok) return undefined;
      return (await res.json()) as MemberRow[];
    } catch {
      return undefined;
    }
  }

  /** `GET path` on the HTTP endpoint as JSON, or undefined when it does not answer. */
  async getJson(path: string): Promise<unknown> {
    try {
      const res = await this.httpFetch(path);
      return res.ok ? ((await res.json()) as unknown) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Names of the members `GET /members` lists as alive. */
  async aliveNames(): Promise<string[] | undefined> {
    const rows = await this.members();
    return rows?.filter((r) => r.state === 'alive').map((r) => r.name);
  }

  /** Writes one command line to stdin (`broadcast TEXT`, `user NODE TEXT`). */
  send(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  /** Sends a signal; resolves when the process has exited. */
  async stop(signal: NodeJS.Signals): Promise<number | string> {
    if (this.exit === undefined) this.child.kill(signal);
    return this.exited;
  }
}

const handedOut = new Set<number>();

function probeTcp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

function probeUdp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    sock.once('error', () => {
      sock.close();
      resolve(false);
    });
    sock.bind(port, '127.0.0.1', () => sock.close(() => resolve(true)));
  });
}

/**
 * Candidates come from below Linux's default ephemeral range (32768-60999): a port chosen there
 * and bound a moment later by an agent process could meanwhile become the local end of some
 * outgoing connection (every connect() draws from that range), and the agent then failed with
 * EADDRINUSE on a loaded machine. Below it only another binder can take it.
 */
const CANDIDATE_LOW = 10_000;
const CANDIDATE_HIGH = 32_767;

/**
 * A port free for both TCP and UDP on 127.0.0.1, never handed out before by this process (memberlist
 * binds both on one port).
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = CANDIDATE_LOW + randomInt(CANDIDATE_HIGH - CANDIDATE_LOW + 1);
    if (handedOut.has(port)) continue;
    if ((await probeTcp(port)) && (await probeUdp(port))) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no free TCP+UDP port on 127.0.0.1 after 200 attempts');
}

/** Timers of a memberlist configuration that bound failure detection, in ms. */
export interface DetectionTimers {
  readonly probeIntervalMs: number;
  readonly probeTimeoutMs: number;
  readonly suspicionMult: number;
  readonly suspicionMaxTimeoutMult: number;
  readonly gossipIntervalMs: number;
}

/** memberlist's `DefaultLocalConfig()` timers (the `local` profile on both sides). */
export const LOCAL_TIMERS: DetectionTimers = {
  probeIntervalMs: 1_000,
  probeTimeoutMs: 200,
  suspicionMult: 3,
  suspicionMaxTimeoutMult: 6,
  gossipIntervalMs: 100,
};

/**
 * Upper bound, in ms, from a crash to every member marking the node dead, for a cluster of `n`
 * members (before the crash):
 *
 *   minSuspicion = suspicionMult * max(1, log10(max(1, n))) * probeInterval  (memberlist util.go)
 *   maxSuspicion = suspicionMaxTimeoutMult * minSuspicion  (Lifeguard starts there, shrinks)
 *   bound = (n - 1) * probeInterval   first probe of the victim (one round-robin pass)
 *         + probeTimeout              direct, then indirect/TCP probe fail
 *         + maxSuspicion              suspicion expires unconfirmed at worst
 *         + 2 * probeInterval         dead gossip reaching every member (many gossip rounds)
 */
export function detectionBoundMs(t: DetectionTimers, n: number): number {
  const minSuspicion =
    t.suspicionMult * Math.max(1, Math.log10(Math.max(1, n))) * t.probeIntervalMs;
  return (
    (n - 1) * t.probeIntervalMs +
    t.probeTimeoutMs +
    t.suspicionMaxTimeoutMult * minSuspicion +
    2 * t.probeIntervalMs
  );
}
