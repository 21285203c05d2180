/** Configuration of the SWIM core: memberlist's presets, validated. */
export * from './swim-config.js';
