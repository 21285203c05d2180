/**
 * One `plumtree agent` process inside its lab namespace (netns.ts), watched through stdio only:
 * its JSON lines go into the history (history.ts), stdin carries `publish`, `stats`, `memory`,
 * `members` and the hidden `drop-every`. Signals make the process faults: SIGKILL, SIGSTOP and SIGCONT.
 *
 * `ip netns exec` enters the namespace and execs node, so the child's pid is the agent's own: the
 * signals reach it and /proc/<pid> shows its memory and file descriptors.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { History, MemberChange } from './history.js';
import type { NetLab } from './netns.js';

/** How one agent runs. */
export interface LabAgentSpec {
  readonly name: string;
  /** Non-durable topics. */
  readonly topics: readonly string[];
  readonly durable: readonly string[];
  /** Kept across restarts (peers, incarnation, durable logs). */
  readonly dataDir: string;
  readonly profile: 'lan' | 'local';
  /** More flags (e.g. the hidden `--handler-delay-ms`). */
  readonly extraArgs?: readonly string[];
  /** Flags of node itself (e.g. `--expose-gc`, so `memory` samples what is retained). */
  readonly nodeFlags?: readonly string[];
}

/** SWIM and frame port of every agent (each has its own address). */
export const AGENT_PORT = 7946;

const MEMBER_CHANGES = new Set<string>(['join', 'leave', 'fail', 'suspect', 'update']);
const STDERR_KEEP = 8_192;

/** Memory and descriptors of a process, read from /proc. */
export interface ProcSample {
  readonly rssBytes: number;
  readonly fds: number;
}

