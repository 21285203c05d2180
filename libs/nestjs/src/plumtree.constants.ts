/**
 * Tokens and keys of the NestJS transport.
 */

/** The transport id of {@link PlumtreeServer} (`server.transportId`): a unique Symbol, as Nest asks of custom transports. */
export const PLUMTREE_TRANSPORT: unique symbol = Symbol('PLUMTREE_TRANSPORT');

/** Metadata key written by `@PlumtreeSubscribe` (a Symbol, so it never collides with another library's). */
export const PLUMTREE_SUBSCRIBE_METADATA: unique symbol = Symbol('plumtree:subscribe');

/** Injection token of the node reference the module's providers share. */
export const PLUMTREE_NODE_REF: unique symbol = Symbol('plumtree:node-ref');

/**
 * Prefix of the headers that carry Nest packet metadata (`ClientProxy#setOnDispatchHook`) on
 * published events; `PlumtreeContext.getMetadata()` strips it, `getHeaders()` leaves them out.
 */
export const METADATA_HEADER_PREFIX = 'nest-meta:';
