import { PlumtreeConfig } from '@plumtree/plumtree';
import {
  floodingProtocol,
  gossipsubProtocol,
  plumtreeProtocol,
  type SimProtocol,
} from '@plumtree/sim';
import type { ProtocolName, SimBenchOptions } from './cli-options.js';

/**
 * The simulator protocol of that name. Flooding uses the overlay Plumtree starts from: each node
 * opens `eagerFanout` links of the chosen preset (symmetric), all eager.
 */
export function protocolFor(
  name: ProtocolName,
  preset: SimBenchOptions['preset'],
): SimProtocol<unknown> {
  const config = PlumtreeConfig.preset(preset);
  switch (name) {
    case 'plumtree':
      return plumtreeProtocol(config) as SimProtocol<unknown>;
    case 'flood':
      return floodingProtocol({
        neighbours: config.eagerFanout,
      }) as SimProtocol<unknown>;
    case 'gossipsub':
      return gossipsubProtocol() as SimProtocol<unknown>;
  }
}
