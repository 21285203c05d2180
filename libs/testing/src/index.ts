/**
 * @plumtree/testing: clusters of Nest applications for users' jest e2e tests.
 */
export * from './wait-until.js';
export * from './convergence.js';
export * from './test-cluster-options.js';
export * from './test-cluster.js';
