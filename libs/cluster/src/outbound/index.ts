/**
 * The parts of the outbound path that tests and tools build on: the frame encoder and the
 * backlog of refused control frames. The engine and the reply sender stay internal.
 */
export * from './frame-encoder.js';
export * from './deferred-control.js';
