import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'test/go/**'] },
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
  {
    // Test support (test/) is for tests only: a product file importing it would compile it into
    // dist/ (tsconfig.build.json builds libs/ and apps/ and whatever they import).
    files: ['libs/**/*.ts', 'apps/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)test/',
              message:
                'Product code cannot import the test support of test/ (it would ship in dist/).',
            },
          ],
        },
      ],
    },
  },
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
