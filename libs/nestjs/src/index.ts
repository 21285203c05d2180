/**
 * @plumtree/nestjs: the NestJS transport (server, client, module, decorators, context).
 */
export {};
