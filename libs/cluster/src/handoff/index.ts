/** Hand-off frames (0x80). The engine stays internal. */
export * from './handoff-codec.js';
