import {
  FrameType,
  Plumtree,
  PlumtreeConfig,
  type MessageId,
  type PlumtreeMessage,
} from '@plumtree/plumtree';
import type { SimProtocol } from './protocol-adapter.js';

/**
 * The Plumtree core (`@plumtree/plumtree`) as a simulator protocol. The core already has the
 * simulator's sans-IO shape, so nodes are plain `Plumtree` instances (epoch 0); message objects
 * travel between nodes unencoded. Payload frames are GOSSIP frames, GRAFT answers included.
 */
export function plumtreeProtocol(
  config: PlumtreeConfig = PlumtreeConfig.lan(),
): SimProtocol<PlumtreeMessage> {
  return {
    name: 'plumtree',
    createNode: (self, rng) => new Plumtree({ self, epoch: 0, rng, config }),
    topicOf: (msg) => msg.topic,
    payloadIdOf: (msg): MessageId | undefined =>
      msg.type === FrameType.Gossip ? msg.id : undefined,
  };
}
