/**
 * SIGTERM and SIGINT for a process that leaves gracefully: the first (what `docker stop`,
 * systemd and Ctrl-C send) starts the leave; a second one, of either kind, means "now" and exits
 * at once with 128 + its number, the code a shell reports for a process killed by that signal.
 *
 * Started by npm (`npx plumtree`, `npm run plumtree`), the process is npm's grandchild through a
 * `sh -c`: npm passes a SIGTERM to that shell, which dies of it without passing it on. So under
 * npm the process also watches its parent, and its parent's death counts as the first signal.
 */
import { constants } from 'node:os';

/** The signals that ask the process to stop. */
export const SHUTDOWN_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * Listens for the shutdown signals until the returned function is called: `leave` runs on the
 * first (or, started by npm, when the parent is gone), `exit` on the second (by default
 * `process.exit`). The listeners stay installed after the
 * first signal (a `once` listener would hand the second to Node's default, a kill with no word).
 */
export function onShutdownSignals(
  leave: (signal: NodeJS.Signals) => void,
  exit: (code: number) => void = (code) => process.exit(code),
): () => void {
  let leaving = false;
  const startLeave = (signal: NodeJS.Signals, why: string): void => {
    leaving = true;
    process.stderr.write(`plumtree: ${why}, leaving the cluster (a second signal exits now)\n`);
    leave(signal);
  };
  const handler = (signal: NodeJS.Signals): void => {
    if (!leaving) return startLeave(signal, signal);
    process.stderr.write(`plumtree: ${signal} while leaving, exiting now\n`);
    exit(128 + constants.signals[signal]);
  };
  for (const s of SHUTDOWN_SIGNALS) process.on(s, handler);
  const parentWatch = startedByNpm()
    ? watchParent(() => {
        if (!leaving) startLeave('SIGTERM', 'the parent process (npm) is gone');
      })
    : undefined;
  return () => {
    for (const s of SHUTDOWN_SIGNALS) process.off(s, handler);
    if (parentWatch !== undefined) clearInterval(parentWatch);
  };
}

/** How often the parent is checked: well under the seconds `docker stop` waits before a kill. */
const PARENT_CHECK_MS = 250;

/** npm sets `npm_command` in the environment of what it runs (`exec` for npx, `run-script`). */
function startedByNpm(): boolean {
  return process.env['npm_command'] !== undefined;
}

/**
 * Calls `onExit` once when the parent process is gone (the process is re-parented, so its
 * `ppid` changes). The check does not keep the process alive.
 */
function watchParent(onExit: () => void): NodeJS.Timeout {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onExit();
  }, PARENT_CHECK_MS);
  timer.unref();
  return timer;
}
