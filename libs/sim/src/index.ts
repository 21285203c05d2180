/**
 * `@plumtree/sim`: a deterministic discrete-event simulator that drives sans-IO broadcast
 * protocols (Plumtree and two baselines) at 10,000 nodes and measures the paper's metrics.
 */
export { EventHeap } from './event-heap.js';
export { LatencyModel, DEFAULT_LATENCY, type LatencyConfig } from './latency-model.js';
export {
  MembershipOracle,
  DEFAULT_DETECTION,
  type DetectionConfig,
  type CrashBatch,
  type DetectionBucket,
} from './membership-oracle.js';
export { SimTopicView } from './topic-view.js';
export {
  zipfSubscriberCounts,
  buildTopicLayout,
  type SimTopic,
  type TopicLayout,
} from './topic-layout.js';
export { deriveSeed, streamRng, SeedStream } from './seeds.js';
export type { SimProtocol, SimProtocolNode, SimEvent, SimTransmit } from './protocol-adapter.js';
export { BroadcastLog } from './broadcast-log.js';
export { Simulator, type SimulatorOptions, type SimCounters } from './simulator.js';
export {
  broadcastMetrics,
  summarizeRun,
  type BroadcastMetrics,
  type BroadcastPhase,
  type MinMean,
  type RunSummary,
} from './run-metrics.js';
export {
  runScenario,
  SCENARIO_DEFAULTS,
  type ScenarioConfig,
  type ScenarioResult,
  type TopicChoice,
} from './scenario.js';
export { floodingProtocol, type FloodingOptions, type FloodMessage } from './baselines/flooding.js';
export {
  gossipsubProtocol,
  GOSSIPSUB_DEFAULTS,
  type GossipsubOptions,
  type MeshMessage,
} from './baselines/gossipsub-mesh.js';
export { plumtreeProtocol } from './plumtree-protocol.js';
export * from './swim/index.js';
