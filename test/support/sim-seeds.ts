/**
 * The seeds every simulation test runs with. One seed shows one run: a property a test asserts
 * must hold for several, or it may hold by accident. Three keeps `npm run test:sim` short enough
 * for CI; a test that needs other seeds (a replay compared with the next seed) derives them.
 */
export const SIM_SEEDS = [1, 2, 3] as const;
