/**
 * @plumtree/nestjs: the NestJS transport (server, client, module, service, decorator, context).
 */
export * from './plumtree.constants.js';
export * from './plumtree.errors.js';
export * from './plumtree-module-options.js';
export * from './plumtree.context.js';
export * from './plumtree.server.js';
export * from './plumtree.client.js';
export * from './plumtree-record.builder.js';
export * from './plumtree.service.js';
export * from './plumtree-subscribe.decorator.js';
export * from './plumtree-subscriber.explorer.js';
export * from './plumtree.module.js';
export * from './node-ref.js';
export * from './dto-validation.js';
export { startPlumtreeNode } from './start-node.js';
export * from './health/index.js';
