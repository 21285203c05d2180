/**
 * `plumtree agent`: runs one node (SWIM membership and one Plumtree tree per subscribed topic)
 * until SIGINT/SIGTERM, then leaves gracefully and exits 0.
 *
 * With `--json` every event is one JSON line on stdout:
 * - membership: `{"event":"ready"|"join"|"leave"|"fail"|"update","node":...,"addr":"host:port"}`
 *   (the ready line also carries `"http":"host:port"`, the bound port when `--http` asked for 0);
 * - SWIM user messages: `{"event":"user","from":...,"data":<utf8>}` (the topic directory's own
 *   user broadcasts are not printed);
 * - deliveries of `--topics`: `{"event":"message","topic","id","origin","hops","from","data"}`,
 *   `data` the UTF-8 of the payload bytes;
 * - stdin publishes: `{"event":"published","topic","id"}` or `{"event":"publish-error","topic","error"}`.
 *
 * stdin lines: `publish TOPIC TEXT` publishes TEXT's bytes, `broadcast TEXT` queues a SWIM user
 * broadcast (piggybacked by this node only, as memberlist does), `user NODE TEXT` sends a SWIM
 * user message.
 */
import { createInterface } from 'node:readline';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { peekDirectoryKind, PlumtreeNode, type Delivery } from '@plumtree/cluster';
import {
  FilteringTransport,
  joinHostPort,
  resolveSwimConfig,
  UdpTcpTransport,
  type SwimEvent,
} from '@plumtree/swim';
import type { AgentArgs } from './cli-args.js';
import { serveHttp } from './http-api.js';

/** How long a graceful leave may take before the agent exits anyway. */
const LEAVE_TIMEOUT_MS = 5_000;

/** The `event` of the line printed for each membership event (`join NAME ADDR`, ...). */
const MEMBER_EVENT_NAMES = {
  'member-join': 'join',
  'member-left': 'leave',
  'member-failed': 'fail',
  'member-update': 'update',
} as const satisfies Partial<Record<SwimEvent['type'], string>>;

/** Blocks the event loop for `ms`: the hidden `--handler-delay-ms` slow handler. */
function busyWait(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin: a synchronous handler that takes this long
  }
}

