/**
 * Health of the Plumtree node for @nestjs/terminus.
 */
export * from './plumtree-health-check.js';
export * from './plumtree.health.js';
