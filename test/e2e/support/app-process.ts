// A built app (dist/) run as a child process by the e2e tests of the demos (web chat, terminal
// chat): its stdout lines, a bounded wait for one, a signal and its exit, and whether processes
// it started are gone. Every wait is bounded; nothing sleeps a fixed time.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** Repository root (this file is test/e2e/support/). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** One running app. */
export class AppProcess {
  readonly lines: string[] = [];
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly waiters = new Set<() => void>();

  private constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (l) => {
      this.lines.push(l);
      for (const w of [...this.waiters]) w();
    });
    child.stderr!.on('data', (d: Buffer) => process.stderr.write(d));
    this.exit = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        for (const w of [...this.waiters]) w();
        resolve({ code, signal });
      });
    });
  }

  /** `node <script> ...args` from the repository root. */
  static start(script: string, args: readonly string[]): AppProcess {
    return new AppProcess(
      spawn(process.execPath, [script, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }),
    );
  }

  /** Resolves with the first stdout line matching `re`; rejects after `timeoutMs` or on exit. */
  waitForLine(re: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        for (const l of this.lines) {
          const m = re.exec(l);
          if (m) return done(() => resolve(m));
        }
        if (this.child.exitCode !== null || this.child.signalCode !== null) {
          done(() =>
            reject(new Error(`exited before printing ${String(re)}:\n${this.lines.join('\n')}`)),
          );
        }
      };
      const timer = setTimeout(
        () =>
          done(() =>
            reject(
              new Error(`no line ${String(re)} within ${timeoutMs} ms:\n${this.lines.join('\n')}`),
            ),
          ),
        timeoutMs,
      );
      const done = (settle: () => void): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        settle();
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Sends `signal`; resolves with how the process exited (SIGKILL after `timeoutMs`). */
  async stop(
    signal: NodeJS.Signals,
    timeoutMs: number,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const r = await this.exit;
    clearTimeout(timer);
    return r;
  }
}

/** Whether a process with this pid runs (signal 0 probes without sending anything). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
