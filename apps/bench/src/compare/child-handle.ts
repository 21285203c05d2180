/**
 * The parent's handle on one forked subscriber or publisher of `bench:compare`: the latest
 * counters it pushed, request/answer over IPC with a bound, and a stop that never leaves it
 * running (IPC `close`, then SIGKILL after {@link STOP_TIMEOUT_MS}).
 */
import { fork, type ChildProcess } from 'node:child_process';
import type {
  ChildConfig,
  FromChild,
  PublisherProgress,
  SubscriberProgress,
  ToChild,
} from './compare-protocol.js';
import { stopProcess, track } from './process-registry.js';

/** Where children write CPU profiles (`BENCH_CPU_PROF`), or undefined for none. */
const PROFILE_DIR = process.env['BENCH_CPU_PROF'];

/** How long a child may take to close its transport before it is killed. */
const STOP_TIMEOUT_MS = 10_000;

type Answer<T extends FromChild['type']> = Extract<FromChild, { type: T }>;

/** One forked child; see the file comment. */
export class ChildHandle {
  /** The last counters pushed (subscriber or publisher). */
  progress: SubscriberProgress | undefined;
  pubProgress: PublisherProgress | undefined;
  /** Ours: the node's `host:port`, from its `ready` message. */
  addr: string | undefined;
  private readonly waiting = new Map<string, ((m: FromChild) => void)[]>();
  private stopping = false;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    log: (line: string) => void,
  ) {
    child.on('message', (raw: unknown) => {
      const m = raw as FromChild;
      if (m.type === 'progress') this.progress = m;
      else if (m.type === 'pub-progress') this.pubProgress = m;
      else if (m.type === 'ready') this.addr = m.addr;
      else if (m.type === 'error') log(m.message);
      this.waiting.get(m.type)?.shift()?.(m);
    });
    child.once('exit', (code, signal) => {
      if (!this.stopping) log(`${name} exited unexpectedly (${String(code ?? signal)})`);
    });
  }

  /** Forks `script` with `cfg` (stdout and stderr shared with the bench). */
  static fork(script: string, cfg: ChildConfig, log: (line: string) => void): ChildHandle {
    const child = track(
      fork(script, [JSON.stringify(cfg)], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        // BENCH_CPU_PROF=DIR: each child writes a V8 CPU profile there when it exits
        // (docs/performance.md, "Profiles").
        ...(PROFILE_DIR ? { execArgv: ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR] } : {}),
        // Latencies travel as Float64Array.
        serialization: 'advanced',
      }),
    );
    return new ChildHandle(cfg.name, child, log);
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.name} has no pid`);
    return this.child.pid;
  }

  /** Whether the process has exited. */
  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  send(m: ToChild): void {
    if (this.child.connected) this.child.send(m);
  }

  /** The next message of `type`; rejects after `timeoutMs` or when the child exits first. */
  next<T extends FromChild['type']>(type: T, timeoutMs: number): Promise<Answer<T>> {
    return new Promise((resolve, reject) => {
      let list = this.waiting.get(type);
      if (list === undefined) this.waiting.set(type, (list = []));
      const waiters = list;
      const done = (): void => {
        clearTimeout(timer);
        this.child.removeListener('exit', onExit);
        const at = waiters.indexOf(waiter);
        if (at >= 0) waiters.splice(at, 1);
      };
      const waiter = (m: FromChild): void => {
        done();
        resolve(m as Answer<T>);
      };
      const onExit = (): void => {
        done();
        reject(new Error(`${this.name} exited before sending ${type}`));
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.name}: no ${type} within ${timeoutMs.toString()} ms`));
      }, timeoutMs);
      if (this.exited) return onExit();
      this.child.once('exit', onExit);
      waiters.push(waiter);
    });
  }

  /** Sends `m` and waits for the answer of `type`. */
  request<T extends FromChild['type']>(m: ToChild, type: T, timeoutMs: number): Promise<Answer<T>> {
    const answer = this.next(type, timeoutMs);
    this.send(m);
    return answer;
  }

  /** Closes the child's transport and waits for its exit (killed after STOP_TIMEOUT_MS). */
  stop(): Promise<void> {
    this.stopping = true;
    return stopProcess(this.child, () => this.send({ type: 'close' }), STOP_TIMEOUT_MS);
  }
}
