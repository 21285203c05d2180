/**
 * `@plumtree/sim`: a deterministic discrete-event simulator that drives sans-IO broadcast
 * protocols (Plumtree and two baselines) at 10,000 nodes and measures the paper's metrics.
 */
export type { DataCopy } from './baselines/baseline-node.js';
export { floodingProtocol } from './baselines/flooding.js';
export type { FloodData, FloodLink, FloodMessage, FloodingOptions } from './baselines/flooding.js';
export { gossipsubProtocol } from './baselines/gossipsub-mesh.js';
export type {
  GossipsubOptions,
  MeshData,
  MeshGraft,
  MeshIHave,
  MeshIWant,
  MeshMessage,
  MeshPrune,
} from './baselines/gossipsub-mesh.js';
export type { LatencyConfig } from './latency-model.js';
export type { DetectionConfig } from './membership-oracle.js';
export { plumtreeProtocol } from './plumtree-protocol.js';
export type { SimEvent, SimProtocol, SimProtocolNode, SimTransmit } from './protocol-adapter.js';
export type { BroadcastMetrics, BroadcastPhase, MinMean, RunSummary } from './run-metrics.js';
export { runScenario } from './scenario.js';
export type { ScenarioConfig, ScenarioResult, TopicChoice } from './scenario.js';
export type { SimCounters } from './simulator.js';
export { runSwimScenario } from './swim/swim-scenario.js';
export type {
  CrashDetection,
  DetectionBound,
  FalsePositive,
  SwimScenarioConfig,
  SwimScenarioResult,
} from './swim/swim-scenario.js';
