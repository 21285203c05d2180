/**
 * What a subscriber receives: deliveries and node events, payload codecs, message ids. The
 * subscriptions engine and the delivery queue stay internal.
 */
export * from './payload-codec.js';
export * from './message-id.js';
export * from './delivery.js';
