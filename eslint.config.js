import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';

// The packages of libs/, each with the packages it may import, lowest first: a package never
// imports one above it or beside it. apps/ may import any of them. Between packages only by
// package name (their `exports`); never a relative path or a file inside another package.
const LAYERS = {
  common: [],
  plumtree: ['common'],
  swim: ['common'],
  store: ['common'],
  sim: ['common', 'plumtree', 'swim'],
  cluster: ['common', 'plumtree', 'store', 'swim'],
  nestjs: ['common', 'plumtree', 'store', 'swim', 'cluster'],
  'local-cluster': ['common', 'plumtree', 'store', 'swim', 'cluster', 'nestjs'],
  testing: ['common', 'plumtree', 'store', 'swim', 'cluster', 'nestjs'],
};

// The sans-IO cores: they import no module that reaches the network, files, processes, timers,
// the clock or randomness (Node's, RxJS's schedulers, or a package that opens sockets); the
// shells around them inject all of that. SWIM's core is @plumtree/swim/sans-io.
const SANS_IO = ['libs/plumtree/src', 'libs/swim/src/protocol', 'libs/sim/src'];
const RUNTIME_MODULES = [
  'child_process',
  'cluster',
  'crypto',
  'dgram',
  'dns',
  'fs',
  'fs/promises',
  'http',
  'http2',
  'https',
  'inspector',
  'net',
  'os',
  'perf_hooks',
  'process',
  'readline',
  'timers',
  'timers/promises',
  'tls',
  'worker_threads',
];

/** The `no-restricted-imports` of a file of `pkg` (undefined: an app). */
function restrictedImports(pkg, { product, sansIo }) {
  const patterns = [
    {
      // The two subpath exports: SWIM's sans-IO core and the Nest package's terminus indicator.
      regex: '^@plumtree/(?!swim/sans-io$|nestjs/health$)[^/]+/',
      message: 'Import a package by its name (its `exports`), never a file inside it.',
    },
  ];
  if (pkg !== undefined) {
    const allowed = LAYERS[pkg];
    const above = Object.keys(LAYERS).filter((p) => p !== pkg && !allowed.includes(p));
    patterns.push({
      regex: `^@plumtree/(${above.join('|')})(/|$)`,
      message: `libs/${pkg} may import ${allowed.map((p) => `@plumtree/${p}`).join(', ') || 'no other package'} only: a package never imports one above or beside it (LAYERS in eslint.config.js).`,
    });
  }
  if (product) {
    // Test support (test/) is for tests only: a product file importing it would compile it into
    // dist/ (each package's tsconfig.build.json builds its src/ and whatever it imports).
    patterns.push({
      regex: '(^|/)test/',
      message: 'Product code cannot import the test support of test/ (it would ship in dist/).',
    });
  }
  if (sansIo) {
    patterns.push(
      {
        regex: `^(node:)?(${RUNTIME_MODULES.join('|')})$`,
        message: 'A sans-IO core imports no runtime module: time, randomness and IO are injected.',
      },
      { regex: '^rxjs', message: 'A sans-IO core has no streams or schedulers: it is polled.' },
      {
        regex: '^@plumtree/swim$',
        message: 'A sans-IO core takes SWIM from @plumtree/swim/sans-io (the root brings sockets).',
      },
    );
  }
  return ['error', { patterns }];
}

const APPS = ['bench', 'cli', 'pubsub', 'soak', 'web-chat'];

/**
 * No relative path into another package (its src/ or test-support/; tests of test/ may), and
 * SWIM's sans-IO core never reaching its own runtime. A package name resolves to dist/ through
 * `exports`, so these zones see relative reach-ins only.
 */
