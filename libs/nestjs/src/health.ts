/**
 * @plumtree/nestjs/health: the node's health for `@nestjs/terminus` (docs/nestjs.md, "Health").
 *
 * A subpath of its own because terminus is an optional peer dependency: `@plumtree/nestjs`
 * itself never loads it, so an app without terminus installed imports the module, server and
 * client from the package root (api/nestjs-health.api.md is this entry's report).
 */
export type { HealthCheckedNode } from './health/plumtree-health-check.js';
export { PlumtreeHealthIndicator } from './health/plumtree.health.js';
export type { PlumtreeHealthOptions } from './health/plumtree.health.js';
