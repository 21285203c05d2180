/**
 * How a node comes onto the network, in order: bind the port (unless a transport is given) and
 * put the frame transport on it before SWIM starts, so the frame streams' first byte is owned
 * before any peer can learn of the node and dial it; start SWIM with the topic directory as its
 * delegate; then join the peers of the previous life and start Lazarus.
 */
import {
  DEFAULT_JOIN_RETRY,
  parseIp,
  UdpTcpTransport,
  withNodeHooks,
  type ResolvedSwimNodeOptions,
  type SwimNode,
  type SwimTransport,
} from '@plumtree/swim';
import type { TopicDirectory } from '../directory/index.js';
import { Lazarus, swimLazarusHost } from '../lazarus/index.js';
import type { NodePersistence } from '../persistence/node-persistence.js';
import { FrameTransport } from '../transport/index.js';
import type { ResolvedNodeOptions } from './plumtree-node-options.js';

/** The SWIM transport and the frame transport on its port. */
export interface NodeTransports {
  readonly transport: SwimTransport;
  readonly frames: FrameTransport;
}

/**
 * Bind the SWIM transport (or take the given one) and put the frame transport on its port;
 * `resolve` maps a peer's name to its address. Closes the transport when the frame transport
 * cannot be built.
 */
export async function openTransports(
  o: ResolvedNodeOptions,
  resolve: (peer: string) => string | undefined,
): Promise<NodeTransports> {
  let transport: SwimTransport;
  if (o.transport !== undefined) {
    transport = o.transport;
  } else {
    transport = await UdpTcpTransport.bind({
      bindAddr: o.bindAddr,
      bindPort: o.bindPort,
      maxPacketBytes: o.swim.config.udpBufferSize,
      streamTimeoutMs: o.swim.config.tcpTimeoutMs,
    });
    warnIfExposed(o);
  }
  try {
    const frames = new FrameTransport({
      transport,
      localName: o.name,
      resolve,
      sourceCheck: o.frameSourceCheck,
      // Once per refused (reason, name, source IP): the transport keeps the set of logged keys.
      log: (line) => process.emitWarning(`${o.name}: ${line}`, { code: 'PLUMTREE_FRAME_REFUSED' }),
      keyring: o.keyring,
      maxFrameBytes: o.maxFrameBytes,
      ...(o.maxQueueBytes !== undefined ? { maxQueueBytes: o.maxQueueBytes } : {}),
    });
    return { transport, frames };
  } catch (e) {
    await transport.close();
    throw e;
  }
}

/** Whether `ip` is a loopback address (127.0.0.0/8, ::1). */
function isLoopback(ip: string): boolean {
  const bytes = parseIp(ip);
  if (bytes === null) return false;
  if (bytes.length === 4) return bytes[0] === 127;
  return bytes.every((b, i) => b === (i === 15 ? 1 : 0));
}

/**
 * One warning at start for a node reachable from other hosts without keys: a host that reaches
 * the port can then join, read every frame and, from a member's address, send as that member.
 */
function warnIfExposed(o: ResolvedNodeOptions): void {
  if (o.keyring?.enabled === true || isLoopback(o.bindAddr)) return;
  process.emitWarning(
    `${o.name}: bound to ${o.bindAddr} without keys: frames and membership travel in clear and ` +
      'any host that reaches the port can join the cluster. Set `keys` (docs/security.md).',
    { code: 'PLUMTREE_NO_KEYS' },
  );
}

/**
 * SWIM's options: the node's, resolved at the edge, on `transport`, with the directory as
 * delegate (entries in push-pull state, the digest as meta and in every probe ack) and above the
 * incarnation of the previous life (`storedIncarnation`, 0 when none). Still resolved:
 * `SwimNode.start` checks nothing again.
 */
export function swimOptions(
  o: ResolvedNodeOptions,
  directory: TopicDirectory,
  transport: SwimTransport,
  seed: number,
  storedIncarnation: number,
): ResolvedSwimNodeOptions {
  return withNodeHooks(o.swim, {
    seeds: o.seeds,
    meta: directory.digest(),
    transport,
    seed,
    delegate: {
      // Every probe ack carries the directory digest too, so a prober notices a stale entry of
      // the member it probed within one probe round, even when the meta update's gossip missed
      // it (memberlist's broadcasts reach each member with probability ~1 - e^-retransmits).
      ackPayload: () => directory.digest(),
      localState: () => directory.encodeState(),
      mergeRemoteState: (state) => {
        directory.mergeState(state);
      },
    },
    ...(storedIncarnation > 0 ? { incarnation: storedIncarnation } : {}),
  });
}

/**
 * Join the static seeds and the stored peers of the previous life (so a node restarted without
 * seeds finds its cluster again; failures are fine, they may be gone) and start Lazarus over the
 * static seeds when it is enabled. Returns Lazarus, or null.
 */
export async function rejoin(
  o: ResolvedNodeOptions,
  swim: SwimNode,
  persistence: NodePersistence,
): Promise<Lazarus | null> {
  const explicit = new Set(o.seeds);
  const extra = persistence
    .joinCandidates(o.seeds, o.staticSeeds, swim.localMember.address)
    .filter((a) => !explicit.has(a));
  if (extra.length > 0) await swim.join(extra).catch(() => 0);
  if (o.staticSeeds.length === 0 || !o.lazarus.enabled) return null;
  const lazarus = new Lazarus(swimLazarusHost(swim), {
    seeds: o.staticSeeds,
    intervalMs: o.lazarus.intervalMs,
  });
  lazarus.start();
  return lazarus;
}

/** `PlumtreeNode.join`: SWIM's join with retry, then the join's members saved. */
export async function joinLater(
  swim: SwimNode,
  persistence: NodePersistence | undefined,
  seeds: readonly string[],
  timeoutMs: number,
): Promise<number> {
  if (seeds.length === 0) return 0;
  const answered = await swim.joinWithRetry(seeds, { timeoutMs, backoff: DEFAULT_JOIN_RETRY });
  await persistence?.savePeers();
  return answered;
}

/** Resolves once nothing waits in the frame transport's queues, or after `maxMs`. */
export async function waitForDrain(frames: FrameTransport, maxMs: number): Promise<void> {
  const until = Date.now() + maxMs;
  while (frames.stats().queuedBytes > 0 && Date.now() < until) {
    await new Promise<void>((resolve) => setTimeout(resolve, 10));
  }
}