/** Runs the agent; resolves with the exit code once it has stopped. */
export async function runAgent(args: AgentArgs): Promise<number> {
  const out = (obj: Record<string, unknown>, text: string): void => {
    process.stdout.write(args.json ? `${JSON.stringify(obj)}\n` : `${text}\n`);
  };
  // --durable topics are subscribed too.
  const subscribed = [...new Set([...args.topics, ...args.durable])];
  // The hidden fault switch wraps the sockets so `POST /fault` can cut this node off from peers.
  let fault: FilteringTransport | undefined;
  if (args.faultControl) {
    const base = resolveSwimConfig({ preset: args.profile, name: args.name });
    fault = new FilteringTransport(
      await UdpTcpTransport.bind({
        bindAddr: args.bindHost,
        bindPort: args.bindPort,
        maxPacketBytes: base.udpBufferSize,
        streamTimeoutMs: base.tcpTimeoutMs,
      }),
    );
  }
  const node = await PlumtreeNode.start({
    name: args.name,
    bindAddr: args.bindHost,
    bindPort: args.bindPort,
    ...(fault !== undefined ? { transport: fault } : {}),
    ...(args.dataDir !== null ? { dataDir: args.dataDir } : { persistence: false }),
    staticSeeds: args.staticSeeds,
    ...(args.lazarusIntervalMs !== undefined
      ? { lazarus: { intervalMs: args.lazarusIntervalMs } }
      : {}),
    durable: {
      topics: args.durable,
      ...(args.retentionMs !== undefined ? { retentionMs: args.retentionMs } : {}),
      ...(args.maxMessages !== undefined ? { maxMessages: args.maxMessages } : {}),
    },
    keys: args.keys,
    label: args.label,
    swim: { preset: args.profile },
    topics: subscribed,
    leaveTimeoutMs: LEAVE_TIMEOUT_MS,
    ...(args.maxQueueBytes !== undefined ? { maxQueueBytes: args.maxQueueBytes } : {}),
    ...(args.maxPendingDeliveries !== undefined
      ? { maxPendingDeliveries: args.maxPendingDeliveries }
      : {}),
  });
  const swim = node.swimNode;
  const addrOf = (from: string): string =>
    swim.allMembers().find((m) => m.address === from)?.name ?? from;
  swim.events$.subscribe((e: SwimEvent) => {
    switch (e.type) {
      case 'member-join':
      case 'member-left':
      case 'member-failed':
      case 'member-update': {
        const event = MEMBER_EVENT_NAMES[e.type];
        out(
          { event, node: e.member.name, addr: e.member.address },
          `${event} ${e.member.name} ${e.member.address}`,
        );
        break;
      }
      case 'user-message': {
        // The topic directory travels as user broadcasts too; those are the node's business.
        if (peekDirectoryKind(e.payload) !== undefined) break;
        const data = Buffer.from(e.payload).toString('utf8');
        const from = addrOf(e.from);
        out({ event: 'user', from, data }, `user ${from} ${data}`);
        break;
      }
      default:
        break;
    }
  });

  // One observer per topic or pattern; a message matching several is printed once (the node
  // hands the same Delivery object to every matching observer).
  const printed = new WeakSet<Delivery>();
  const onDelivery = (d: Delivery): void => {
    if (printed.has(d)) return;
    printed.add(d);
    if (args.handlerDelayMs > 0) busyWait(args.handlerDelayMs);
    const data = Buffer.from(d.raw.buffer, d.raw.byteOffset, d.raw.byteLength).toString('utf8');
    out(
      {
        event: 'message',
        topic: d.topic,
        id: d.id,
        origin: d.origin,
        hops: d.hops,
        from: d.receivedFrom,
        data,
      },
      `message ${d.topic} ${d.id} from ${d.receivedFrom} hops ${d.hops.toString()}: ${data}`,
    );
  };
  for (const t of subscribed) node.subscribe(t).subscribe({ next: onDelivery });

  let server: Server | null = null;
  let http: string | undefined;
  if (args.http) {
    server = await serveHttp(node, args.http.host, args.http.port, fault);
    http = joinHostPort(args.http.host, (server.address() as AddressInfo).port);
  }
  const self = swim.localMember;
  out(
    { event: 'ready', node: self.name, addr: self.address, ...(http ? { http } : {}) },
    `ready ${self.name} ${self.address}${http ? ` http ${http}` : ''}`,
  );
  if (args.join.length > 0) {
    // Joined after `ready` (not through the node's `seeds`), so a node no seed admits still runs
    // and reports, as memberlist's agent does.
    try {
      await swim.join(args.join);
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
      if (cmd === 'publish') {
        const p = /^(\S+)\s?([\s\S]*)$/.exec(rest);
        if (!p) {
          process.stderr.write(`plumtree agent: usage: publish TOPIC TEXT\n`);
          return;
        }
        const topic = p[1]!;
        node.publish(topic, Buffer.from(p[2] ?? '', 'utf8')).then(
          (id) => out({ event: 'published', topic, id }, `published ${topic} ${id}`),
          (e: unknown) => {
            const error = (e as Error).message;
            if (args.json) out({ event: 'publish-error', topic, error }, '');
            process.stderr.write(`plumtree agent: publish ${topic}: ${error}\n`);
          },
        );
      } else if (cmd === 'broadcast') swim.queueBroadcast(Buffer.from(rest, 'utf8'));
      else if (cmd === 'user') {
        const u = /^(\S+)\s?(.*)$/.exec(rest);
        if (!u || !swim.sendUserMessage(u[1]!, Buffer.from(u[2] ?? '', 'utf8'))) {
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
        .leave()
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
