/**
 * `plumtree agent`: runs one node (SWIM membership and one Plumtree tree per subscribed topic)
 * until SIGINT/SIGTERM, then leaves gracefully and exits 0; a second signal exits at once
 * (shutdown-signals.ts). Run as the `plumtree` bin, the node is this very process, so the signals
 * of `docker stop`, systemd or Ctrl-C reach it.
 *
 * With `--json` every event is one JSON line on stdout, each with `"at"` (wall clock, ms):
 * - membership: `{"event":"ready"|"join"|"leave"|"fail"|"update","node":...,"addr":"host:port"}`
 *   (the ready line also carries `"http":"host:port"`, the bound port when `--http` asked for 0),
 *   `suspect` and durable catch-up lines (agent-introspection.ts). `ready` comes once the node
 *   has joined `--join` (retrying with backoff while no seed answers, for `--join-timeout-ms`;
 *   then the agent exits 1 with the join error) or at once without `--join`;
 * - SWIM user messages: `{"event":"user","from":...,"data":<utf8>}` (the topic directory's own
 *   user broadcasts are not printed);
 * - deliveries of `--topics`: `{"event":"message","topic","id","origin","hops","from","data"}`,
 *   `data` the UTF-8 of the payload bytes, `"redelivered":true` on a durable message handed again
 *   after a crash;
 * - stdin publishes: `{"event":"published","topic","id","data"}` or
 *   `{"event":"publish-error","topic","error","data"}`.
 *
 * stdin lines: `publish TOPIC TEXT` publishes TEXT's bytes, `broadcast TEXT` queues a SWIM user
 * broadcast (piggybacked by this node only, as memberlist does), `user NODE TEXT` sends a SWIM
 * user message; `stats`, `memory` and `members` print one line each (agent-introspection.ts).
 * Hidden: `drop-every N` makes this agent a deliberately broken build for the fault suite's own
 * check (test/faults): from then on every Nth delivery is lost before the handler, printed as
 * `{"event":"dropped","topic","id"}` instead of a message line (`drop-every 0` ends it; the
 * answer is `{"event":"drop-every","n":N}`).
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
import { HTTP_TOKEN_ENV, type AgentArgs } from './cli-args.js';
import { introspect, printDurableEvent, printSuspicion } from './agent-introspection.js';
import { isLoopbackHost, serveHttp } from './http-api.js';
import { onShutdownSignals } from './shutdown-signals.js';

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

/**
 * The warnings printed once at start (stderr) about what is open (docs/security.md): a
 * non-loopback bind without `--key` (anyone who reaches the port joins, reads and publishes) and
 * an HTTP API without a token (any local process may use it; the agent allows that on loopback).
 * `nodeWarns`: the node binds its sockets itself and so gives the keyless warning already
 * (`PLUMTREE_NO_KEYS`); the agent then does not repeat it. It binds them itself only for
 * `--fault-control`, and a node given its transport does not warn.
 */
export function startWarnings(
  args: AgentArgs,
  http: string | undefined,
  nodeWarns: boolean,
): string[] {
  const out: string[] = [];
  if (!nodeWarns && args.keys.length === 0 && !isLoopbackHost(args.bindHost)) {
    out.push(
      `no --key: anyone who reaches ${joinHostPort(args.bindHost, args.bindPort)} can join the cluster, read every topic and publish (docs/security.md)`,
    );
  }
  if (http !== undefined && args.httpToken === null) {
    out.push(
      `the HTTP API on ${http} is unauthenticated: any process on this host may read the cluster and publish (browsers are refused); set --http-token or ${HTTP_TOKEN_ENV} (docs/security.md)`,
    );
  }
  return out;
}