/** Reads /proc/<pid>: resident set size and open descriptors; undefined when it is gone. */
export function sampleProc(pid: number): ProcSample | undefined {
  try {
    const status = readFileSync(`/proc/${pid.toString()}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    const fds = readdirSync(`/proc/${pid.toString()}/fd`).length;
    return { rssBytes: kb ? Number(kb[1]) * 1024 : 0, fds };
  } catch {
    return undefined;
  }
}

/** See the file header. One object per node; {@link start} spawns a new life each time. */
export class LabAgent {
  private child: ChildProcess | undefined;
  private exitPromise: Promise<void> = Promise.resolve();
  private stderr = '';
  private readonly replies = new Map<string, ((line: Record<string, unknown>) => void)[]>();
  /** Deliveries lost on purpose under {@link dropEvery}, over every life. */
  readonly dropped: { readonly topic: string; readonly id: string }[] = [];
  /** Whether the process is stopped by SIGSTOP. */
  paused = false;
  /** Lives started. */
  lives = 0;

  constructor(
    private readonly lab: NetLab,
    private readonly history: History,
    private readonly repoRoot: string,
    readonly spec: LabAgentSpec,
  ) {}

  get name(): string {
    return this.spec.name;
  }

  /** `addr:port` of SWIM and the frames. */
  get address(): string {
    return `${this.lab.host(this.name).addr}:${AGENT_PORT.toString()}`;
  }

  /** Whether a process runs (also when paused). */
  get running(): boolean {
    return this.child !== undefined;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The last few KiB of stderr (for failure messages). */
  get stderrTail(): string {
    return this.stderr;
  }

  /**
   * Spawns a new life joining `join` (with every other node as a static seed); resolves once it
   * printed `ready`, rejects if it exits first or after `timeoutMs`.
   */
  async start(
    join: readonly string[],
    staticSeeds: readonly string[],
    timeoutMs = 30_000,
  ): Promise<void> {
    if (this.child !== undefined) throw new Error(`${this.name} is running`);
    const s = this.spec;
    const all = [...s.topics, ...s.durable];
    const argv = [
      process.execPath,
      ...(s.nodeFlags ?? []),
      `${this.repoRoot}/apps/cli/dist/main.js`,
      'agent',
      '--name',
      s.name,
      '--bind',
      this.address,
      '--profile',
      s.profile,
      '--json',
      '--data-dir',
      s.dataDir,
      ...(all.length > 0 ? ['--topics', all.join(',')] : []),
      ...(s.durable.length > 0 ? ['--durable', s.durable.join(',')] : []),
      ...(join.length > 0 ? ['--join', join.join(',')] : []),
      ...(staticSeeds.length > 0
        ? ['--static-seeds', staticSeeds.join(','), '--lazarus-interval-ms', '5000']
        : []),
      ...(s.extraArgs ?? []),
    ];
    const { cmd, args } = this.lab.execArgs(this.name, argv);
    const child = spawn(cmd, args, { cwd: this.repoRoot, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    this.paused = false;
    this.lives++;
    this.history.record({
      kind: 'start',
      at: Date.now(),
      node: s.name,
      topics: all,
      durable: [...s.durable],
    });
    child.stdin?.on('error', () => undefined);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-STDERR_KEEP);
    });
    let onReady: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => (onReady = resolve));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (this.onLine(line) === 'ready') onReady();
    });
    this.exitPromise = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.history.record({ kind: 'exit', at: Date.now(), node: s.name, code, signal });
        if (this.child === child) this.child = undefined;
        this.paused = false;
        for (const list of this.replies.values()) list.splice(0);
        resolve();
      });
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        ready,
        this.exitPromise.then(() => {
          throw new Error(`${this.name} exited before ready: ${this.stderr.trim()}`);
        }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new Error(
                  `${this.name} printed no ready line within ${timeoutMs.toString()} ms: ${this.stderr.trim()}`,
                ),
              ),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Asks the agent to publish `data` on `topic` (recorded); false when no process runs. */
  publish(topic: string, data: string): boolean {
    const stdin = this.child?.stdin;
    if (stdin == null || !stdin.writable) return false;
    this.history.record({ kind: 'publish', at: Date.now(), node: this.name, topic, data });
    stdin.write(`publish ${topic} ${data}\n`);
    return true;
  }

  /**
   * Sends `stats`, `memory`, `members` or the hidden `drop-every N` and resolves with the answer
   * line (its event is the command's first word); undefined when the process is gone, paused, or
   * silent for `timeoutMs`.
   */
  request(
    cmd: 'stats' | 'memory' | 'members' | `drop-every ${number}`,
    timeoutMs = 5_000,
  ): Promise<Record<string, unknown> | undefined> {
    const stdin = this.child?.stdin;
    if (stdin == null || !stdin.writable || this.paused) return Promise.resolve(undefined);
    const event = cmd.split(' ')[0]!;
    return new Promise((resolve) => {
      const list = this.replies.get(event) ?? [];
      this.replies.set(event, list);
      const timer = setTimeout(() => {
        const k = list.indexOf(answer);
        if (k >= 0) list.splice(k, 1);
        resolve(undefined);
      }, timeoutMs);
      const answer = (line: Record<string, unknown>): void => {
        clearTimeout(timer);
        resolve(line);
      };
      list.push(answer);
      stdin.write(`${cmd}\n`);
    });
  }

  /**
   * Makes this agent a deliberately broken build (the agent's hidden `drop-every`): from now on it
   * loses every `n`th delivery before its handler, and {@link dropped} lists them; 0 ends it.
   */
  async dropEvery(n: number): Promise<void> {
    if ((await this.request(`drop-every ${n}`)) === undefined) {
      throw new Error(`${this.name} did not answer drop-every ${n.toString()}`);
    }
  }

  /** Sends `signal`; SIGSTOP and SIGCONT update {@link paused}. */
  signal(signal: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT' | 'SIGTERM'): void {
    if (this.child === undefined) throw new Error(`${this.name} is not running`);
    this.child.kill(signal);
    if (signal === 'SIGSTOP') this.paused = true;
    if (signal === 'SIGCONT') this.paused = false;
  }

  /** Resolves once the current process (if any) has exited. */
  exited(): Promise<void> {
    return this.exitPromise;
  }

  /** Stops the process: SIGTERM (a graceful leave), SIGKILL if it is still there after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.child === undefined) return;
    if (this.paused) this.signal('SIGCONT');
    this.signal('SIGTERM');
    const t = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    await this.exitPromise;
    clearTimeout(t);
  }

  /** Memory and descriptors of the running process. */
  sample(): ProcSample | undefined {
    return this.pid === undefined ? undefined : sampleProc(this.pid);
  }

  /** Records one stdout line; returns its event name. */
  private onLine(line: string): string | undefined {
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return undefined;
    }
    const event = o['event'];
    if (typeof event !== 'string') return undefined;
    const at = typeof o['at'] === 'number' ? o['at'] : Date.now();
    const str = (k: string): string => (typeof o[k] === 'string' ? (o[k] as string) : '');
    const node = this.name;
    if (event === 'message') {
      this.history.record({
        kind: 'deliver',
        at,
        node,
        topic: str('topic'),
        id: str('id'),
        data: str('data'),
        redelivered: o['redelivered'] === true,
      });
    } else if (event === 'published') {
      this.history.record({
        kind: 'ack',
        at,
        node,
        topic: str('topic'),
        data: str('data'),
        id: str('id'),
      });
    } else if (event === 'publish-error') {
      this.history.record({
        kind: 'publish-error',
        at,
        node,
        topic: str('topic'),
        data: str('data'),
        error: str('error'),
      });
    } else if (MEMBER_CHANGES.has(event)) {
      this.history.record({
        kind: 'member',
        at,
        node,
        change: event as MemberChange,
        member: str('node'),
      });
    } else if (event === 'durable') {
      this.history.record({
        kind: 'durable',
        at,
        node,
        type: str('type'),
        topic: str('topic'),
        peer: str('peer'),
        records: typeof o['records'] === 'number' ? o['records'] : 0,
      });
    } else if (event === 'ready') {
      this.history.record({ kind: 'ready', at, node });
    } else if (event === 'dropped') {
      // Not history: the checker must find these on its own.
      this.dropped.push({ topic: str('topic'), id: str('id') });
    } else {
      this.replies.get(event)?.shift()?.(o);
    }
    return event;
  }
}
