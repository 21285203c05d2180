/**
 * `plumtree agent`: runs one SWIM node until SIGINT/SIGTERM, then leaves gracefully and exits 0.
 * With `--json` every membership event is one JSON line on stdout:
 * `{"event":"ready"|"join"|"leave"|"fail"|"update","node":...,"addr":"host:port"}` and
 * `{"event":"user","from":...,"data":<utf8>}`; the ready line also carries `"http":"host:port"` (the
 * bound port when `--http` asked for port 0). stdin lines `broadcast TEXT` queue a user broadcast
 * (piggybacked by this node only, as memberlist does) and `user NODE TEXT` send a user message.
 */
import { createInterface } from 'node:readline';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { joinHostPort, SwimNode, type SwimEvent } from '@plumtree/swim';
import type { AgentArgs } from './cli-args.js';
import { serveHttp } from './http-api.js';

/** How long a graceful leave may take before the agent exits anyway. */
const LEAVE_TIMEOUT_MS = 5_000;

/** Runs the agent; resolves with the exit code once it has stopped. */
export async function runAgent(args: AgentArgs): Promise<number> {
  const out = (obj: Record<string, unknown>, text: string): void => {
    process.stdout.write(args.json ? `${JSON.stringify(obj)}\n` : `${text}\n`);
  };
  const node = await SwimNode.start({
    name: args.name,
    bindAddr: args.bindHost,
    bindPort: args.bindPort,
    keys: args.keys,
    label: args.label,
    config: { preset: args.profile },
  });
  const addrOf = (from: string): string =>
    node.allMembers().find((m) => m.address === from)?.name ?? from;
  node.events$.subscribe((e: SwimEvent) => {
    switch (e.type) {
      case 'member-join':
        out(
          { event: 'join', node: e.member.name, addr: e.member.address },
          `join ${e.member.name} ${e.member.address}`,
        );
        break;
      case 'member-left':
        out(
          { event: 'leave', node: e.member.name, addr: e.member.address },
          `leave ${e.member.name} ${e.member.address}`,
        );
        break;
      case 'member-failed':
        out(
          { event: 'fail', node: e.member.name, addr: e.member.address },
          `fail ${e.member.name} ${e.member.address}`,
        );
        break;
      case 'member-update':
        out(
          { event: 'update', node: e.member.name, addr: e.member.address },
          `update ${e.member.name} ${e.member.address}`,
        );
        break;
      case 'user-message': {
        const data = Buffer.from(e.payload).toString('utf8');
        const from = addrOf(e.from);
        out({ event: 'user', from, data }, `user ${from} ${data}`);
        break;
      }
      default:
        break;
    }
  });
  let server: Server | null = null;
  let http: string | undefined;
  if (args.http) {
    server = await serveHttp(node, args.http.host, args.http.port);
    http = joinHostPort(args.http.host, (server.address() as AddressInfo).port);
  }
  const self = node.localMember;
  out(
    { event: 'ready', node: self.name, addr: self.address, ...(http ? { http } : {}) },
    `ready ${self.name} ${self.address}${http ? ` http ${http}` : ''}`,
  );
  if (args.join.length > 0) {
    try {
      await node.join(args.join);
    } catch (e) {
      process.stderr.write(`plumtree agent: ${(e as Error).message}\n`);
    }
  }
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    const m = /^\s*(\S+)\s*(.*)$/.exec(line);
    if (!m || node.isClosed) return;
    const [, cmd, rest] = m as unknown as [string, string, string];
    try {
      if (cmd === 'broadcast') node.queueBroadcast(Buffer.from(rest, 'utf8'));
      else if (cmd === 'user') {
        const u = /^(\S+)\s?(.*)$/.exec(rest);
        if (!u || !node.sendUserMessage(u[1]!, Buffer.from(u[2] ?? '', 'utf8'))) {
          process.stderr.write(`plumtree agent: unknown member in ${JSON.stringify(line)}\n`);
        }
      } else process.stderr.write(`plumtree agent: unknown stdin command ${JSON.stringify(cmd)}\n`);
    } catch (e) {
      process.stderr.write(`plumtree agent: ${(e as Error).message}\n`);
    }
  });
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      rl.close();
      void node
        .leave(LEAVE_TIMEOUT_MS)
        .catch(() => node.close())
        .then(
          () =>
            new Promise<void>((r) => {
              if (!server) return r();
              server.close(() => r());
              // close() waits for idle keep-alive connections (a poller of /members keeps one
              // open forever): end them now, the node has already left.
              server.closeAllConnections();
            }),
        )
        .then(() => resolve(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
