/**
 * Our transport's endpoints for `bench:compare` (imported only by the children of our runs):
 * `PlumtreeServer` / `PlumtreeClient` with `swim: { preset: 'local' }` (memberlist's loopback
 * timers) and `persistence: false` (the run measures the transport, not the store).
 * `ours-tree`: the client's node subscribes to the pattern (`topics`), so it publishes into the
 * tree it is part of; `ours-handoff`: it does not, so each publish is handed to a subscriber,
 * which injects it.
 */
import type { PlumtreeNode } from '@plumtree/cluster';
import { PlumtreeClient, PlumtreeServer, type PlumtreeModuleOptions } from '@plumtree/nestjs';
import { PATTERN, type ChildConfig, type InFlight } from './compare-protocol.js';
import type { Endpoint, TransportClient, TransportServer } from './transports.js';

function oursOptions(cfg: ChildConfig): PlumtreeModuleOptions {
  return {
    name: cfg.name,
    bindAddr: '127.0.0.1',
    bindPort: 0,
    seeds: cfg.seeds,
    swim: { preset: 'local' },
    persistence: false,
    keys: [...cfg.keys],
    // BENCH_IHAVE_REPEATS=n measures the node option's cost (docs/performance.md, ihaveRepeats).
    ...(IHAVE_REPEATS !== undefined ? { plumtree: { ihaveRepeats: Number(IHAVE_REPEATS) } } : {}),
  };
}

const IHAVE_REPEATS = process.env['BENCH_IHAVE_REPEATS'];

/** What the node still holds that can become a delivery. */
function inFlight(node: PlumtreeNode): InFlight {
  const s = node.stats();
  return {
    type: 'in-flight',
    missing: s.core.missing,
    queuedDeliveries: s.node.deliveryQueue.pending,
    queuedBytes: s.transport.queuedBytes,
    givenUp: {
      graftsFailed: s.core.graftsFailed,
      graftsMissed: s.core.graftsMissed,
      missingEvicted: s.core.missingEvicted,
      missingOverBudget: s.core.missingOverBudget,
    },
  };
}

function endpoint<T extends PlumtreeServer | PlumtreeClient>(
  e: T,
  view: (node: PlumtreeNode) => number,
): Endpoint<T> {
  const node = (): PlumtreeNode => e.unwrap<PlumtreeNode>();
  return {
    endpoint: e,
    view: () => view(node()),
    inFlight: () => inFlight(node()),
    address: () => node().address,
  };
}

/** The topic's peers in this node's tree. */
const treePeers = (node: PlumtreeNode): number => node.stats().topics[PATTERN]?.peers ?? 0;

/** A subscriber's server. */
export function oursServer(cfg: ChildConfig): Endpoint<TransportServer> {
  return endpoint(new PlumtreeServer(oursOptions(cfg)), treePeers);
}

/** The publisher's client: in the tree (`ours-tree`) or handing off (`ours-handoff`). */
export function oursClient(cfg: ChildConfig): Endpoint<TransportClient> {
  return cfg.transport === 'ours-tree'
    ? endpoint(new PlumtreeClient({ ...oursOptions(cfg), topics: [PATTERN] }), treePeers)
    : endpoint(new PlumtreeClient(oursOptions(cfg)), (node) => node.subscribersOf(PATTERN).length);
}
