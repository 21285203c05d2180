/**
 * A node's counters as the supervisor shows them (`NodeCounters`, protocol.ts), from its
 * `stats()`. Payloads received are counted in messages, not frames: a GOSSIP_RUN frame carries
 * many messages, so `frames received - duplicates` undercounts first copies in a burst and the
 * view's RMR (cluster-view.ts) came out wrong, even negative.
 */
import type { PlumtreeNodeStats } from '@plumtree/cluster';
import type { NodeCounters } from '../protocol.js';

/** `published`: the room app's own publishes; `packetsLost`: the loss fault's count. */
export function nodeCounters(
  s: PlumtreeNodeStats,
  published: number,
  packetsLost: number,
): NodeCounters {
  return {
    published,
    delivered: s.core.delivered,
    duplicates: s.core.duplicates,
    gossipSent: s.node.framesSent.gossip,
    // First copies from peers (every delivery but the node's own publishes and the hand-offs it
    // injected, both counted as broadcasts) plus the copies received again.
    gossipReceived: s.core.delivered - s.core.broadcasts + s.core.duplicates,
    ihaveSent: s.node.framesSent.ihave,
    graftsSent: s.node.framesSent.graft,
    prunesSent: s.node.framesSent.prune,
    framesDropped: s.node.framesDroppedByFilter,
    packetsLost,
  };
}
