/**
 * @plumtree/swim: SWIM membership speaking HashiCorp memberlist's wire protocol.
 * One export line per module: the sans-IO half (wire codec, protocol core, config; also
 * `@plumtree/swim/sans-io` on its own), then the transports and the node that drive it.
 */
export * from './sans-io.js';
export * from './transport/index.js';
export * from './node/index.js';
