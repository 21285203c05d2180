/**
 * Injection tokens of the pubsub example.
 */

/** The `ClientProxy` (a `PlumtreeClient`) registered with `ClientsModule`. */
export const PUBSUB_CLIENT = 'PUBSUB_CLIENT';

/** The {@link PubsubConfig} the app runs with. */
export const PUBSUB_CONFIG = 'PUBSUB_CONFIG';
