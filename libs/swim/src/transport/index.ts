/** Transports of a SWIM node: UDP + TCP on one port, and an in-memory network for tests. */
export * from './transport.js';
export type { TransportLimits } from './transport-base.js';
export * from './stream-reader.js';
export * from './udp-tcp-transport.js';
export * from './memory-network.js';
export * from './filtering-transport.js';