/** Runs the agent; resolves with the exit code once it has stopped. */
export async function runAgent(args: AgentArgs): Promise<number> {
  const out = (obj: Record<string, unknown>, text: string): void => {
    process.stdout.write(
      args.json ? `${JSON.stringify({ ...obj, at: Date.now() })}\n` : `${text}\n`,
    );
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
    seeds: args.join,
    ...(args.joinTimeoutMs !== undefined ? { joinTimeoutMs: args.joinTimeoutMs } : {}),
    keys: args.keys,
    label: args.label,
    swim: { preset: args.profile },
    topics: subscribed,
    leaveTimeoutMs: LEAVE_TIMEOUT_MS,
    ...(args.maxQueueBytes !== undefined ? { maxQueueBytes: args.maxQueueBytes } : {}),
    ...(args.maxPendingDeliveries !== undefined
      ? { maxPendingDeliveries: args.maxPendingDeliveries }
      : {}),
    ...(args.messageCacheTtlMs !== undefined
      ? { plumtree: { messageCacheTtlMs: args.messageCacheTtlMs } }
      : {}),
  });
  let server: Server | null = null;
  let http: string | undefined;
  // Stops reading stdin once the reader exists.
  let closeInput = (): void => {};
  let leaving = false;
  // Listening from right after start (which has joined `--join`): a signal from now on is a
  // graceful leave, also while the HTTP API binds, before `ready`.
  let resolveStopped!: (code: number) => void;
  const stopped = new Promise<number>((r) => (resolveStopped = r));
  const disposeSignals = onShutdownSignals(() => {
    leaving = true;
    closeInput();
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
      .then(() => {
        disposeSignals();
        resolveStopped(0);
      });
  });
  const swim = node.swimNode;
  const addrOf = (from: string): string =>
    swim.allMembers().find((m) => m.address === from)?.name ?? from;
  const printMember = (event: string, m: { name: string; address: string }): void =>
    out({ event, node: m.name, addr: m.address }, `${event} ${m.name} ${m.address}`);
  // The members met during the join (start resolves once joined) raised their joins before
  // anyone listened: print them first, then every event from now on.
  for (const m of swim.members()) if (m.name !== swim.name) printMember('join', m);
  swim.events$.subscribe((e: SwimEvent) => {
    switch (e.type) {
      case 'member-join':
      case 'member-left':
      case 'member-failed':
      case 'member-update':
        printMember(MEMBER_EVENT_NAMES[e.type], e.member);
        break;
      case 'member-suspect':
        printSuspicion(e, out);
        break;
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
  // The hidden `drop-every N` (see the file header): 0 is a working build.
  const broken = { every: 0, count: 0 };
  const onDelivery = (d: Delivery): void => {
    if (printed.has(d)) return;
    printed.add(d);
    if (broken.every > 0 && ++broken.count % broken.every === 0) {
      out({ event: 'dropped', topic: d.topic, id: d.id }, `dropped ${d.topic} ${d.id}`);
      return;
    }
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
        ...(d.redelivered ? { redelivered: true } : {}),
      },
      `message ${d.topic} ${d.id} from ${d.receivedFrom} hops ${d.hops.toString()}: ${data}`,
    );
  };
  for (const t of subscribed) node.subscribe(t).subscribe({ next: onDelivery });
  node.durableEvents$.subscribe((e) => printDurableEvent(e, out));

  if (args.http) {
    server = await serveHttp(node, {
      host: args.http.host,
      port: args.http.port,
      token: args.httpToken,
      ...(fault !== undefined ? { fault } : {}),
    });
    http = joinHostPort(args.http.host, (server.address() as AddressInfo).port);
  }
  for (const w of startWarnings(args, http, fault === undefined))
    process.stderr.write(`plumtree agent: warning: ${w}\n`);
  const self = swim.localMember;
  out(
    { event: 'ready', node: self.name, addr: self.address, ...(http ? { http } : {}) },
    `ready ${self.name} ${self.address}${http ? ` http ${http}` : ''}`,
  );
  if (leaving) return stopped;
  const rl = createInterface({ input: process.stdin });
  closeInput = () => rl.close();
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
        const data = p[2] ?? '';
        node.publish(topic, Buffer.from(data, 'utf8')).then(
          (id) => out({ event: 'published', topic, id, data }, `published ${topic} ${id}`),
          (e: unknown) => {
            const error = (e as Error).message;
            if (args.json) out({ event: 'publish-error', topic, error, data }, '');
            process.stderr.write(`plumtree agent: publish ${topic}: ${error}\n`);
          },
        );
      } else if (introspect(node, cmd, (o) => out(o, JSON.stringify(o)))) {
        // answered
      } else if (cmd === 'drop-every' && /^\d+$/.test(rest.trim())) {
        broken.every = Number(rest.trim());
        broken.count = 0;
        out({ event: 'drop-every', n: broken.every }, `drop-every ${broken.every.toString()}`);
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
  return stopped;
}
