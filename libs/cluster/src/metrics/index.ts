/**
 * Prometheus metrics of a node (prom-client): `createPlumtreeMetrics(node)`; every family is
 * listed in docs/metrics.md.
 */
export {
  createPlumtreeMetrics,
  GRAFT_LATENCY_BUCKETS,
  type PlumtreeMetrics,
  type PlumtreeMetricsOptions,
} from './plumtree-metrics.js';
export { POLLED_FAMILIES, type PolledFamily } from './metric-families.js';
export { GRAFT_TIMER_CAP } from './graft-timer.js';
