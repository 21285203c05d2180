/** Prometheus metrics of the module's node (see plumtree-metrics.module.ts). */
export * from './plumtree-metrics.module.js';
