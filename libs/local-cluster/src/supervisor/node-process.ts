/**
 * One node process seen from the supervisor: `child_process.fork` of the node host with an IPC
 * channel, its start (resolved by `ready`, rejected by `fatal` or an early exit), its commands
 * (each answered by one reply), SIGKILL, and a graceful stop bounded in time.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import {
  isNodeReport,
  type NodeCommand,
  type NodeHostConfig,
  type NodeReport,
} from '../protocol.js';

/** What a node process tells its owner. */
export interface NodeProcessHandlers {
  /** Every report but replies (those settle {@link NodeProcess.request}). */
  readonly onReport: (r: NodeReport) => void;
  /** The process ended (after a kill, a stop, a crash); `code` or `signal` says how. */
  readonly onExit: (code: number | null, signal: NodeJS.Signals | null) => void;
  /** A line the process wrote on stdout or stderr. */
  readonly onOutput: (line: string) => void;
}

/** How long a command may take before it rejects (a reconfigure restarts the node). */
const REQUEST_TIMEOUT_MS = 30_000;

export class NodeProcess {
  private child: ChildProcess;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (v: string | undefined) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
  >();
  private exited = false;
  /** Resolves when the process has exited. */
  readonly exit: Promise<void>;
  /** Resolves with the bound address once the node runs. */
  readonly ready: Promise<string>;

  constructor(script: string, config: NodeHostConfig, handlers: NodeProcessHandlers) {
    this.child = fork(script, [JSON.stringify(config)], {
      // Pipes, not the terminal: a full-screen front-end owns it; lines go to onOutput.
      silent: true,
      execArgv: [],
      serialization: 'json',
    });
    for (const stream of [this.child.stdout, this.child.stderr]) {
      if (stream) createInterface({ input: stream }).on('line', handlers.onOutput);
    }
    let readyResolve!: (a: string) => void;
    let readyReject!: (e: Error) => void;
    this.ready = new Promise((resolve, reject) => {
      readyResolve = resolve;
      readyReject = reject;
    });
    // Nobody may wait for ready (a restart the caller does not await): no unhandled rejection.
    this.ready.catch(() => undefined);
    this.child.on('message', (m: unknown) => {
      if (!isNodeReport(m)) return;
      if (m.type === 'reply') {
        const p = this.pending.get(m.id);
        if (p === undefined) return;
        this.pending.delete(m.id);
        clearTimeout(p.timer);
        if (m.ok) p.resolve(m.value);
        else p.reject(new Error(m.error ?? 'failed'));
        return;
      }
      if (m.type === 'ready') readyResolve(m.address);
      if (m.type === 'fatal') readyReject(new Error(m.error));
      handlers.onReport(m);
    });
    this.exit = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exited = true;
        readyReject(new Error(`exited (${signal ?? `code ${String(code)}`}) before it was ready`));
        for (const p of this.pending.values()) {
          clearTimeout(p.timer);
          p.reject(new Error('the node process exited'));
        }
        this.pending.clear();
        handlers.onExit(code, signal);
        resolve();
      });
    });
    this.child.on('error', () => undefined);
  }

  /** The process id. */
  get pid(): number | null {
    return this.child.pid ?? null;
  }

  /** Whether the process has exited. */
  get hasExited(): boolean {
    return this.exited;
  }

  /** Sends a command; resolves with its reply's value. */
  request(cmd: NodeCommand): Promise<string | undefined> {
    if (this.exited || !this.child.connected) {
      return Promise.reject(new Error('the node process is not running'));
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${cmd.type}: no answer within ${REQUEST_TIMEOUT_MS} ms`));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      this.child.send({ ...cmd, id }, (e) => {
        if (e === null || e === undefined) return;
        const p = this.pending.get(id);
        if (p === undefined) return;
        this.pending.delete(id);
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  /** SIGKILL: the node stops at once, without leaving; resolves once the process is gone. */
  async kill(): Promise<void> {
    if (!this.exited) this.child.kill('SIGKILL');
    await this.exit;
  }

  /**
   * Graceful stop: the node leaves the cluster and exits; after `timeoutMs` it is killed.
   * Resolves once the process is gone.
   */
  async stop(timeoutMs: number): Promise<void> {
    if (this.exited) return;
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    this.request({ type: 'stop' }).catch(() => undefined);
    await this.exit;
    clearTimeout(timer);
  }

  /** SIGKILL without waiting (the supervisor is exiting). */
  killNow(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}
