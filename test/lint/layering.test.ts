/**
 * The import rules of eslint.config.js (issue 17) fail where they must: a lower package importing
 * a higher one, a sans-IO core importing a runtime module, a relative path or a file path into
 * another package, SWIM's core reaching its own runtime; and they pass the imports the layering
 * allows. ESLint runs in a child process on source text given a file name, as `eslint .` does.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from '@jest/globals';
import { repoRoot } from '../support/build-dist.js';

interface Case {
  readonly file: string;
  readonly code: string;
  /** The rule that must report, or null when the import is allowed. */
  readonly rule: 'no-restricted-imports' | 'import-x/no-restricted-paths' | null;
}

const CASES: readonly Case[] = [
  // Layering between packages.
  {
    file: 'libs/common/src/x.ts',
    code: "import '@plumtree/cluster';",
    rule: 'no-restricted-imports',
  },
  {
    file: 'libs/swim/src/x.ts',
    code: "import '@plumtree/plumtree';",
    rule: 'no-restricted-imports',
  },
  {
    file: 'libs/cluster/src/x.ts',
    code: "import '@plumtree/nestjs';",
    rule: 'no-restricted-imports',
  },
  {
    file: 'libs/nestjs/src/x.ts',
    code: "import '@plumtree/testing';",
    rule: 'no-restricted-imports',
  },
  {
    file: 'libs/cluster/src/x.spec.ts',
    code: "import '@plumtree/nestjs';",
    rule: 'no-restricted-imports',
  },
  { file: 'libs/nestjs/src/x.ts', code: "import '@plumtree/cluster';", rule: null },
  { file: 'apps/cli/src/x.ts', code: "import '@plumtree/local-cluster';", rule: null },
  // Sans-IO cores.
  {
    file: 'libs/plumtree/src/core/x.ts',
    code: "import 'node:dgram';",
    rule: 'no-restricted-imports',
  },
  {
    file: 'libs/swim/src/protocol/x.ts',
    code: "import 'node:timers';",
    rule: 'no-restricted-imports',
  },
  { file: 'libs/sim/src/x.ts', code: "import 'rxjs';", rule: 'no-restricted-imports' },
  { file: 'libs/sim/src/x.ts', code: "import '@plumtree/swim';", rule: 'no-restricted-imports' },
  { file: 'libs/sim/src/x.ts', code: "import '@plumtree/swim/sans-io';", rule: null },
  { file: 'libs/swim/src/node/x.ts', code: "import 'node:dgram';", rule: null },
  {
    file: 'libs/swim/src/protocol/x.ts',
    code: "import '../transport/index.js';",
    rule: 'import-x/no-restricted-paths',
  },
  // No reach into another package.
  {
    file: 'libs/cluster/src/node/x.ts',
    code: "import '../../../plumtree/src/types.js';",
    rule: 'import-x/no-restricted-paths',
  },
  {
    file: 'apps/bench/src/codec/x.ts',
    code: "import '../../../../libs/plumtree/src/wire/index.js';",
    rule: 'import-x/no-restricted-paths',
  },
  {
    file: 'apps/cli/src/x.ts',
    code: "import '@plumtree/cluster/dist/index.js';",
    rule: 'no-restricted-imports',
  },
  { file: 'apps/cli/src/x.ts', code: "import '@plumtree/nestjs/health';", rule: null },
  {
    file: 'apps/cli/src/x.ts',
    code: "import '@plumtree/cluster/health';",
    rule: 'no-restricted-imports',
  },
];

/** Lints every case in one ESLint process; the rule ids reported per case. */
function lint(cases: readonly Case[]): string[][] {
  const script = `
    import { ESLint } from 'eslint';
    const eslint = new ESLint();
    const cases = JSON.parse(process.argv[1]);
    const out = [];
    for (const c of cases) {
      const [result] = await eslint.lintText(c.code, { filePath: c.file });
      out.push(result.messages.map((m) => m.ruleId ?? m.message));
    }
    process.stdout.write(JSON.stringify(out));
  `;
  const stdout = execFileSync(
    process.execPath,
    ['--input-type=module', '-e', script, JSON.stringify(cases)],
    { cwd: repoRoot, encoding: 'utf8' },
  );
  return JSON.parse(stdout) as string[][];
}

describe('the import rules of eslint.config.js', () => {
  it('report each forbidden import with its rule and pass the allowed ones', () => {
    const reported = lint(CASES);
    const got = CASES.map((c, i) => ({ file: c.file, code: c.code, rules: reported[i] }));
    const want = CASES.map((c) => ({ file: c.file, code: c.code, rules: c.rule ? [c.rule] : [] }));
    expect(got).toEqual(want);
  }, 60_000);
});
