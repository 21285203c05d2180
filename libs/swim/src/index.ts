/**
 * @plumtree/swim: SWIM membership speaking HashiCorp memberlist's wire protocol.
 * One export line per module: the wire codec below; protocol/ and transport/ add theirs.
 */
export * from './wire/index.js';
export * from './protocol/index.js';
export * from './config/index.js';
export * from './transport/index.js';
export * from './node/index.js';
