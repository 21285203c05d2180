/** The options of a publish. The message factory and the header checks stay internal. */
export type { PublishOptions } from './outgoing-messages.js';
