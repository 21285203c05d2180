/**
 * @plumtree/testing: clusters of Nest applications for users' jest e2e tests.
 */
export { TEST_CLUSTER_SWIM, TEST_LEAVE_TIMEOUT_MS } from './test-cluster-options.js';
export type { ModuleImport, TestClusterOptions, TestNodeInfo } from './test-cluster-options.js';
export { TestCluster, createTestCluster } from './test-cluster.js';
export type { LossOptions, NextMessageOptions, TestApp } from './test-cluster.js';
export { TestClusterTimeoutError, pollUntil } from './wait-until.js';
export type { PollOptions } from './wait-until.js';
