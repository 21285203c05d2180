/**
 * A node's start sequence, in order: the store (a second process on the same data directory
 * fails before binding anything), the frame transport on the SWIM port, SWIM with the directory
 * as its delegate, then the pinned topics, the first announcement and view refresh, the peers of
 * the previous life and Lazarus (node-network.ts has each network step). A failed step closes
 * what the steps before it opened and completes the node's observables.
 */
import { SwimNode, type SwimMember } from '@plumtree/swim';
import { isPattern, type TopicDirectory } from '../directory/index.js';
import type { Lazarus } from '../lazarus/index.js';
import { NodePersistence } from '../persistence/node-persistence.js';
import type { FrameTransport } from '../transport/index.js';
import type { NodeEngines } from './node-engines.js';
import type { NodeLifecycle } from './node-lifecycle.js';
import { openTransports, rejoin, swimOptions } from './node-network.js';
import type { ResolvedNodeOptions } from './plumtree-node-options.js';

/**
 * The parts a node gets while it starts, each set as soon as it exists: the engines reach them
 * through the node from then on (`NodeParts`).
 */
export class BootedParts {
  /** The store (undefined until it is open). */
  persistence: NodePersistence | undefined;
  /** The frame transport (from the transports' opening on). */
  frames!: FrameTransport;
  /** SWIM (from its start on). */
  swim!: SwimNode;
  /** Lazarus, when static seeds are configured and it is enabled. */
  lazarus: Lazarus | null = null;
}

/** What the start sequence needs of its node. */
export interface BootHost {
  readonly options: ResolvedNodeOptions;
  readonly life: NodeLifecycle;
  readonly directory: TopicDirectory;
  readonly engines: NodeEngines;
  readonly parts: BootedParts;
  /** SWIM's alive and suspect members changed (the node's `members$`). */
  membersChanged(members: SwimMember[]): void;
  /** Complete the node's observables: the start failed. */
  completeSubjects(): void;
}

/** Run the start sequence (see the file comment); rejects with the first step's failure. */
export async function bootNode(host: BootHost, seed: number): Promise<void> {
  const o = host.options;
  let persistence: NodePersistence;
  // The store first: a second process on the same dataDir fails before binding anything.
  try {
    persistence = host.parts.persistence = await NodePersistence.open(o.dataDir, o.durable);
  } catch (e) {
    host.life.closed = true;
    // A transport handed in belongs to the node from `start` on, as on every other failure.
    await o.transport?.close();
    host.completeSubjects();
    throw e;
  }
  try {
    await bootNetwork(host, seed, persistence);
  } catch (e) {
    host.engines.durable.close();
    await persistence.close();
    throw e;
  }
}

async function bootNetwork(
  host: BootHost,
  seed: number,
  persistence: NodePersistence,
): Promise<void> {
  const { options: o, engines, parts } = host;
  engines.deliveries.pin(o.topics, Date.now());
  const { transport, frames } = await openTransports(o, (peer) => engines.addressOf(peer));
  parts.frames = frames;
  frames.onFrame(engines.onFrame);
  frames.beforeFlush(engines.outbound.flushWaiting);
  frames.onPressure((_peer, high) => {
    if (!high) engines.window.relieved();
  });
  frames.onPeerState((peer, up) => engines.onPeerState(peer, up));
  try {
    parts.swim = await SwimNode.start(
      swimOptions(o, host.directory, transport, seed, persistence.storedIncarnation),
    );
  } catch (e) {
    host.life.closed = true;
    await frames.close();
    await transport.close();
    host.completeSubjects();
    throw e;
  }
  const swim = parts.swim;
  host.life.started = true;
  swim.events$.subscribe({ next: (e) => engines.onSwimEvent(e) });
  swim.members$.subscribe({ next: (m) => host.membersChanged(m) });
  // Frame connections from members met during the join waited for SWIM to start.
  frames.membersChanged();
  // Members met during the join raised their events before anyone listened: start from now.
  for (const t of o.topics) if (!isPattern(t)) engines.trees.join(t);
  engines.sync.announce();
  engines.sync.refresh();
  // The members of the join are on disk before `start` resolves (see NodePersistence.attach).
  await persistence.attach(swim);
  parts.lazarus = await rejoin(o, swim, persistence);
  engines.durable.startTrimming();
}
