/**
 * @plumtree/swim/sans-io: SWIM without sockets or timers (the wire codec, the protocol core and
 * its config), for drivers that bring their own IO and clock, such as the simulator (libs/sim).
 */
export * from './wire/index.js';
export * from './protocol/index.js';
export * from './config/index.js';
