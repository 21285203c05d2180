/** Plumtree frames counted by type (`stats().node.framesReceived` and `framesSent`). */
import { FrameType, type FrameCounters } from '@plumtree/plumtree';

/** The counter of each frame type. */
const COUNTER: Readonly<Record<FrameType, keyof FrameCounters>> = {
  [FrameType.Gossip]: 'gossip',
  [FrameType.IHave]: 'ihave',
  [FrameType.Graft]: 'graft',
  [FrameType.Prune]: 'prune',
  // A run carries payloads: it is a GOSSIP frame to the counters.
  [FrameType.GossipRun]: 'gossip',
};

/** All four counts at zero. */
export function zeroFrames(): FrameCounters {
  return { gossip: 0, ihave: 0, graft: 0, prune: 0 };
}

/** Count one frame of `type`. */
export function countFrame(c: FrameCounters, type: FrameType): void {
  c[COUNTER[type]]++;
}