function pathZones() {
  const internals = (dir) => [`./${dir}/src`, `./${dir}/test-support`];
  const dirs = [...Object.keys(LAYERS).map((p) => `libs/${p}`), ...APPS.map((a) => `apps/${a}`)];
  // The one reach between apps: the fault harness (apps/soak) waits with the benches' bounded
  // polling (apps/bench/src/wait-until.ts); neither app is a package, and apps/soak's build
  // references apps/bench. Nothing else of apps/bench is open to it.
  const shared = { target: 'apps/soak', from: 'apps/bench', file: './wait-until.ts' };
  return [
    ...dirs.map((dir) => ({
      target: `./${dir}`,
      from: dirs
        .filter((d) => d !== dir && !(dir === shared.target && d === shared.from))
        .flatMap(internals),
      message: 'Import another package by its name, never a relative path into it.',
    })),
    {
      target: `./${shared.target}`,
      from: [`./${shared.from}/src`],
      except: [shared.file],
      message: 'Import another package by its name, never a relative path into it.',
    },
    {
      target: `./${shared.target}`,
      from: [`./${shared.from}/test-support`],
      message: 'Import another package by its name, never a relative path into it.',
    },
    {
      target: './libs/swim/src/protocol',
      from: ['./libs/swim/src/node', './libs/swim/src/transport'],
      message: "SWIM's sans-IO core never imports its runtime (node/, transport/).",
    },
  ];
}

/** The import rules: layering, no reach into another package, sans-IO cores, test support. */
function layering() {
  const blocks = [
    {
      files: ['libs/**/*.ts', 'apps/**/*.ts'],
      plugins: { 'import-x': importX },
      settings: {
        // Sources import `./x.js` for `./x.ts` (nodenext); the resolver maps them back.
        'import-x/resolver-next': [
          createNodeResolver({ extensionAlias: { '.js': ['.ts', '.js'] } }),
        ],
      },
      rules: {
        'import-x/no-restricted-paths': ['error', { zones: pathZones() }],
        'no-restricted-imports': restrictedImports(undefined, { product: false, sansIo: false }),
      },
    },
    {
      files: ['apps/**/*.ts'],
      ignores: ['**/*.spec.ts'],
      rules: {
        'no-restricted-imports': restrictedImports(undefined, { product: true, sansIo: false }),
      },
    },
  ];
  for (const pkg of Object.keys(LAYERS)) {
    const sansIo = SANS_IO.filter((dir) => dir.startsWith(`libs/${pkg}/`));
    blocks.push(
      {
        files: [`libs/${pkg}/**/*.ts`],
        rules: {
          'no-restricted-imports': restrictedImports(pkg, { product: false, sansIo: false }),
        },
      },
      {
        files: [`libs/${pkg}/src/**/*.ts`],
        ignores: ['**/*.spec.ts', ...sansIo.map((dir) => `${dir}/**`)],
        rules: {
          'no-restricted-imports': restrictedImports(pkg, { product: true, sansIo: false }),
        },
      },
    );
    if (sansIo.length > 0) {
      blocks.push({
        files: sansIo.map((dir) => `${dir}/**/*.ts`),
        ignores: ['**/*.spec.ts'],
        rules: { 'no-restricted-imports': restrictedImports(pkg, { product: true, sansIo: true }) },
      });
    }
  }
  return blocks;
}

export default tseslint.config(
  { ignores: ['**/dist/**', 'node_modules/**', 'coverage/**', 'test/go/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: { globals: { console: 'readonly', process: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    // The web chat's page: plain ES modules run by the browser (no bundler).
    files: ['apps/web-chat/public/**/*.js'],
    languageOptions: {
      globals: {
        window: 'readonly',
        document: 'readonly',
        localStorage: 'readonly',
        fetch: 'readonly',
        EventSource: 'readonly',
        Node: 'readonly',
        ResizeObserver: 'readonly',
        requestAnimationFrame: 'readonly',
      },
    },
  },
  ...layering(),
  {
    // The sans-IO rule: protocol cores (and libs/common, under them) never read the clock, draw
    // randomness or set timers; time is an argument and randomness a seeded RNG, so a seed replays a run.
    files: [
      'libs/common/src/**/*.ts',
      'libs/plumtree/src/**/*.ts',
      'libs/swim/src/protocol/**/*.ts',
      'libs/sim/src/**/*.ts',
    ],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random', message: 'Use the injected Rng.' },
        { object: 'Date', property: 'now', message: 'Use the nowMs argument.' },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'Cores are sans-IO: expose a deadline instead.' },
        { name: 'setInterval', message: 'Cores are sans-IO: expose a deadline instead.' },
      ],
    },
  },
);
