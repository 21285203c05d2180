// Jest 30 + ts-jest in ESM mode: Nest 12 ships only ESM, and CommonJS mode cannot load it on Node 20.
// Three tiers, each a jest project: unit (fast, pure), sim (seeded simulations), e2e (real sockets);
// interop (Go memberlist peers) and faults (network namespaces, root) run on their own.
const tsJest = [
  'ts-jest',
  { useESM: true, tsconfig: '<rootDir>/tsconfig.json', diagnostics: { warnOnly: false } },
];
const common = {
  preset: undefined,
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': tsJest },
  // The builds (libs/*/dist, apps/cli/dist, dist/apps) are not for jest: tests run the sources.
  modulePathIgnorePatterns: [
    '<rootDir>/dist/',
    '<rootDir>/libs/[^/]+/dist/',
    '<rootDir>/apps/[^/]+/dist/',
  ],
  moduleNameMapper: {
    '^@plumtree/([a-z-]+)$': '<rootDir>/libs/$1/src/index.ts',
    '^@plumtree/([a-z-]+)/([a-z-]+)$': '<rootDir>/libs/$1/src/$2.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
};
export default {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: [
        '<rootDir>/libs/**/*.spec.ts',
        '<rootDir>/apps/**/*.spec.ts',
        '<rootDir>/test/lint/**/*.test.ts',
      ],
    },
    { ...common, displayName: 'sim', testMatch: ['<rootDir>/test/sim/**/*.test.ts'] },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
      // Builds dist/ once for the suites that spawn CLI processes (see the file); a failed build
      // fails the run.
      globalSetup: '<rootDir>/test/support/build-dist.ts',
    },
    { ...common, displayName: 'interop', testMatch: ['<rootDir>/test/interop/**/*.test.ts'] },
    {
      ...common,
      displayName: 'faults',
      testMatch: ['<rootDir>/test/faults/**/*.test.ts'],
      // Agents run from dist/ (see the file); run with --runInBand: one lab at a time.
      globalSetup: '<rootDir>/test/support/build-dist.ts',
    },
    // Attacks on a node started with the documented defaults: forged frames from non-members,
    // floods, random bytes on both ports, the HTTP API without a token (npm run test:adversarial;
    // in npm test). Builds dist/ for the suites that spawn CLI agents.
    {
      ...common,
      displayName: 'adversarial',
      testMatch: ['<rootDir>/test/adversarial/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/build-dist.ts',
    },
    // The packed packages installed into an app outside the repository, Nest from the registry
    // (npm run test:consumer; .ci/run).
    { ...common, displayName: 'consumer', testMatch: ['<rootDir>/test/consumer/**/*.test.ts'] },
  ],
};
