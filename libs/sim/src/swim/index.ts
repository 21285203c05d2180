/** SWIM on the simulator: the driver of real SwimCores and the failure-detection scenarios. */
export * from './swim-simulator.js';
export * from './swim-scenario.js';
export * from './formation-scenario.js';
