/**
 * Entry of a node process, forked by `LocalCluster` with its {@link NodeHostConfig} as argv[2]
 * (JSON) and an IPC channel. The process lives as long as that channel: when the supervisor
 * dies, however it dies, the channel closes and the node exits at once.
 */
import type { NodeHostConfig, NodeReport } from '../protocol.js';
import { isNodeRequest } from '../protocol.js';
import { NodeHost } from './node-host.js';

/** Sends a report; `then` runs once it is written (or at once when the channel is gone). */
function report(r: NodeReport, then?: () => void): void {
  // A closed channel means the supervisor is gone; 'disconnect' below ends the process.
  if (!process.connected || process.send === undefined) return then?.();
  process.send(r, undefined, {}, () => then?.());
}

/** Closes the channel once `r` is written: the last report of the process. */
function reportAndDisconnect(r: NodeReport): void {
  report(r, () => {
    if (process.connected) process.disconnect();
  });
}

function main(): void {
  if (process.send === undefined) {
    process.stderr.write('node-host: start me with child_process.fork (an IPC channel)\n');
    process.exit(2);
  }
  const config = JSON.parse(process.argv[2] ?? '{}') as NodeHostConfig;
  const host = new NodeHost(config, report);
  process.on('disconnect', () => process.exit());
  // Ctrl-C in a terminal reaches the whole foreground process group: the supervisor stops its
  // nodes itself, in order, so the terminal's SIGINT is not this process's business.
  process.on('SIGINT', () => {});
  process.once('SIGTERM', () => {
    void host.stop().finally(() => process.exit(0));
  });
  process.on('message', (m: unknown) => {
    if (!isNodeRequest(m)) return;
    const { id, ...cmd } = m;
    host.handle(cmd).then(
      (value) => {
        const r: NodeReport = {
          type: 'reply',
          id,
          ok: true,
          ...(value !== undefined ? { value } : {}),
        };
        if (cmd.type === 'stop') reportAndDisconnect(r);
        else report(r);
      },
      (e: unknown) => {
        const r: NodeReport = { type: 'reply', id, ok: false, error: (e as Error).message };
        if (cmd.type !== 'reconfigure') return report(r);
        // The node left and could not start again: a process without a node is of no use; the
        // supervisor shows it exited, and Restart starts it afresh.
        process.exitCode = 1;
        reportAndDisconnect(r);
      },
    );
  });
  host.ready().then(
    (address) => report({ type: 'ready', address, pid: process.pid }),
    (e: unknown) => {
      process.exitCode = 1;
      reportAndDisconnect({ type: 'fatal', error: (e as Error).message });
    },
  );
}

main();
