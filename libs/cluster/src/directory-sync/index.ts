/** A topic's view as the Plumtree core samples it. The sync engine stays internal. */
export * from './topic-peers.js';
