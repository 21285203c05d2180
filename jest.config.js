// Jest 30 + ts-jest in ESM mode: Nest 12 ships only ESM, and CommonJS mode cannot load it on Node 20.
// Three tiers, each a jest project: unit (fast, pure), sim (seeded simulations), e2e (real sockets).
const tsJest = [
  'ts-jest',
  { useESM: true, tsconfig: '<rootDir>/tsconfig.json', diagnostics: { warnOnly: false } },
];
const common = {
  preset: undefined,
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': tsJest },
  moduleNameMapper: {
    '^@plumtree/([a-z-]+)$': '<rootDir>/libs/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
};
export default {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/apps/**/*.spec.ts'],
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
  ],
};
