/**
 * What a subscriber receives: deliveries and node events, payload codecs (and the error the
 * default one throws for values JSON cannot carry), message ids. The subscriptions engine and the
 * delivery queue stay internal.
 */
export * from './payload-codec.js';
export * from './json-payload.js';
export * from './message-id.js';
export * from './delivery.js';
