/** Request/reply: the engine's public types, its frames (0x81/0x82) and its typed errors. */
export * from './rpc-codec.js';
export * from './rpc-errors.js';
export * from './rpc.js';
