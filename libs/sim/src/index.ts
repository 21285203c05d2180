/**
 * `@plumtree/sim`: a deterministic discrete-event simulator that drives sans-IO broadcast
 * protocols (Plumtree and two baselines) at 10,000 nodes and measures the paper's metrics.
 */
export { floodingProtocol } from './baselines/flooding.js';
export type { FloodMessage, FloodingOptions } from './baselines/flooding.js';
export { gossipsubProtocol } from './baselines/gossipsub-mesh.js';
export type { GossipsubOptions, MeshMessage } from './baselines/gossipsub-mesh.js';
export { BroadcastLog } from './broadcast-log.js';
export { LatencyModel } from './latency-model.js';
export type { LatencyConfig } from './latency-model.js';
export { MembershipOracle } from './membership-oracle.js';
export type { CrashBatch, DetectionBucket, DetectionConfig } from './membership-oracle.js';
export { plumtreeProtocol } from './plumtree-protocol.js';
export type { SimEvent, SimProtocol, SimProtocolNode, SimTransmit } from './protocol-adapter.js';
export type { BroadcastMetrics, BroadcastPhase, MinMean, RunSummary } from './run-metrics.js';
export { runScenario } from './scenario.js';
export type { ScenarioConfig, ScenarioResult, TopicChoice } from './scenario.js';
export { Simulator } from './simulator.js';
export type { SimCounters, SimulatorOptions } from './simulator.js';
export { runFormationScenario } from './swim/formation-scenario.js';
export type { FormationResult, FormationScenarioConfig } from './swim/formation-scenario.js';
export { compareAwareness, detectionBoundMs, runSwimScenario } from './swim/swim-scenario.js';
export type {
  AwarenessComparison,
  CrashDetection,
  DetectionBound,
  FalsePositive,
  SwimScenarioConfig,
  SwimScenarioResult,
} from './swim/swim-scenario.js';
export type { SimTopic, TopicLayout } from './topic-layout.js';
